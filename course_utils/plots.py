"""Every figure the lessons show. Each helper returns its matplotlib Figure."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from course_utils import config
from course_utils.train import History

#: Ten colours that stay distinct for the ten classes of MNIST and Fashion-MNIST.
CLASS_CMAP = "tab10"


def _as_images(images: torch.Tensor | np.ndarray) -> np.ndarray:
    """Images as a float array (N, H, W), whatever the channel or device layout."""
    array = images.detach().cpu().numpy() if isinstance(images, torch.Tensor) else np.asarray(images)
    if array.ndim == 4 and array.shape[1] == 1:
        array = array[:, 0]
    elif array.ndim == 2 and array.shape[1] == 784:
        array = array.reshape(-1, 28, 28)
    if array.ndim != 3:
        raise ValueError(f"Expected images of shape (N, 1, H, W) or (N, H, W), got {array.shape}.")
    return array


def _as_codes(codes: torch.Tensor | np.ndarray, what: str = "codes") -> np.ndarray:
    """Latent codes as a 2-D float array (N, D)."""
    array = codes.detach().cpu().numpy() if isinstance(codes, torch.Tensor) else np.asarray(codes)
    if array.ndim != 2:
        raise ValueError(f"{what} must have shape (N, latent_dim), got {array.shape}.")
    return array


def show_image_rows(
    rows: Mapping[str, torch.Tensor | np.ndarray],
    n: int = 10,
    title: str | None = None,
    column_titles: Sequence[str] | None = None,
) -> Figure:
    """A grid of images, one labelled row per entry (originals, reconstructions, ...)."""
    if not rows:
        raise ValueError("rows is empty: pass a dict like {'original': x, 'reconstruction': x_hat}.")
    arrays = {label: _as_images(images)[:n] for label, images in rows.items()}
    n = min(len(a) for a in arrays.values())
    fig, axes = plt.subplots(len(arrays), n, figsize=(1.1 * n, 1.2 * len(arrays) + 0.3), squeeze=False)
    for r, (label, images) in enumerate(arrays.items()):
        for c in range(n):
            ax = axes[r, c]
            ax.imshow(images[c], cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0 and column_titles is not None:
                ax.set_title(str(column_titles[c]), fontsize=8)
        axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=9)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def show_reconstructions(
    originals: torch.Tensor, reconstructions: torch.Tensor, n: int = 10, title: str | None = None
) -> Figure:
    """Originals above, their reconstructions below."""
    return show_image_rows({"original": originals, "reconstruction": reconstructions}, n, title)


def show_images(images: torch.Tensor | np.ndarray, ncols: int = 10, title: str | None = None) -> Figure:
    """A page of images in a grid (for samples and generated digits)."""
    array = _as_images(images)
    nrows = int(np.ceil(len(array) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(0.9 * ncols, 0.9 * nrows + 0.4), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, image in zip(axes.flat, array):
        ax.imshow(image, cmap="gray", vmin=0, vmax=1)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_loss_curves(
    history: History | Sequence[float], parts: Sequence[str] = ("total",), title: str = "Loss per epoch"
) -> Figure:
    """Training and validation curves of the chosen loss parts against the epoch.

    A plain list of per-epoch losses (such as ``NumpyAutoencoder.fit`` returns) also works.
    """
    if not isinstance(history, History):
        history = History(train={"total": [float(v) for v in history]}, seconds=[0.0] * len(history))
    if history.epochs == 0:
        raise ValueError("This history has no epochs yet: train the model with fit(...) first.")
    fig, ax = plt.subplots(figsize=(5.5, 3.5))
    epochs = np.arange(1, history.epochs + 1)
    for part in parts:
        if part not in history.train:
            raise KeyError(f"No loss part {part!r}; this history has {sorted(history.train)}.")
        ax.plot(epochs, history.train[part], "o-", label=f"train {part}")
        if part in history.val:
            ax.plot(epochs, history.val[part], "s--", label=f"validation {part}")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_xticks(epochs)
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    return fig


def plot_latent_scatter(
    codes: torch.Tensor | np.ndarray,
    labels: torch.Tensor | np.ndarray,
    class_names: Sequence[str] | None = None,
    ax: plt.Axes | None = None,
    title: str = "Latent space",
    alpha: float = 0.6,
) -> Figure:
    """2-D codes as dots coloured by class, with a legend of class names."""
    points = _as_codes(codes)
    if points.shape[1] != 2:
        raise ValueError(
            f"A latent scatter needs 2-D codes, got {points.shape[1]}-D. Project them first "
            "(for example with plots.plot_tsne) or train a model with latent_dim=2."
        )
    labels = np.asarray(labels.cpu() if isinstance(labels, torch.Tensor) else labels)
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 5))
    else:
        fig = ax.figure
    scatter = ax.scatter(points[:, 0], points[:, 1], c=labels, cmap=CLASS_CMAP, s=6, alpha=alpha, vmin=-0.5, vmax=9.5)
    names = class_names or [str(c) for c in range(10)]
    handles = [
        plt.Line2D([], [], marker="o", linestyle="", color=scatter.cmap(scatter.norm(c)), label=names[c])
        for c in np.unique(labels)
    ]
    ax.legend(handles=handles, fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    ax.set_xlabel("$z_1$")
    ax.set_ylabel("$z_2$")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def latent_grid_points(
    x_range: tuple[float, float], y_range: tuple[float, float], n: int
) -> np.ndarray:
    """An ``n x n`` grid of 2-D points, row by row from the top-left (high z2) corner."""
    if not isinstance(n, int) or n < 2:
        raise ValueError(f"n must be an integer >= 2, got {n!r}.")
    xs = np.linspace(*x_range, n)
    ys = np.linspace(*y_range, n)[::-1]  # top row = largest z2, as on a plot
    return np.array([[x, y] for y in ys for x in xs], dtype=np.float32)


def plot_latent_grid(
    decode: Callable[[torch.Tensor], torch.Tensor],
    x_range: tuple[float, float],
    y_range: tuple[float, float],
    n: int = 15,
    codes: torch.Tensor | np.ndarray | None = None,
    labels: torch.Tensor | np.ndarray | None = None,
    title: str = "Decoded latent grid",
) -> Figure:
    """Decode an ``n x n`` grid of 2-D codes into one mosaic, over the scatter when given."""
    points = latent_grid_points(x_range, y_range, n)
    with torch.inference_mode():
        images = _as_images(decode(torch.from_numpy(points)))
    side = images.shape[-1]
    mosaic = images.reshape(n, n, side, side).transpose(0, 2, 1, 3).reshape(n * side, n * side)
    fig, ax = plt.subplots(figsize=(7, 7))
    # Each tile is centred on the code it was decoded from.
    dx = (x_range[1] - x_range[0]) / (n - 1) / 2
    dy = (y_range[1] - y_range[0]) / (n - 1) / 2
    extent = (x_range[0] - dx, x_range[1] + dx, y_range[0] - dy, y_range[1] + dy)
    ax.imshow(mosaic, cmap="gray", extent=extent, aspect="auto", vmin=0, vmax=1)
    if codes is not None and labels is not None:
        points_seen = _as_codes(codes)
        ax.scatter(points_seen[:, 0], points_seen[:, 1], c=np.asarray(labels), cmap=CLASS_CMAP,
                   s=3, alpha=0.35, vmin=-0.5, vmax=9.5)
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_xlabel("$z_1$")
    ax.set_ylabel("$z_2$")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def code_ranges(
    codes: torch.Tensor | np.ndarray, quantile: float = 0.01
) -> tuple[tuple[float, float], tuple[float, float]]:
    """The (low, high) range of each of two code axes, trimming the most extreme points."""
    points = _as_codes(codes)
    low, high = np.quantile(points, [quantile, 1 - quantile], axis=0)
    return (float(low[0]), float(high[0])), (float(low[1]), float(high[1]))


def plot_samples_on_latent(
    codes: torch.Tensor | np.ndarray,
    labels: torch.Tensor | np.ndarray,
    samples: torch.Tensor | np.ndarray,
    decoded: torch.Tensor,
    class_names: Sequence[str] | None = None,
    title: str = "Samples from N(0, I), over the codes of real images",
) -> Figure:
    """Where prior samples land among the real codes (left), and what they decode to (right)."""
    points = _as_codes(samples, "samples")
    fig = plt.figure(figsize=(11, 4.5))
    left = fig.add_subplot(1, 2, 1)
    plot_latent_scatter(codes, labels, class_names, ax=left, title=title, alpha=0.3)
    left.scatter(points[:, 0], points[:, 1], marker="x", c="black", s=40, label="sample")
    for i, (x, y) in enumerate(points):
        left.annotate(str(i), (x, y), fontsize=7, xytext=(3, 3), textcoords="offset points")
    images = _as_images(decoded)
    ncols = int(np.ceil(np.sqrt(len(images))))
    nrows = int(np.ceil(len(images) / ncols))
    for i, image in enumerate(images):
        ax = fig.add_subplot(nrows, 2 * ncols, (i // ncols) * 2 * ncols + ncols + i % ncols + 1)
        ax.imshow(image, cmap="gray", vmin=0, vmax=1)
        ax.set_title(str(i), fontsize=7)
        ax.axis("off")
    fig.tight_layout()
    return fig


def plot_spiral_fit(
    points: np.ndarray, reconstructions: np.ndarray, codes: np.ndarray, decoded_curve: np.ndarray
) -> Figure:
    """The NumPy autoencoder on the spiral: inputs coloured by code, reconstructions, the learned curve."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.5))
    shown = left.scatter(points[:, 0], points[:, 1], c=np.ravel(codes), cmap="viridis", s=8)
    fig.colorbar(shown, ax=left, label="1-D code z")
    left.set_title("Inputs, coloured by their code")
    right.scatter(points[:, 0], points[:, 1], s=6, c="lightgray", label="input")
    right.scatter(reconstructions[:, 0], reconstructions[:, 1], s=6, c="tab:orange", label="reconstruction")
    right.plot(decoded_curve[:, 0], decoded_curve[:, 1], "k-", lw=1, label="decoder(z) over the codes' range")
    right.set_title("Reconstructions lie on the decoder's curve")
    right.legend(fontsize=8)
    for ax in (left, right):
        ax.set_aspect("equal")
    fig.tight_layout()
    return fig


