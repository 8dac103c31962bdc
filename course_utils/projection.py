"""Projections of many-dimensional codes to 2-D for plotting (t-SNE), taught in lesson 3."""

from __future__ import annotations

import numpy as np
import torch

from course_utils.checks import positive_int, to_numpy


def tsne(
    points: torch.Tensor | np.ndarray,
    perplexity: float = 30.0,
    seed: int = 0,
    max_iter: int = 1000,
    threads: int | None = 1,
) -> np.ndarray:
    """A 2-D t-SNE embedding (N, 2) of codes or images (images are flattened to pixels).

    A thin wrapper around ``sklearn.manifold.TSNE`` with PCA initialisation (stabler layouts)
    and the automatic learning rate. Cost grows like N log N: a few thousand points take seconds.
    It runs on one thread by default: on a busy machine, OpenMP threads that wait for each other
    made t-SNE ten times slower here; pass ``threads=None`` to use every core of an idle machine.
    """
    from sklearn.manifold import TSNE
    from threadpoolctl import threadpool_limits

    array = to_numpy(points)
    if array.ndim < 2:
        raise ValueError(f"Expected points of shape (N, D) or images (N, 1, H, W), got {array.shape}.")
    array = array.reshape(len(array), -1).astype(np.float32)
    if not 0 < perplexity < len(array):
        raise ValueError(
            f"perplexity must be between 0 and the number of points ({len(array)}), got {perplexity!r}: "
            "typical values are 5 to 50; use more points or a smaller perplexity."
        )
    max_iter = positive_int("max_iter", max_iter, minimum=250, hint="(sklearn's minimum)")
    if threads is not None:
        threads = positive_int("threads", threads, hint="or None (all cores)")
    model = TSNE(
        n_components=2, perplexity=perplexity, init="pca", learning_rate="auto",
        max_iter=max_iter, random_state=seed,
    )
    with threadpool_limits(limits=threads):
        return model.fit_transform(array)
