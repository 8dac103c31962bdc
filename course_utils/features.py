"""Features from few labels: a simple classifier on pixels, PCA codes or autoencoder codes, and an encoder
fine-tuned with a small head against the same network trained from scratch.

Every comparison uses the same labelled images: ``balanced_draw`` picks them (as many of each class as it
can), and every method is scored on the same test images, so differences come from the features alone.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import torch
from torch import nn

from course_utils.checks import check_images, model_device, positive_int, to_numpy
from course_utils.data import iterate_batches
from course_utils.models import EncoderClassifier


def balanced_draw(labels: torch.Tensor | np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """Indices of ``n`` labelled images drawn at random, stratified by class (scikit-learn's split)."""
    from sklearn.model_selection import train_test_split

    targets = to_numpy(labels).ravel()
    n = positive_int("n", n, hint="(labelled images)")
    classes = len(np.unique(targets))
    if not classes <= n < len(targets):
        raise ValueError(f"n must be at least the number of classes ({classes}) and below the number of images "
                         f"({len(targets)}), got {n}.")
    chosen, _ = train_test_split(np.arange(len(targets)), train_size=n, stratify=targets, random_state=seed)
    return np.sort(chosen)


def probe_accuracy(
    train_features: torch.Tensor | np.ndarray,
    train_labels: torch.Tensor | np.ndarray,
    test_features: torch.Tensor | np.ndarray,
    test_labels: torch.Tensor | np.ndarray,
) -> float:
    """Test accuracy of a logistic regression (on standardised features) fitted on the labelled features."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from threadpoolctl import threadpool_limits

    x_train, x_test = (to_numpy(x).reshape(len(x), -1).astype(np.float64) for x in (train_features, test_features))
    y_train, y_test = to_numpy(train_labels).ravel(), to_numpy(test_labels).ravel()
    if len(x_train) != len(y_train) or len(x_test) != len(y_test):
        raise ValueError("Pass one label per feature row, for the training and for the test features.")
    if x_train.shape[1] != x_test.shape[1]:
        raise ValueError(f"Training features have {x_train.shape[1]} columns but test features {x_test.shape[1]}: "
                         "compute both the same way.")
    classifier = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
    with threadpool_limits(limits=1):  # a small fit: waiting BLAS threads only slow it on a busy machine
        classifier.fit(x_train, y_train)
        return float(np.mean(classifier.predict(x_test) == y_test))


def probe_curves(
    features: Mapping[str, tuple[torch.Tensor | np.ndarray, torch.Tensor | np.ndarray]],
    train_labels: torch.Tensor | np.ndarray,
    test_labels: torch.Tensor | np.ndarray,
    counts: Sequence[int],
    draws: int,
    seed: int = 0,
) -> dict[str, dict[int, list[float]]]:
    """For each feature set ``name: (train features, test features)``: accuracy per label count, one per draw.

    Draw ``k`` at count ``n`` is the same labelled images for every feature set.
    """
    draws = positive_int("draws", draws, hint="(label draws per count)")
    results: dict[str, dict[int, list[float]]] = {name: {} for name in features}
    for n in counts:
        for k in range(draws):
            chosen = balanced_draw(train_labels, n, seed=seed + k)
            for name, (train_x, test_x) in features.items():
                accuracy = probe_accuracy(to_numpy(train_x)[chosen], to_numpy(train_labels)[chosen],
                                          test_x, test_labels)
                results[name].setdefault(int(n), []).append(accuracy)
    return results


def fine_tune(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    steps: int,
    lr: float = 1e-3,
    batch_size: int = 64,
    seed: int = 0,
) -> nn.Module:
    """Train a classifier (every weight, encoder included) with cross-entropy for ``steps`` Adam steps.

    Its own small loop, because ``train.fit`` reconstructs images and has no labels to match. It runs on one
    CPU thread: batches of 10 to 64 images gain nothing from more, and on a busy machine waiting threads made
    the same steps many times slower.
    """
    check_images(images, "images")
    if len(labels) != len(images):
        raise ValueError(f"{len(images)} images but {len(labels)} labels: pass one label per image.")
    steps, batch_size = positive_int("steps", steps), positive_int("batch_size", batch_size)
    device = model_device(model)
    x, y = images.to(device), torch.as_tensor(labels, dtype=torch.long).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    shuffler = torch.Generator().manual_seed(positive_int("seed", seed, minimum=0))
    model.train()
    threads = torch.get_num_threads()
    if device.type == "cpu":
        torch.set_num_threads(1)
    try:
        _steps(model, x, y, optimizer, steps, batch_size, shuffler)
    finally:
        torch.set_num_threads(threads)
    return model.eval()


def _steps(model: nn.Module, x: torch.Tensor, y: torch.Tensor, optimizer: torch.optim.Optimizer, steps: int,
           batch_size: int, shuffler: torch.Generator) -> None:
    """``steps`` Adam steps of cross-entropy on shuffled batches of (x, y), epoch after epoch."""
    done = 0
    while done < steps:
        for batch in iterate_batches(torch.arange(len(x), device=x.device), min(batch_size, len(x)), shuffle=True,
                                     generator=shuffler):
            loss = nn.functional.cross_entropy(model(x[batch]), y[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            done += 1
            if done == steps:
                break


@torch.inference_mode()
def classifier_accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor | np.ndarray) -> float:
    """The share of ``images`` whose highest logit is their label."""
    check_images(images, "images")
    truth = to_numpy(labels).ravel()
    if len(truth) != len(images):  # NumPy would broadcast one label against every guess
        raise ValueError(f"{len(images):,} images but {len(truth):,} labels: pass one label per image.")
    model.eval()
    device = model_device(model)
    guesses = torch.cat([model(b.to(device)).argmax(dim=1).cpu() for b in iterate_batches(images, 1024)])
    return float(np.mean(guesses.numpy() == truth))


def fine_tune_curves(
    encoders: Mapping[str, Callable[[], nn.Module]],
    latent_dim: int,
    images: torch.Tensor,
    labels: torch.Tensor,
    test_images: torch.Tensor,
    test_labels: torch.Tensor,
    counts: Sequence[int],
    draws: int,
    steps: int,
    seed: int = 0,
    lr: float = 1e-3,
) -> dict[str, dict[int, list[float]]]:
    """Fine-tune a fresh ``EncoderClassifier`` on each encoder (``name: builder``) for every count and draw.

    A builder returns a new encoder each call (a copy of a pretrained one, or a randomly initialised one), so
    every run starts from the same weights; draw ``k`` uses the same labelled images as ``probe_curves``.
    """
    draws, steps = positive_int("draws", draws), positive_int("steps", steps)
    n_classes = int(torch.as_tensor(labels).max()) + 1
    results: dict[str, dict[int, list[float]]] = {name: {} for name in encoders}
    for n in counts:
        for k in range(draws):
            chosen = torch.from_numpy(balanced_draw(labels, n, seed=seed + k))
            for name, build in encoders.items():
                with torch.random.fork_rng():  # the head starts the same for every encoder; the caller's RNG is kept
                    torch.manual_seed(seed + k)
                    model = EncoderClassifier(build(), latent_dim, n_classes)
                fine_tune(model, images[chosen], torch.as_tensor(labels)[chosen], steps, lr=lr, seed=seed + k)
                results[name].setdefault(int(n), []).append(classifier_accuracy(model, test_images, test_labels))
    return results


def pretrained_encoder(autoencoder: nn.Module) -> Callable[[], nn.Module]:
    """A builder of fresh copies of a trained autoencoder's encoder (each fine-tuning starts from it again)."""
    if not hasattr(autoencoder, "encoder"):
        raise TypeError(f"Pass a trained autoencoder with an encoder (such as models.ConvAutoencoder), "
                        f"got {type(autoencoder).__name__}.")
    return lambda: copy.deepcopy(autoencoder.encoder)


def summary(results: Mapping[str, Mapping[int, Sequence[float]]]) -> dict[str, dict[int, tuple[float, float]]]:
    """Mean and standard deviation over draws, for each method and label count."""
    return {name: {n: (float(np.mean(v)), float(np.std(v))) for n, v in curve.items()}
            for name, curve in results.items()}
