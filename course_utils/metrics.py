"""Numbers that back the lessons' claims: class separation, confusions, distances, normality."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch

if TYPE_CHECKING:  # scikit-learn is imported only when a reader is built
    from sklearn.neighbors import KNeighborsClassifier


def _numpy(values: torch.Tensor | np.ndarray) -> np.ndarray:
    """A NumPy view of a tensor or array."""
    return values.detach().cpu().numpy() if isinstance(values, torch.Tensor) else np.asarray(values)


def _flat(points: torch.Tensor | np.ndarray) -> np.ndarray:
    """Points as a 2-D array (N, D): images are flattened to pixels."""
    array = _numpy(points).astype(np.float32)
    if array.ndim < 2 or len(array) < 2:
        raise ValueError(f"Expected at least 2 points of shape (N, D) or (N, 1, H, W), got {array.shape}.")
    return array.reshape(len(array), -1)


def knn_predictions(
    points: torch.Tensor | np.ndarray, labels: torch.Tensor | np.ndarray, k: int = 5, folds: int = 5
) -> np.ndarray:
    """Each point's label as guessed by its k nearest neighbours (cross-validated, never itself)."""
    # Imported here, as in the other scikit-learn helpers: importing sklearn costs about 1.5 s,
    # which lessons that never call it should not pay.
    from sklearn.model_selection import cross_val_predict
    from sklearn.neighbors import KNeighborsClassifier

    features, targets = _flat(points), _numpy(labels)
    if len(features) != len(targets):
        raise ValueError(f"{len(features)} points but {len(targets)} labels: they must match.")
    if not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}.")
    return cross_val_predict(KNeighborsClassifier(n_neighbors=k), features, targets, cv=folds)


def knn_accuracy(points: torch.Tensor | np.ndarray, labels: torch.Tensor | np.ndarray, k: int = 5) -> float:
    """How often a point's k nearest neighbours vote for its own class: a separation score in [0, 1]."""
    return float(np.mean(knn_predictions(points, labels, k) == _numpy(labels)))


def per_class_accuracy(
    true: torch.Tensor | np.ndarray, predicted: np.ndarray, class_names: Sequence[str]
) -> dict[str, float]:
    """The fraction of each class that was predicted correctly, keyed by class name."""
    true = _numpy(true)
    return {class_names[c]: float(np.mean(predicted[true == c] == c)) for c in np.unique(true)}


def top_confusions(
    true: torch.Tensor | np.ndarray, predicted: np.ndarray, class_names: Sequence[str], n: int = 5
) -> list[tuple[str, str, float]]:
    """The ``n`` most frequent (true class, mistaken for, share of that class) pairs."""
    true = _numpy(true)
    pairs = []
    for a in np.unique(true):
        members = predicted[true == a]
        for b in np.unique(members):
            if b != a:
                pairs.append((class_names[a], class_names[b], float(np.mean(members == b))))
    return sorted(pairs, key=lambda pair: -pair[2])[:n]


def nearest_distances(
    queries: torch.Tensor | np.ndarray, references: torch.Tensor | np.ndarray, chunk: int = 512
) -> np.ndarray:
    """Euclidean distance from each query to its nearest reference point (images are flattened)."""
    return _nearest(_flat(queries), _flat(references), chunk)[0]


def _nearest(queries: np.ndarray, references: np.ndarray, chunk: int = 512) -> tuple[np.ndarray, np.ndarray]:
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
    points = _numpy(queries).astype(np.float32)
    if points.ndim == 1:  # one query, such as a single coordinate (z1, z2)
        points = points[None]
    if points.ndim < 2 or len(points) == 0:
        raise ValueError(f"Expected queries of shape (N, D) or one point (D,), got {points.shape}.")
    return _nearest(points.reshape(len(points), -1), _flat(references), chunk)[1]


def centroid_distances(
    codes: torch.Tensor | np.ndarray, labels: torch.Tensor | np.ndarray
) -> np.ndarray:
    """Distances between class centroids, divided by the codes' overall spread (a C x C matrix)."""
    points, targets = _flat(codes), _numpy(labels)
    classes = np.unique(targets)
    centroids = np.stack([points[targets == c].mean(axis=0) for c in classes])
    spread = float(np.sqrt(points.var(axis=0).sum())) or 1.0
    return np.linalg.norm(centroids[:, None] - centroids[None], axis=-1) / spread


def standard_normal_gap(codes: torch.Tensor | np.ndarray) -> float:
    """The largest Kolmogorov-Smirnov distance between any code axis and N(0, 1) (0 = a perfect match)."""
    from scipy import stats

    points = _flat(codes)
    return float(max(stats.kstest(points[:, d], "norm").statistic for d in range(points.shape[1])))


# --- lesson 3: separation, clustering, per-image errors, detection -----------------------------


