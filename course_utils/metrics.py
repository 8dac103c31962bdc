"""Scores that back the lessons' claims: class separation, distances, errors, image quality.

Every function returns numbers; nothing here draws (that is ``plots``) or walks a latent space
(that is ``latent``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch

from course_utils.checks import check_images, model_device, positive_int, to_numpy

if TYPE_CHECKING:  # scikit-learn is imported only when a reader is built
    from sklearn.neighbors import KNeighborsClassifier


def _flat(points: torch.Tensor | np.ndarray) -> np.ndarray:
    """Points as a 2-D array (N, D): images are flattened to pixels."""
    array = to_numpy(points).astype(np.float32)
    if array.ndim < 2 or len(array) < 2:
        raise ValueError(f"Expected at least 2 points of shape (N, D) or (N, 1, H, W), got {array.shape}.")
    return array.reshape(len(array), -1)


# --- Class separation: do codes of one class sit together? ------------------------------------


def knn_predictions(
    points: torch.Tensor | np.ndarray, labels: torch.Tensor | np.ndarray, k: int = 5, folds: int = 5
) -> np.ndarray:
    """Each point's label as guessed by its k nearest neighbours (cross-validated, never itself)."""
    # Imported here, as in the other scikit-learn helpers: importing sklearn costs about 1.5 s,
    # which lessons that never call it should not pay.
    from sklearn.model_selection import cross_val_predict
    from sklearn.neighbors import KNeighborsClassifier

    features, targets = _flat(points), to_numpy(labels)
    if len(features) != len(targets):
        raise ValueError(f"{len(features)} points but {len(targets)} labels: they must match.")
    k = positive_int("k", k)
    return cross_val_predict(KNeighborsClassifier(n_neighbors=k), features, targets, cv=folds)


def accuracy(predicted: torch.Tensor | np.ndarray, labels: torch.Tensor | np.ndarray) -> float:
    """The share of predictions that equal the labels, in [0, 1]."""
    guesses, truth = to_numpy(predicted).ravel(), to_numpy(labels).ravel()
    if len(guesses) != len(truth) or len(truth) == 0:
        raise ValueError(f"{len(guesses)} predictions but {len(truth)} labels: pass one prediction per label.")
    return float(np.mean(guesses == truth))


def knn_accuracy(points: torch.Tensor | np.ndarray, labels: torch.Tensor | np.ndarray, k: int = 5) -> float:
    """How often a point's k nearest neighbours vote for its own class: a separation score in [0, 1]."""
    return accuracy(knn_predictions(points, labels, k), labels)


def per_class_accuracy(
    true: torch.Tensor | np.ndarray, predicted: np.ndarray, class_names: Sequence[str]
) -> dict[str, float]:
    """The fraction of each class that was predicted correctly, keyed by class name."""
    true = to_numpy(true)
    return {class_names[c]: float(np.mean(predicted[true == c] == c)) for c in np.unique(true)}


def top_confusions(
    true: torch.Tensor | np.ndarray, predicted: np.ndarray, class_names: Sequence[str], n: int = 5
) -> list[tuple[str, str, float]]:
    """The ``n`` most frequent (true class, mistaken for, share of that class) pairs."""
    true = to_numpy(true)
    pairs = []
    for a in np.unique(true):
        members = predicted[true == a]
        for b in np.unique(members):
            if b != a:
                pairs.append((class_names[a], class_names[b], float(np.mean(members == b))))
    return sorted(pairs, key=lambda pair: -pair[2])[:n]


def _check_labels(features: np.ndarray, labels: torch.Tensor | np.ndarray) -> np.ndarray:
    """Labels as an array, checked against the points and for at least two classes."""
    targets = to_numpy(labels)
    if len(features) != len(targets):
        raise ValueError(f"{len(features)} points but {len(targets)} labels: they must match.")
    if len(np.unique(targets)) < 2:
        raise ValueError("All points have the same label: separation needs at least two classes.")
    return targets


