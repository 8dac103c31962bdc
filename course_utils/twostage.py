"""Two-stage generation: an autoencoder makes a small latent space, and a second model learns to generate in it.

This is how latent diffusion (Rombach et al., 2022) works: its first stage is a KL-regularised
autoencoder with a spatial latent, trained once; a diffusion model then learns the latents. Here
the first stage is ``GridVAE`` (28x28x1 -> 7x7xC) and the second a Gaussian mixture from
scikit-learn, fitted once on pixels and once on latents to compare samples and costs.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from course_utils.checks import check_images, positive_int, to_numpy
from course_utils.models import IMAGE_SHAPE, ConvVAE, _check_channels, conv_decoder, conv_encoder

if TYPE_CHECKING:  # scikit-learn is imported only when a mixture is fitted
    from sklearn.mixture import GaussianMixture


#: Added to every covariance's diagonal: it keeps a covariance fitted to few points invertible.
REG_COVAR = 1e-4


class GridVAE(nn.Module):
    """A conv VAE whose code is a ``latent_channels`` x 7 x 7 grid, not a flat vector (a mini first stage).

    Codes travel flattened, ``(N, latent_channels * 49)``, so ``train.encode_all`` / ``decode_all`` and
    ``losses.vae_objective`` work as for ``models.ConvVAE``; ``latent_shape`` gives the grid.
    """

    def __init__(self, latent_channels: int = 2, channels: Sequence[int] = (16, 32)) -> None:
        super().__init__()
        self.latent_channels = positive_int("latent_channels", latent_channels, hint="(such as 2 or 4)")
        self.latent_shape = (self.latent_channels, 7, 7)
        self.latent_dim = self.latent_channels * 49
        last = _check_channels(channels)[-1]
        self.encoder = nn.Sequential(conv_encoder(channels),                           # 1x28x28 -> last x7x7
                                     nn.Conv2d(last, 2 * self.latent_channels, 1))     # -> mean and log-variance
        self.decoder = nn.Sequential(nn.Unflatten(1, self.latent_shape),               # (N, C*49) -> C x7x7
                                     nn.Conv2d(self.latent_channels, last, 3, padding=1), nn.ReLU(),
                                     conv_decoder(channels))                           # -> 1x28x28 logits

    def encode_distribution(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(mu, logvar)``, each flattened to ``(N, latent_channels * 49)``."""
        check_images(x, "x", shape=IMAGE_SHAPE)
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        return mu.flatten(1), logvar.flatten(1)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The mean code, flattened: ``(N, latent_channels * 49)``."""
        return self.encode_distribution(x)[0]

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        """Pixel logits for flat codes ``(N, C*49)`` or grids ``(N, C, 7, 7)``."""
        if z.ndim == 4 and tuple(z.shape[1:]) == self.latent_shape:
            z = z.flatten(1)
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"This decoder expects codes of shape (N, {self.latent_dim}) or (N, "
                             f"{', '.join(map(str, self.latent_shape))}), got {tuple(z.shape)}.")
        return self.decoder(z)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Images in [0, 1]."""
        return torch.sigmoid(self.decode_logits(z))

    def forward_parts(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One stochastic pass: ``(logits, mu, logvar)``, for ``losses.vae_objective``."""
        mu, logvar = self.encode_distribution(x)
        return self.decode_logits(ConvVAE.reparameterize(mu, logvar)), mu, logvar

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Reconstruct from the mean code."""
        return self.decode(self.encode(x))


def fit_mixture(points: torch.Tensor | np.ndarray, n_components: int = 10, seed: int = 0,
                max_iter: int = 100) -> tuple[GaussianMixture, float]:
    """A full-covariance Gaussian mixture fitted to the flattened ``points``, and the seconds it took."""
    from sklearn.mixture import GaussianMixture
    from threadpoolctl import threadpool_limits

    array = to_numpy(points).astype(np.float64)
    array = array.reshape(len(array), -1)
    n_components = positive_int("n_components", n_components)
    if len(array) < 2 * n_components:
        raise ValueError(f"{len(array)} points are too few for {n_components} components: "
                         "pass more points or ask for fewer components.")
    mixture = GaussianMixture(n_components, covariance_type="full", reg_covar=REG_COVAR, max_iter=max_iter,
                              random_state=seed)
    started = time.perf_counter()
    with threadpool_limits(limits=1):  # one thread: comparable timings on a shared, busy CPU
        mixture.fit(array)
    return mixture, time.perf_counter() - started


def em_round_seconds(points: torch.Tensor | np.ndarray, dims: Sequence[int], n_components: int = 10, seed: int = 0,
                     rounds: int = 1) -> dict[int, float]:
    """Seconds per EM round of ``fit_mixture``'s mixture on random projections of ``points`` to each of ``dims``.

    A projection to D numbers keeps N and K fixed, so only the dimension changes; D equal to the points' own
    dimension uses them as they are. The fit starts from random data points (cheaper than k-means) and runs
    ``rounds`` rounds; its time, initialisation included, is divided by the rounds run (sklearn's ``n_iter_``).
    """
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import GaussianMixture
    from threadpoolctl import threadpool_limits

    array = to_numpy(points).astype(np.float64)
    array = array.reshape(len(array), -1)
    rng = np.random.default_rng(seed)
    seconds = {}
    for d in dims:
        d = positive_int("each of dims", d)
        if d > array.shape[1]:
            raise ValueError(f"cannot project {array.shape[1]}-D points up to {d} dimensions: keep dims <= "
                             f"{array.shape[1]}.")
        projected = array if d == array.shape[1] else array @ rng.standard_normal((array.shape[1], d)) / np.sqrt(d)
        mixture = GaussianMixture(n_components, covariance_type="full", reg_covar=REG_COVAR, max_iter=rounds,
                                  tol=0.0, init_params="random_from_data", random_state=seed)
        started = time.perf_counter()
        with threadpool_limits(limits=1), warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # stopping after a few rounds is the point
            mixture.fit(projected)
        seconds[d] = (time.perf_counter() - started) / mixture.n_iter_
    return seconds


def scaling_exponent(sizes: Sequence[float], costs: Sequence[float]) -> float:
    """The slope of log(cost) against log(size), fitted by least squares: cost grows like size**slope."""
    if len(sizes) != len(costs) or len(sizes) < 2:
        raise ValueError(f"need two or more (size, cost) pairs of equal length, got {len(sizes)} and {len(costs)}.")
    return float(np.polyfit(np.log(np.asarray(sizes, float)), np.log(np.asarray(costs, float)), 1)[0])


def covariance_floor(mixture: GaussianMixture, factor: float = 10.0) -> float:
    """The mean share of each component's covariance directions with variance under ``factor`` x ``reg_covar``.

    Those directions had (almost) no spread in the points the component got: only ``reg_covar``, added to
    every variance, keeps the covariance invertible there.
    """
    floor = factor * mixture.reg_covar
    return float(np.mean([(np.linalg.eigvalsh(c) < floor).mean() for c in mixture.covariances_]))


def mixture_parameters(mixture: GaussianMixture) -> int:
    """Numbers a fitted full-covariance mixture stores: weights, means and each covariance's upper triangle."""
    k, d = mixture.means_.shape
    return k - 1 + k * d + k * d * (d + 1) // 2


def sample_mixture(mixture: GaussianMixture, n: int, seed: int = 0) -> torch.Tensor:
    """``n`` points drawn from a fitted full-covariance mixture, as float32 ``(n, D)``.

    A component is picked by its weight, then ``mean + L @ eps`` with L the Cholesky factor of its
    covariance (sklearn's ``sample`` takes an SVD of every covariance, slow at 784 dimensions).
    """
    n = positive_int("n", n)
    rng = np.random.default_rng(seed)
    components = rng.choice(len(mixture.weights_), size=n, p=mixture.weights_ / mixture.weights_.sum())
    noise = rng.standard_normal((n, mixture.means_.shape[1]))
    points = np.empty_like(noise)
    for k in np.unique(components):
        chosen = components == k
        factor = np.linalg.cholesky(mixture.covariances_[k])
        points[chosen] = mixture.means_[k] + noise[chosen] @ factor.T
    return torch.from_numpy(points).float()


def as_images(points: torch.Tensor, shape: tuple[int, ...] = IMAGE_SHAPE) -> torch.Tensor:
    """Flat pixel vectors as images ``(N, 1, 28, 28)``, clipped to [0, 1] (a Gaussian may step outside)."""
    return points.reshape(len(points), *shape).clamp(0.0, 1.0)