def _check_labels(features: np.ndarray, labels: torch.Tensor | np.ndarray) -> np.ndarray:
    """Labels as an array, checked against the points and for at least two classes."""
    targets = _numpy(labels)
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

    normal, odd = _numpy(normal_scores).ravel(), _numpy(odd_scores).ravel()
    if len(normal) == 0 or len(odd) == 0:
        raise ValueError("Both score lists need at least one value: pass scores of normal and of odd images.")
    truth = np.r_[np.zeros(len(normal)), np.ones(len(odd))]
    return float(roc_auc_score(truth, np.r_[normal, odd]))


# --- lesson 1: the wardrobe's empty spots -------------------------------------------------------


def _codes_2d(codes: torch.Tensor | np.ndarray, what: str) -> np.ndarray:
    """2-D codes as a float32 array (N, 2), or a clear error naming the fix."""
    points = _numpy(codes).astype(np.float32)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(
            f"{what} needs 2-D codes of shape (N, 2), got {points.shape}: "
            "encode the images with a model trained with latent_dim=2."
        )
    if len(points) < 3:
        raise ValueError(f"{what} needs at least 3 codes to outline the wardrobe, got {len(points)}.")
    return points


def _check_grid_args(grid_size: int, quantile: float) -> None:
    """Raise a clear error for a grid that is too coarse or a trimming quantile out of range."""
    if not isinstance(grid_size, int) or isinstance(grid_size, bool) or grid_size < 2:
        raise ValueError(f"grid_size must be an integer >= 2 (points per side), got {grid_size!r}.")
    if not 0.0 <= quantile < 0.5:
        raise ValueError(f"quantile must be in [0, 0.5) (0.01 trims the 1% most extreme codes), got {quantile!r}.")


def hull_grid_points(codes: torch.Tensor | np.ndarray, grid_size: int = 40, quantile: float = 0.01) -> np.ndarray:
    """Points of a regular grid that lie inside the wardrobe: the convex hull of the (trimmed) 2-D codes.

    The grid spans ``plots.code_ranges(codes, quantile)``, the box that holds all but the most
    extreme codes; points outside the outline of the codes in that box are dropped.
    """
    from scipy.spatial import ConvexHull, QhullError

    from course_utils.plots import code_ranges, latent_grid_points

    points = _codes_2d(codes, "hull_grid_points")
    _check_grid_args(grid_size, quantile)
    (x_low, x_high), (y_low, y_high) = code_ranges(points, quantile)
    if not (x_low < x_high and y_low < y_high):
        raise ValueError("The codes do not spread out in both directions, so they outline no area to search.")
    keep = (points[:, 0] >= x_low) & (points[:, 0] <= x_high) & (points[:, 1] >= y_low) & (points[:, 1] <= y_high)
    in_box = points[keep]
    try:
        hull = ConvexHull(in_box)
    except (QhullError, ValueError) as error:
        raise ValueError("The codes lie on a line, so they outline no area to search.") from error
    grid = latent_grid_points((x_low, x_high), (y_low, y_high), grid_size)
    # A point is inside a convex hull when it is on the inner side of every facet: n . p + c <= 0.
    slack = 1e-6 * max(x_high - x_low, y_high - y_low)
    inside = np.all(grid @ hull.equations[:, :2].T + hull.equations[:, 2] <= slack, axis=1)
    if not inside.any():
        raise ValueError(
            f"No point of a {grid_size}x{grid_size} grid falls inside the codes' outline: raise grid_size."
        )
    return grid[inside]


def find_empty_spots(
    codes: torch.Tensor | np.ndarray, n_spots: int = 1, grid_size: int = 40, quantile: float = 0.01
) -> tuple[np.ndarray, np.ndarray]:
    """The emptiest places inside the wardrobe: grid points farthest from every code, farthest first.

    Returns ``(spots, distances)``: spots ``(k, 2)`` and each one's distance to its nearest code.
    Each spot lies outside the empty circle of the spots before it, so they are distinct gaps.
    """
    if not isinstance(n_spots, int) or isinstance(n_spots, bool) or n_spots < 1:
        raise ValueError(f"n_spots must be a positive integer, got {n_spots!r}.")
    points = _codes_2d(codes, "find_empty_spots")
    grid = hull_grid_points(points, grid_size, quantile)
    distances = _nearest(grid, points)[0]
    spots: list[np.ndarray] = []
    radii: list[float] = []
    for i in np.argsort(-distances, kind="stable"):
        if all(np.linalg.norm(grid[i] - spot) > radius for spot, radius in zip(spots, radii)):
            spots.append(grid[i])
            radii.append(float(distances[i]))
            if len(spots) == n_spots:
                break
    return np.array(spots, dtype=np.float32).reshape(-1, 2), np.array(radii, dtype=np.float32)


def empty_fraction(
    codes: torch.Tensor | np.ndarray, radius: float, grid_size: int = 40, quantile: float = 0.01
) -> float:
    """The share of the wardrobe (grid points inside the codes' outline) farther than ``radius`` from every code."""
    if not radius > 0:
        raise ValueError(f"radius must be a positive distance, got {radius!r}.")
    points = _codes_2d(codes, "empty_fraction")
    grid = hull_grid_points(points, grid_size, quantile)
    return float(np.mean(_nearest(grid, points)[0] > radius))