def silhouette(points: torch.Tensor | np.ndarray, labels: torch.Tensor | np.ndarray) -> float:
    """Mean silhouette of the classes, in [-1, 1]: near 1 = tight, well-separated classes; near 0 = overlap."""
    from sklearn.metrics import silhouette_score

    features = _flat(points)
    return float(silhouette_score(features, _check_labels(features, labels)))


def cluster_agreement(
    points: torch.Tensor | np.ndarray, labels: torch.Tensor | np.ndarray, seed: int = 0
) -> float:
    """k-means with one cluster per class, scored by normalized mutual information with the labels (0 to 1)."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import normalized_mutual_info_score
    from threadpoolctl import threadpool_limits

    features = _flat(points)
    targets = _check_labels(features, labels)
    kmeans = KMeans(n_clusters=len(np.unique(targets)), n_init=4, random_state=seed)
    with threadpool_limits(limits=1):  # on a busy CPU, waiting OpenMP threads made k-means 10x slower
        clusters = kmeans.fit_predict(features)
    return float(normalized_mutual_info_score(targets, clusters))


# --- Distances between images or codes --------------------------------------------------------


def nearest_distances(
    queries: torch.Tensor | np.ndarray, references: torch.Tensor | np.ndarray, chunk: int = 512
) -> np.ndarray:
    """Euclidean distance from each query to its nearest reference point (images are flattened)."""
    return nearest_neighbours(_flat(queries), _flat(references), chunk)[0]


def nearest_neighbours(queries: np.ndarray, references: np.ndarray, chunk: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """(distance, index) of each query's nearest reference, computed a chunk of queries at a time."""
    q, r = torch.from_numpy(queries), torch.from_numpy(references)
    if q.shape[1] != r.shape[1]:
        raise ValueError(f"Queries have {q.shape[1]} dimensions but references have {r.shape[1]}.")
    nearest = [torch.cdist(part, r).min(dim=1) for part in q.split(chunk)]
    distances = torch.cat([n.values for n in nearest]).numpy()
    return distances, torch.cat([n.indices for n in nearest]).numpy()


def nearest_indices(
    queries: torch.Tensor | np.ndarray, references: torch.Tensor | np.ndarray, chunk: int = 512
) -> np.ndarray:
    """Index of each query's nearest reference point, e.g. the garment hanging closest to a code."""
    points = to_numpy(queries).astype(np.float32)
    if points.ndim == 1:  # one query, such as a single coordinate (z1, z2)
        points = points[None]
    if points.ndim < 2 or len(points) == 0:
        raise ValueError(f"Expected queries of shape (N, D) or one point (D,), got {points.shape}.")
    return nearest_neighbours(points.reshape(len(points), -1), _flat(references), chunk)[1]


def k_nearest(points: torch.Tensor | np.ndarray, k: int = 5) -> np.ndarray:
    """Indices (N, k) of each point's k nearest other points, nearest first (a point is never its own neighbour)."""
    from sklearn.neighbors import NearestNeighbors

    features = _flat(points)
    k = positive_int("k", k, hint="(neighbours per point)")
    if k >= len(features):
        raise ValueError(f"k must be smaller than the number of points ({len(features)}), got {k}.")
    # Asked for k + 1 neighbours: the first is normally the point itself (distance 0), which is dropped.
    found = NearestNeighbors(n_neighbors=k + 1).fit(features).kneighbors(features, return_distance=False)
    own = found == np.arange(len(features))[:, None]
    own[~own.any(axis=1), -1] = True  # a duplicate may push the point itself out of the list: drop the last
    return found[~own].reshape(len(features), k)


def same_class_share(points: torch.Tensor | np.ndarray, labels: torch.Tensor | np.ndarray, k: int = 5) -> float:
    """The share of each point's k nearest other points that carry its class, averaged over all points."""
    targets = to_numpy(labels).ravel()
    if len(targets) != len(to_numpy(points)):
        raise ValueError(f"{len(to_numpy(points))} points but {len(targets)} labels: they must match.")
    return float(np.mean(targets[k_nearest(points, k)] == targets[:, None]))