def plot_error_map(
    decode_error: Callable[[np.ndarray], np.ndarray], points: np.ndarray, resolution: int = 120
) -> Figure:
    """Reconstruction error over the plane, with the training points on top."""
    pad = 0.2
    xs = np.linspace(points[:, 0].min() - pad, points[:, 0].max() + pad, resolution)
    ys = np.linspace(points[:, 1].min() - pad, points[:, 1].max() + pad, resolution)
    grid = np.array([[x, y] for y in ys for x in xs])
    error = decode_error(grid).reshape(resolution, resolution)
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    # A log scale: errors near the data and far from it differ by orders of magnitude.
    norm = LogNorm(vmin=max(float(error.min()), 1e-6), vmax=float(error.max()))
    image = ax.imshow(error, origin="lower", extent=(xs[0], xs[-1], ys[0], ys[-1]), cmap="magma", norm=norm)
    fig.colorbar(image, ax=ax, label="squared reconstruction error (log scale)")
    ax.scatter(points[:, 0], points[:, 1], s=2, c="white", alpha=0.5)
    ax.set_title("Where the autoencoder reconstructs well")
    ax.set_aspect("equal")
    fig.tight_layout()
    return fig


def save_figure(fig: Figure, name: str) -> str:
    """Save ``fig`` as ``figures/<name>.png`` (see ``config.figure_dir``) and return the path."""
    folder = config.figure_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    fig.savefig(path, dpi=120, bbox_inches="tight")
    return str(path)