def cycle_distances(model: torch.nn.Module, codes: torch.Tensor | np.ndarray) -> np.ndarray:
    """How far each code moves when it is decoded and the result encoded again: ``|E(D(z)) - z|``.

    A small distance means the encoder would hang the decoded garment back where it came from.
    """
    from course_utils.train import decode_all, encode_all

    latent_dim = getattr(model, "latent_dim", None)
    z = torch.as_tensor(_numpy(codes), dtype=torch.float32)
    if z.ndim != 2 or (latent_dim is not None and z.shape[1] != latent_dim):
        raise ValueError(
            f"codes must have shape (N, {latent_dim or 'latent_dim'}) for this model, got {tuple(z.shape)}."
        )
    return (encode_all(model, decode_all(model, z)) - z).norm(dim=1).numpy()


# --- lesson 4: how sharp an image is ------------------------------------------------------------


def variety(images: torch.Tensor | np.ndarray) -> float:
    """How much a set of images differ from one another: each pixel's spread across the set, averaged.

    0 means every image is the same picture, the symptom of a decoder that ignores its input.
    """
    array = _numpy(images).astype(np.float32)
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
    array = _numpy(images).astype(np.float32)
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
        "to_data": float(np.median(_nearest(generated, train_flat)[0])),
        "to_samples": float(np.median(_nearest(test_flat, generated)[0])),
    }


def share_in_prior(codes: torch.Tensor | np.ndarray, mass: float = 0.95) -> float:
    """The share of codes inside the ball that holds ``mass`` of N(0, I): where prior samples land.

    For a VAE's mean codes it is high by design; for a plain autoencoder it can be near 0.
    """
    from scipy import stats

    points = _numpy(codes).astype(np.float64)
    if points.ndim != 2 or len(points) == 0:
        raise ValueError(f"codes must have shape (N, latent_dim) with N > 0, got {points.shape}.")
    if not 0.0 < mass < 1.0:
        raise ValueError(f"mass must be between 0 and 1 (such as 0.95), got {mass!r}.")
    radius_squared = stats.chi2.ppf(mass, df=points.shape[1])  # |z|^2 of N(0, I) is chi-square
    return float(np.mean((points**2).sum(axis=1) <= radius_squared))


def saturation(images: torch.Tensor | np.ndarray, margin: float = 0.05) -> float:
    """The share of pixels within ``margin`` of pure black (0) or pure white (1): crisp, not grey."""
    array = _numpy(images).astype(np.float32)
    if array.size == 0:
        raise ValueError("saturation needs at least one image, got an empty array.")
    if not 0.0 < margin < 0.5:
        raise ValueError(f"margin must be between 0 and 0.5 (such as 0.05), got {margin!r}.")
    return float(np.mean((array <= margin) | (array >= 1.0 - margin)))


def hole_share(
    samples: torch.Tensor | np.ndarray, codes: torch.Tensor | np.ndarray, quantile: float = 0.95
) -> tuple[float, float]:
    """The share of ``samples`` that land in a hole, and the hole radius.

    The codes are split in half: one half is the reference map, and a "hole" is any point farther
    from every reference code than ``quantile`` of the other (held-out) half are. So, by construction,
    about ``1 - quantile`` of real codes land in a hole.
    """
    points = _numpy(codes).astype(np.float32)
    if points.ndim != 2 or len(points) < 4:
        raise ValueError(f"codes must have shape (N, latent_dim) with N >= 4, got {points.shape}.")
    if not 0.0 < quantile < 1.0:
        raise ValueError(f"quantile must be between 0 and 1 (such as 0.95), got {quantile!r}.")
    held_out, reference = points[: len(points) // 2], points[len(points) // 2 :]
    radius = float(np.quantile(nearest_distances(held_out, reference), quantile))
    return float(np.mean(nearest_distances(samples, reference) > radius)), radius


def pixel_reader(
    images: torch.Tensor | np.ndarray, labels: torch.Tensor | np.ndarray, k: int = 3
) -> KNeighborsClassifier:
    """A k-nearest-neighbour classifier fitted on real images' pixels: it "reads" what an image looks like.

    Use ``reader.predict(images.flatten(1))`` on reconstructions or generated images.
    """
    from sklearn.neighbors import KNeighborsClassifier

    features = _flat(images)
    targets = _check_labels(features, labels)
    if not isinstance(k, int) or not 1 <= k <= len(features):
        raise ValueError(f"k must be an integer between 1 and the number of images ({len(features)}), got {k!r}.")
    return KNeighborsClassifier(n_neighbors=k).fit(features, targets)


def classes_reached(predictions: torch.Tensor | np.ndarray, share: float = 0.02) -> int:
    """How many classes receive at least ``share`` of the predictions (2% by default): the variety of a sample."""
    values = _numpy(predictions).astype(int).ravel()
    if values.size == 0 or values.min() < 0:
        raise ValueError("predictions must be a non-empty array of class indices (0, 1, 2, ...).")
    if not 0.0 < share < 1.0:
        raise ValueError(f"share must be between 0 and 1 (such as 0.02), got {share!r}.")
    return int((np.bincount(values) >= share * values.size).sum())
