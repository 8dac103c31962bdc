"""Numbers that back the lessons' claims: class separation, confusions, distances, normality."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from sklearn.model_selection import cross_val_predict
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
    q = torch.from_numpy(_flat(queries))
    r = torch.from_numpy(_flat(references))
    if q.shape[1] != r.shape[1]:
        raise ValueError(f"Queries have {q.shape[1]} dimensions but references have {r.shape[1]}.")
    return torch.cat([torch.cdist(part, r).min(dim=1).values for part in q.split(chunk)]).numpy()


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
