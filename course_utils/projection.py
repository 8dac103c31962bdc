"""Projections: many-dimensional codes to 2-D for plotting (t-SNE, lesson 3); PCA as a linear baseline (lesson 1)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch

from course_utils.checks import positive_int, to_numpy

if TYPE_CHECKING:
    from sklearn.decomposition import PCA

    from course_utils.models import LinearAutoencoder
    from course_utils.train import History


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


def pca_reconstruction_errors(
    train_images: torch.Tensor | np.ndarray,
    val_images: torch.Tensor | np.ndarray,
    sizes: Sequence[int],
) -> dict[int, float]:
    """Validation MSE per pixel of PCA fitted on ``train_images``, one per code size: the best linear code.

    PCA keeps the ``size`` directions of largest variance; its codes are nested (the first 8 directions
    of a 32-direction fit are the 8-direction fit), so one fit at the largest size serves every size.
    """
    train_array, val_array = (to_numpy(x).reshape(len(x), -1).astype(np.float64) for x in (train_images, val_images))
    if train_array.shape[1] != val_array.shape[1]:
        raise ValueError(f"train images have {train_array.shape[1]} pixels but validation images "
                         f"{val_array.shape[1]}: pass images of the same size.")
    if isinstance(sizes, (str, bytes)) or not len(sizes):
        raise ValueError(f"sizes must be a non-empty sequence of code sizes such as (2, 8, 32), got {sizes!r}.")
    checked = [positive_int("code size", size) for size in sizes]
    pca = fit_pca(train_array, max(checked))
    centred = val_array - pca.mean_
    errors = {}
    for size in checked:
        directions = pca.components_[:size]  # (size, pixels), orthonormal rows
        rebuilt = centred @ directions.T @ directions  # encode (project), then decode
        errors[size] = float(np.mean((rebuilt - centred) ** 2))
    return errors


def fit_pca(images: torch.Tensor | np.ndarray, n_components: int = 2, threads: int | None = 1) -> PCA:
    """scikit-learn's PCA fitted on images (flattened to pixels) or points (N, D): the linear baseline.

    It uses the full SVD, exact and deterministic, so no seed is needed. Like ``tsne`` it runs on one
    thread by default: on a busy machine, BLAS threads waiting for each other made it 5 to 20 times slower.
    """
    from sklearn.decomposition import PCA
    from threadpoolctl import threadpool_limits

    array = to_numpy(images)
    array = array.reshape(len(array), -1).astype(np.float64)
    n_components = positive_int("n_components", n_components, hint="(such as 2)")
    if n_components > min(array.shape):
        raise ValueError(f"n_components={n_components} is more than the data allow ({array.shape[0]} points of "
                         f"{array.shape[1]} numbers): use at most {min(array.shape)}.")
    with threadpool_limits(limits=threads):
        return PCA(n_components=n_components, svd_solver="full").fit(array)



def linear_autoencoder(
    images: torch.Tensor, latent_dim: int = 2, *, epochs: int = 20, lr: float = 0.03, seed: int = 0,
    progress: bool = True,
) -> tuple[LinearAutoencoder, History]:
    """A ``models.LinearAutoencoder`` centred on ``images``' mean and trained on them with MSE: PCA's rival.

    It trains with ``train.fit`` (Adam, a one-cycle rate, batches of 128) on one CPU thread: a model this
    small gains nothing from more, and on a busy machine its threads waited for each other (ten times slower).
    """
    from course_utils.losses import reconstruction_loss
    from course_utils.models import LinearAutoencoder
    from course_utils.train import fit

    def mse(model: torch.nn.Module, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"total": reconstruction_loss(model(batch), batch, kind="mse")}  # on the raw, unsquashed output

    with torch.random.fork_rng():  # the caller's random stream stays as it was
        torch.manual_seed(seed)
        model = LinearAutoencoder(latent_dim, mean=images.mean(dim=0))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        history = fit(model, images, epochs=epochs, objective=mse, lr=lr, schedule="one-cycle", seed=seed,
                      progress=progress)
    finally:
        torch.set_num_threads(threads)
    return model, history