def closest_same_class_mse(images: torch.Tensor, labels: torch.Tensor | np.ndarray) -> np.ndarray:
    """For each image, the MSE per pixel to the most similar *other* image of its class (inf if it has none)."""
    flat, targets = torch.as_tensor(_flat(images)), to_numpy(labels).ravel()
    if len(targets) != len(flat):
        raise ValueError(f"{len(flat)} images but {len(targets)} labels: they must match.")
    closest = np.full(len(flat), np.inf)
    for label in np.unique(targets):
        members = np.flatnonzero(targets == label)
        squared = torch.cdist(flat[members], flat[members]).pow(2) / flat.shape[1]
        squared.fill_diagonal_(float("inf"))  # an image is not its own look-alike
        closest[members] = squared.min(dim=1).values.numpy()
    return closest


# --- Reconstruction errors and detection ------------------------------------------------------


def per_image_mse(reconstructions: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
    """Mean squared error of each image against its reconstruction: one number per image, shape (N,)."""
    if reconstructions.shape != images.shape:
        raise ValueError(
            f"reconstructions {tuple(reconstructions.shape)} and images {tuple(images.shape)} must have "
            "the same shape: compare each image with its own reconstruction."
        )
    if images.ndim < 2:
        raise ValueError(f"Expected a batch of images (N, 1, 28, 28), got shape {tuple(images.shape)}.")
    return (reconstructions.float() - images.float()).pow(2).flatten(1).mean(dim=1)


def detection_auc(normal_scores: torch.Tensor | np.ndarray, odd_scores: torch.Tensor | np.ndarray) -> float:
    """Area under the ROC curve: the chance that a random odd item scores higher than a random normal one."""
    from sklearn.metrics import roc_auc_score

    normal, odd = to_numpy(normal_scores).ravel(), to_numpy(odd_scores).ravel()
    if len(normal) == 0 or len(odd) == 0:
        raise ValueError("Both score lists need at least one value: pass scores of normal and of odd images.")
    truth = np.r_[np.zeros(len(normal)), np.ones(len(odd))]
    return float(roc_auc_score(truth, np.r_[normal, odd]))


# --- Generated images: sharp, varied, like the data? ------------------------------------------


def variety(images: torch.Tensor | np.ndarray) -> float:
    """How much a set of images differ from one another: each pixel's spread across the set, averaged.

    0 means every image is the same picture, the symptom of a decoder that ignores its input.
    """
    array = to_numpy(images).astype(np.float32)
    if array.ndim < 3 or len(array) < 2:
        raise ValueError(
            f"Expected at least two images, shape (N, 1, H, W) or (N, H, W) with N >= 2, got {array.shape}: "
            "variety compares images with each other."
        )
    return float(array.std(axis=0).mean())


def sharpness(images: torch.Tensor | np.ndarray) -> np.ndarray:
    """Edge energy of each image: the mean squared difference between neighbouring pixels, shape (N,).

    Blurring lowers it and crisp strokes raise it, so it tells "sharper" from "softer" in numbers.
    """
    array = to_numpy(images).astype(np.float32)
    if array.ndim == 4 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 3 or min(array.shape[1:]) < 2:
        raise ValueError(
            f"Expected a batch of images (N, 1, H, W) or (N, H, W) with H, W >= 2, got {array.shape}: "
            "a single image needs a batch axis, e.g. images[:1]."
        )
    across = np.diff(array, axis=2) ** 2  # left-right neighbours
    down = np.diff(array, axis=1) ** 2  # top-bottom neighbours
    return (across.mean(axis=(1, 2)) + down.mean(axis=(1, 2))) / 2


def saturation(images: torch.Tensor | np.ndarray, margin: float = 0.05) -> float:
    """The share of pixels within ``margin`` of pure black (0) or pure white (1): crisp, not grey."""
    array = to_numpy(images).astype(np.float32)
    if array.size == 0:
        raise ValueError("saturation needs at least one image, got an empty array.")
    if not 0.0 < margin < 0.5:
        raise ValueError(f"margin must be between 0 and 0.5 (such as 0.05), got {margin!r}.")
    return float(np.mean((array <= margin) | (array >= 1.0 - margin)))


def generation_scores(
    samples: torch.Tensor | np.ndarray,
    train_images: torch.Tensor | np.ndarray,
    test_images: torch.Tensor | np.ndarray,
) -> dict[str, float]:
    """How well generated images match real ones, as two median pixel distances (lower is better for both).

    ``to_data``: from each sample to its nearest training image (do the samples look like data?).
    ``to_samples``: from each test image to its nearest sample (is every kind of real image produced?).
    A generator that makes one good image over and over scores well on the first and badly on the second.
    """
    generated = _flat(samples)
    train_flat, test_flat = _flat(train_images), _flat(test_images)
    if not (generated.shape[1] == train_flat.shape[1] == test_flat.shape[1]):
        raise ValueError(
            f"samples ({generated.shape[1]} pixels), train_images ({train_flat.shape[1]}) and test_images "
            f"({test_flat.shape[1]}) must have the same image size."
        )
    return {
        "to_data": float(np.median(nearest_neighbours(generated, train_flat)[0])),
        "to_samples": float(np.median(nearest_neighbours(test_flat, generated)[0])),
    }


def pixel_reader(
    images: torch.Tensor | np.ndarray, labels: torch.Tensor | np.ndarray, k: int = 3
) -> KNeighborsClassifier:
    """A k-nearest-neighbour classifier fitted on real images' pixels: it "reads" what an image looks like.

    Use ``reader.predict(images.flatten(1))`` on reconstructions or generated images.
    """
    from sklearn.neighbors import KNeighborsClassifier

    features = _flat(images)
    targets = _check_labels(features, labels)
    if positive_int("k", k) > len(features):
        raise ValueError(f"k must be an integer between 1 and the number of images ({len(features)}), got {k!r}.")
    return KNeighborsClassifier(n_neighbors=k).fit(features, targets)


def classes_reached(predictions: torch.Tensor | np.ndarray, share: float = 0.02) -> int:
    """How many classes receive at least ``share`` of the predictions (2% by default): the variety of a sample."""
    values = to_numpy(predictions).astype(int).ravel()
    if values.size == 0 or values.min() < 0:
        raise ValueError("predictions must be a non-empty array of class indices (0, 1, 2, ...).")
    if not 0.0 < share < 1.0:
        raise ValueError(f"share must be between 0 and 1 (such as 0.02), got {share!r}.")
    return int((np.bincount(values) >= share * values.size).sum())


# --- Codes against the prior N(0, I) ----------------------------------------------------------


def standard_normal_gap(codes: torch.Tensor | np.ndarray) -> float:
    """The largest Kolmogorov-Smirnov distance between any code axis and N(0, 1) (0 = a perfect match)."""
    from scipy import stats

    points = _flat(codes)
    return float(max(stats.kstest(points[:, d], "norm").statistic for d in range(points.shape[1])))


# --- How good is a VAE as a density model? --------------------------------------------------


@torch.inference_mode()
@torch.no_grad()  # a score, never trained through: no autograd graph over k decodes
def importance_weighted_bound(
    model: torch.nn.Module,
    images: torch.Tensor,
    k: int,
    max_decodes: int = 4096,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """The importance-weighted (IWAE) lower bound on log p(x) with ``k`` samples, per image, shape (N,), in nats.

    log p(x) >= E[log (1/k) sum_i p(x|z_i) p(z_i) / q(z_i|x)] with z_i ~ q(z|x): ``k = 1`` is a one-sample
    estimate of the ELBO, and the bound rises towards log p(x) as ``k`` grows. p(x|z) is the lesson's
    Bernoulli likelihood (minus the BCE summed over pixels) and p(z) = N(0, I).
    ``max_decodes`` caps how many codes are decoded at once, so that memory stays bounded for any ``k``.
    """
    if not (hasattr(model, "encode_distribution") and hasattr(model, "decode_logits")):
        raise TypeError(
            f"importance_weighted_bound needs a VAE (such as models.ConvVAE) with encode_distribution and "
            f"decode_logits, but got a {type(model).__name__}: a plain autoencoder defines no p(x)."
        )
    check_images(images, "images")
    k = positive_int("k", k, hint="(importance samples per image, such as 1, 10 or 100)")
    max_decodes = positive_int("max_decodes", max_decodes)
    was_training = model.training
    model.eval()
    device = model_device(model)
    standard = torch.distributions.Normal(0.0, 1.0)
    per_image = []
    try:
        # images per pass: with k samples each, about max_decodes codes go through the decoder at once
        for batch in images.split(max(1, max_decodes // k)):
            x = batch.to(device=device, dtype=torch.float32)
            mu, logvar = model.encode_distribution(x)
            q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
            log_w = []
            for chunk in _chunks(k, max(1, max_decodes // len(x))):
                # noise drawn on the CPU (with the generator, if any), so a seed gives the same bound on any device
                eps = torch.randn((chunk, *mu.shape), generator=generator).to(device)
                z = mu + torch.exp(0.5 * logvar) * eps  # (chunk, B, d)
                logits = model.decode_logits(z.flatten(0, 1)).view(chunk, *x.shape)
                log_px_z = -torch.nn.functional.binary_cross_entropy_with_logits(
                    logits, x.expand_as(logits), reduction="none").flatten(2).sum(-1)
                log_w.append(log_px_z + standard.log_prob(z).sum(-1) - q.log_prob(z).sum(-1))
            # log of the mean of the weights, computed stably in log space
            per_image.append((torch.logsumexp(torch.cat(log_w), dim=0) - np.log(k)).cpu())
    finally:
        model.train(was_training)
    return torch.cat(per_image)


def _chunks(total: int, size: int) -> list[int]:
    """``total`` split into pieces of at most ``size``: [size, size, ..., rest]."""
    return [min(size, total - start) for start in range(0, total, size)]


@torch.no_grad()
def shuffled_code_cost(model: torch.nn.Module, images: torch.Tensor, generator: torch.Generator | None = None) -> float:
    """Nats per image that -log p(x | z) rises by when each image is decoded with another image's sampled code.

    About 0 when the decoder ignores its code (posterior collapse); large when the code carries the image.
    The model needs ``encode_distribution`` and ``decode_logits`` (and ``logits_given(x, z)`` if its decoder
    also reads the pixels, like ``models.AutoregressiveVAE``).
    """
    if not hasattr(model, "encode_distribution"):
        raise TypeError(f"shuffled_code_cost needs a VAE (such as models.ConvVAE), got a {type(model).__name__}.")
    check_images(images, "images")
    if len(images) < 2:
        raise ValueError("shuffled_code_cost needs at least 2 images, to give each one another image's code.")
    was_training = model.training
    model.eval()
    try:
        x = images.to(device=model_device(model), dtype=torch.float32)
        mu, logvar = model.encode_distribution(x)
        eps = torch.randn(mu.shape, generator=generator).to(mu.device)
        z = mu + torch.exp(0.5 * logvar) * eps
        other = torch.roll(torch.arange(len(x)), 1)  # a fixed derangement: every image gets its neighbour's code
        decode = (lambda codes: model.logits_given(x, codes)) if hasattr(model, "logits_given") else model.decode_logits
        nll = {name: torch.nn.functional.binary_cross_entropy_with_logits(decode(codes), x, reduction="none")
               .flatten(1).sum(1).mean() for name, codes in {"own": z, "other": z[other]}.items()}
    finally:
        model.train(was_training)
    return float(nll["other"] - nll["own"])


def bits_per_dim(nats_per_image: float, pixels: int = 28 * 28) -> float:
    """A negative log-likelihood in nats per image as bits per pixel: nats / (pixels * ln 2)."""
    pixels = positive_int("pixels", pixels)
    return float(nats_per_image) / (pixels * np.log(2.0))
