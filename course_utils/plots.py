"""Every figure the lessons show. Each helper draws, returns its matplotlib Figure, and computes no score."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from course_utils.checks import positive_int, to_numpy
from course_utils.latent import code_ranges, latent_grid_points, normal_quantile_grid
from course_utils.train import History

#: Ten colours that stay distinct for the ten classes of MNIST and Fashion-MNIST.
CLASS_CMAP = "tab10"


def _as_images(images: torch.Tensor | np.ndarray) -> np.ndarray:
    """Images as a float array (N, H, W), whatever the channel or device layout."""
    array = to_numpy(images)
    if array.ndim == 4 and array.shape[1] == 1:
        array = array[:, 0]
    elif array.ndim == 2 and array.shape[1] == 784:
        array = array.reshape(-1, 28, 28)
    if array.ndim != 3:
        raise ValueError(f"Expected images of shape (N, 1, H, W) or (N, H, W), got {array.shape}.")
    if len(array) == 0:
        raise ValueError("There are no images to show (an empty batch): pass at least one image.")
    return array


def _class_labels(labels: torch.Tensor | np.ndarray, n_points: int, class_names: Sequence[str] | None) -> np.ndarray:
    """Labels as an int array, one per point and each naming a class, or a clear error."""
    array = to_numpy(labels).ravel()
    if len(array) != n_points:
        raise ValueError(f"{n_points} codes but {len(array)} labels: pass the labels of the same images, "
                         "e.g. splits.val.labels with the codes of splits.val.images.")
    n_classes = len(class_names) if class_names else 10
    if array.size and (array.min() < 0 or array.max() >= n_classes or not np.all(array == np.round(array))):
        raise ValueError(f"Labels must be class numbers 0..{n_classes - 1} (one per class name), "
                         f"got values from {array.min()} to {array.max()}.")
    return array.astype(int)


def _as_codes(codes: torch.Tensor | np.ndarray, what: str = "codes") -> np.ndarray:
    """Latent codes as a 2-D float array (N, D)."""
    array = to_numpy(codes)
    if array.ndim != 2:
        raise ValueError(f"{what} must have shape (N, latent_dim), got {array.shape}.")
    return array


# --- Images in rows and grids -----------------------------------------------------------------


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
    # At most 10 inches wide, so that the notebook never shrinks the labels below 9 pt.
    width = min(1.1 * n, 10.0)
    fig, axes = plt.subplots(len(arrays), n, figsize=(width, width / n * 1.1 * len(arrays) + 0.3), squeeze=False)
    for r, (label, images) in enumerate(arrays.items()):
        for c in range(n):
            ax = axes[r, c]
            ax.imshow(images[c], cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0 and column_titles is not None:
                ax.set_title(str(column_titles[c]), fontsize=9)
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


def plot_model_comparison(
    originals: torch.Tensor,
    reconstructions: Mapping[str, torch.Tensor],
    samples: Mapping[str, torch.Tensor] | None = None,
    recon_notes: Mapping[str, str] | None = None,
    sample_notes: Mapping[str, str] | None = None,
    n: int = 8,
    title: str | None = None,
) -> Figure:
    """Originals over each model's reconstructions (top panel) and each model's decoded prior samples (below).

    ``recon_notes`` and ``sample_notes`` add a measured line under a row label, e.g. {"VAE": "BCE 0.27"}.
    """
    if not reconstructions:
        raise ValueError("reconstructions is empty: pass a dict like {'AE': ae_recon, 'VAE': vae_recon}.")
    for notes, rows, what in ((recon_notes, reconstructions, "recon_notes"), (sample_notes, samples, "sample_notes")):
        unknown = set(notes or {}) - set(rows or {})
        if unknown:
            raise ValueError(f"{what} name models {sorted(unknown)} that have no row; use the same keys as the images.")
    left_rows = {"original": _as_images(originals)[:n]}
    left_rows.update({name: _as_images(images)[:n] for name, images in reconstructions.items()})
    panels = [("Reconstructions of the same images", left_rows, dict(recon_notes or {}))]
    if samples:
        right_rows = {name: _as_images(images)[:n] for name, images in samples.items()}
        panels.append(("Decoded samples z ~ N(0, I)", right_rows, dict(sample_notes or {})))
    n = min(len(images) for _, rows, _ in panels for images in rows.values())
    # Panels stacked, not side by side: one row of n images stays under 10 inches, so the notebook
    # shows the labels at full size instead of shrinking a twice-as-wide figure.
    tile = min(0.85, 8.2 / n)
    heights = [len(rows) * tile * 1.25 + 0.45 for _, rows, _ in panels]
    fig = plt.figure(figsize=(tile * n + 1.8, sum(heights)))
    subfigs = np.atleast_1d(fig.subfigures(len(panels), 1, height_ratios=heights, hspace=0.02))
    for subfig, (heading, rows, notes) in zip(subfigs, panels):
        axes = subfig.subplots(len(rows), n, squeeze=False)
        for r, (name, images) in enumerate(rows.items()):
            for c in range(n):
                ax = axes[r, c]
                ax.imshow(images[c], cmap="gray", vmin=0, vmax=1)
                ax.set_xticks([])
                ax.set_yticks([])
            label = name + (f"\n{notes[name]}" if name in notes else "")
            axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=9)
        subfig.suptitle(heading, fontsize=10)
    if title:
        fig.suptitle(title, y=1.04)
    return fig


# --- Training ---------------------------------------------------------------------------------


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
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # a few whole epochs, even for 300 of them
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    return fig


def plot_learning_rate(rates: Sequence[float], steps_per_epoch: int, title: str = "One-cycle learning rate") -> Figure:
    """The learning rate at every training step, with the epochs marked."""
    steps_per_epoch = positive_int("steps_per_epoch", steps_per_epoch)
    if len(rates) == 0:
        raise ValueError("rates is empty: record the learning rate at every step, then plot it.")
    fig, ax = plt.subplots(figsize=(5.5, 3.0))
    ax.plot(np.arange(1, len(rates) + 1), rates, lw=2)
    for boundary in range(steps_per_epoch, len(rates), steps_per_epoch):
        ax.axvline(boundary, color="gray", ls=":", lw=1)
    ax.set_xlabel(f"training step (dotted lines: epochs of {steps_per_epoch} steps)")
    ax.set_ylabel("learning rate")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_bound_vs_k(
    bounds: Mapping[int, torch.Tensor | np.ndarray],
    elbo: float | None = None,
    title: str = "Importance-weighted bound on log p(x)",
) -> Figure:
    """Mean bound (nats per image) against the number of samples K, with +-2 standard errors of its gain over K = 1.

    ``bounds`` maps K to the per-image bounds of the same images; ``elbo`` (if given) is drawn as a dashed line.
    """
    if not bounds:
        raise ValueError("bounds is empty: pass {K: per-image bounds}, e.g. {1: ..., 10: ..., 100: ...}.")
    ks = sorted(bounds)
    values = {k: to_numpy(bounds[k]).astype(np.float64).ravel() for k in ks}
    if len({len(v) for v in values.values()}) != 1:
        raise ValueError("Every K needs the bounds of the same images: the arrays have different lengths.")
    base = values[ks[0]]
    means = np.array([values[k].mean() for k in ks])
    # the same images at every K, so the paired gains are far less noisy than the bounds themselves
    spread = np.array([2 * (values[k] - base).std(ddof=1) / np.sqrt(len(base)) if len(base) > 1 else 0.0
                       for k in ks])
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    ax.errorbar(ks, means, yerr=spread, fmt="o-", capsize=4,
                label=f"IWAE bound, mean of {len(base)} images\n(bars: ±2 s.e. of the gain over K = {ks[0]})")
    if elbo is not None:
        ax.axhline(elbo, color="gray", ls="--", lw=1, label="ELBO (minus the lesson's loss)")
    ax.set_xscale("log")
    ax.set_xlabel("K, importance samples per image")
    ax.set_ylabel("nats per image")
    ax.set_title(title)
    ax.legend(fontsize=9, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)  # below: never over the curve
    fig.tight_layout()
    return fig


# --- Maps of the latent space -----------------------------------------------------------------


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
    labels = _class_labels(labels, len(points), class_names)
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
    ax.legend(handles=handles, fontsize=9, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    ax.set_xlabel("$z_1$")
    ax.set_ylabel("$z_2$")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_latent_scatters(
    codes: Mapping[str, torch.Tensor | np.ndarray],
    labels: torch.Tensor | np.ndarray,
    class_names: Sequence[str] | None = None,
    prior_circle: bool = True,
    title: str | None = None,
) -> Figure:
    """2-D latent scatters side by side with their own axis scales, and the circle holding 95% of N(0, I)."""
    if not codes:
        raise ValueError("codes is empty: pass a dict like {'beta = 1': codes_of_that_model}.")
    fig, axes = plt.subplots(1, len(codes), figsize=(3.1 * len(codes) + 0.8, 3.4), squeeze=False)
    radius = float(np.sqrt(-2.0 * np.log(0.05)))  # P(|z| < r) = 0.95 for a 2-D standard normal
    for ax, (name, points) in zip(axes[0], codes.items()):
        plot_latent_scatter(points, labels, class_names, ax=ax, title=name, alpha=0.5)
        if prior_circle:
            ax.add_patch(plt.Circle((0.0, 0.0), radius, fill=False, color="black", lw=1.2, ls="--"))
            ax.plot([], [], "k--", lw=1.2, label="95% of N(0, I)")
        if ax is not axes[0, -1]:
            ax.get_legend().remove()
        ax.set_aspect("equal", adjustable="datalim")
    if prior_circle:  # the legend of the last panel also names the circle
        last = axes[0, -1]
        handles = list(last.get_legend().legend_handles) + [plt.Line2D([], [], color="black", ls="--")]
        texts = [t.get_text() for t in last.get_legend().get_texts()] + ["95% of N(0, I)"]
        last.legend(handles, texts, fontsize=9, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def _decoded_mosaic(
    decode: Callable[[torch.Tensor], torch.Tensor], points: torch.Tensor, n: int, name: str
) -> np.ndarray:
    """Decode ``n * n`` codes (row by row) and tile the images into one ``(n * side, n * side)`` picture."""
    with torch.inference_mode():
        images = _as_images(decode(points))
    if len(images) != n * n:
        raise ValueError(f"decoder {name!r} returned {len(images)} images for {n * n} codes: decode each code once.")
    side = images.shape[-1]
    return images.reshape(n, n, side, side).transpose(0, 2, 1, 3).reshape(n * side, n * side)


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
    try:
        mosaic = _decoded_mosaic(decode, torch.from_numpy(points), n, "decode")
    except ValueError as error:
        if "codes of shape" not in str(error):
            raise
        wanted = str(error).split(". ")[0]
        raise ValueError(
            "plot_latent_grid needs a decoder of 2-D codes (the grid runs over z1 and z2), but this one wants "
            f"other codes ({wanted}). Draw the grid of a model trained with latent_dim=2, or walk a larger code "
            "space with latent.interpolate."
        ) from error
    fig, ax = plt.subplots(figsize=(7, 7))
    # Each tile is centred on the code it was decoded from.
    dx = (x_range[1] - x_range[0]) / (n - 1) / 2
    dy = (y_range[1] - y_range[0]) / (n - 1) / 2
    extent = (x_range[0] - dx, x_range[1] + dx, y_range[0] - dy, y_range[1] + dy)
    ax.imshow(mosaic, cmap="gray", extent=extent, aspect="auto", vmin=0, vmax=1)
    if codes is not None and labels is not None:
        points_seen = _as_codes(codes)
        ax.scatter(points_seen[:, 0], points_seen[:, 1], c=_class_labels(labels, len(points_seen), None),
                   cmap=CLASS_CMAP,
                   s=3, alpha=0.35, vmin=-0.5, vmax=9.5)
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_xlabel("$z_1$")
    ax.set_ylabel("$z_2$")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_quantile_grids(
    decoders: Mapping[str, Callable[[torch.Tensor], torch.Tensor]],
    n: int = 15,
    low: float = 0.05,
    high: float = 0.95,
    title: str | None = None,
) -> Figure:
    """Decode the same grid of standard-normal quantiles with each model, mosaics side by side.

    Each decoder maps codes ``(n * n, 2)`` to images; tiles are equally spaced in probability
    (see ``latent.normal_quantile_grid``), and the ticks give the z value of some tiles.
    """
    if not decoders:
        raise ValueError("decoders is empty: pass a dict like {'VAE': lambda z: vae.decode(z)}.")
    points = normal_quantile_grid(n, low, high)
    fig, axes = plt.subplots(1, len(decoders), figsize=(5.2 * len(decoders), 5.4), squeeze=False)
    for ax, (name, decode) in zip(axes[0], decoders.items()):
        mosaic = _decoded_mosaic(decode, points, n, name)
        side = mosaic.shape[0] // n
        ax.imshow(mosaic, cmap="gray", vmin=0, vmax=1)
        ticks = sorted({0, n // 2, n - 1})
        centres = [side * (i + 0.5) for i in ticks]
        z1 = points[:n, 0].numpy()  # first row: z1 from left to right
        z2 = points[::n, 1].numpy()  # first column: z2 from top to bottom
        ax.set_xticks(centres, [f"{z1[i]:.2f}" for i in ticks])
        ax.set_yticks(centres, [f"{z2[i]:.2f}" for i in ticks])
        ax.set_xlabel(f"$z_1$ (quantiles {low:.0%} to {high:.0%} of N(0, 1))")
        ax.set_ylabel("$z_2$")
        ax.set_title(name)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def _number_points(ax: plt.Axes, points: np.ndarray, min_gap_px: float = 16.0) -> None:
    """Label points #0, #1, ... beside them; if labels would overlap, fan them out on a ring with leader lines."""
    ax.autoscale_view()
    shown = ax.transData.transform(points)  # display pixels, where overlap is judged
    gaps = np.linalg.norm(shown[:, None] - shown[None], axis=-1) + np.eye(len(points)) * 1e9
    if len(points) < 2 or gaps.min() >= min_gap_px:
        for i, (x, y) in enumerate(points):
            ax.annotate(f"#{i}", (x, y), fontsize=9, xytext=(3, 3), textcoords="offset points")
        return
    # piled up (e.g. N(0, I) samples among codes that spread much wider): one label per slot on a ring,
    # the slots in the same angular order as the points, so that leader lines do not cross
    centre = shown.mean(axis=0)
    angles = np.arctan2(*(shown - centre).T[::-1])
    radius = np.linalg.norm(shown - centre, axis=1).max() + max(30.0, len(points) * 28.0 / (2 * np.pi))
    order = np.argsort(angles)
    slots = angles[order[0]] + 2 * np.pi * np.arange(len(points)) / len(points)
    ring = centre + radius * np.stack([np.cos(slots), np.sin(slots)], axis=1)
    places = ax.transData.inverted().transform(ring)  # in data units, so that the axes can grow to hold them
    for place, i in zip(places, order):
        ax.annotate(f"#{i}", points[i], xytext=tuple(place), textcoords="data", fontsize=9, ha="center",
                    va="center", bbox=dict(boxstyle="round,pad=0.1", fc="white", ec="none", alpha=0.75),
                    arrowprops=dict(arrowstyle="-", lw=0.6, color="0.35", shrinkA=4, shrinkB=3))
    ax.update_datalim(places)  # a ring near the edge would otherwise spill over the tick labels
    ax.autoscale_view()


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
    fig = plt.figure(figsize=(10, 4.3))  # the legend sits outside: keep the whole under the notebook's width
    left = fig.add_subplot(1, 2, 1)
    plot_latent_scatter(codes, labels, class_names, ax=left, title=title, alpha=0.3)
    left.scatter(points[:, 0], points[:, 1], marker="x", c="black", s=40, label="sample")
    _number_points(left, points)
    legend = left.get_legend()
    if legend is not None:  # below the scatter, where the images on the right cannot cover it
        handles, texts = legend.legend_handles, [t.get_text() for t in legend.get_texts()]
        legend.remove()
        columns = 5 if max(len(t) for t in texts) <= 6 else 2  # long garment names: two columns, or it widens
        left.legend(handles, texts, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=columns, fontsize=9,
                    frameon=False)
    images = _as_images(decoded)
    ncols = int(np.ceil(np.sqrt(len(images))))
    nrows = int(np.ceil(len(images) / ncols))
    for i, image in enumerate(images):
        ax = fig.add_subplot(nrows, 2 * ncols, (i // ncols) * 2 * ncols + ncols + i % ncols + 1)
        ax.imshow(image, cmap="gray", vmin=0, vmax=1)
        ax.set_title(f"#{i}", fontsize=9)
        ax.axis("off")
    fig.tight_layout()
    return fig


def plot_thumbnails_on_latent(
    codes: torch.Tensor | np.ndarray,
    images: torch.Tensor | np.ndarray,
    labels: torch.Tensor | np.ndarray | None = None,
    class_names: Sequence[str] | None = None,
    n_thumbnails: int = 120,
    zoom: float = 0.7,
    marks: Mapping[str, Sequence[float]] | None = None,
    quantile: float = 0.01,
    seed: int = 0,
    title: str = "The wardrobe: each garment hung at its 2-D code",
) -> Figure:
    """Real images drawn as thumbnails at their 2-D codes, over the dots of all codes.

    Thumbnails are picked at random but never on top of each other; ``marks`` adds labelled
    stars, e.g. ``{"empty spot": (1.5, 2.0)}``. The view is ``code_ranges(codes, quantile)``.
    """
    from matplotlib.offsetbox import AnnotationBbox, OffsetImage

    points = _as_codes(codes)
    if points.shape[1] != 2:
        raise ValueError(
            f"Thumbnails need 2-D codes, got {points.shape[1]}-D: train a model with latent_dim=2."
        )
    pictures = _as_images(images)
    if len(pictures) != len(points):
        raise ValueError(f"{len(points)} codes but {len(pictures)} images: pass each image's own code.")
    n_thumbnails = positive_int("n_thumbnails", n_thumbnails)
    if not zoom > 0:
        raise ValueError(f"zoom must be positive (1 draws 28x28 images at 28 screen pixels), got {zoom!r}.")
    (x_low, x_high), (y_low, y_high) = code_ranges(points, quantile)
    pad_x, pad_y = 0.05 * (x_high - x_low) or 1.0, 0.05 * (y_high - y_low) or 1.0
    fig, ax = plt.subplots(figsize=(8, 7))
    if labels is not None:
        label_array = to_numpy(labels)
        if len(label_array) != len(points):
            raise ValueError(f"{len(points)} codes but {len(label_array)} labels: they must match.")
        plot_latent_scatter(points, label_array, class_names, ax=ax, title=title, alpha=0.25)
        colours = plt.get_cmap(CLASS_CMAP)(label_array.astype(int) % 10)
    else:
        ax.scatter(points[:, 0], points[:, 1], s=4, c="lightgray")
        ax.set_title(title)
        colours = np.tile(np.array([[0.4, 0.4, 0.4, 1.0]]), (len(points), 1))
    # Thumbnails go to random codes inside the view, each at least `gap` (a share of the view)
    # from the ones already placed, so that none hides another.
    scale = np.array([x_high - x_low + 2 * pad_x, y_high - y_low + 2 * pad_y])
    gap = 0.9 / np.sqrt(n_thumbnails)
    placed: list[np.ndarray] = []
    for i in np.random.default_rng(seed).permutation(len(points)):
        x, y = points[i]
        if not (x_low <= x <= x_high and y_low <= y <= y_high):
            continue
        here = points[i] / scale
        if placed and np.min(np.linalg.norm(np.array(placed) - here, axis=1)) < gap:
            continue
        placed.append(here)
        thumbnail = OffsetImage(pictures[i], zoom=zoom, cmap="gray_r")
        thumbnail.get_children()[0].set_clim(0, 1)
        box = AnnotationBbox(thumbnail, (x, y), frameon=True, pad=0.05,
                             bboxprops={"edgecolor": colours[i], "linewidth": 1.2})
        ax.add_artist(box)
        if len(placed) == n_thumbnails:
            break
    for name, point in (marks or {}).items():
        if len(point) != 2:
            raise ValueError(f"mark {name!r} must be one 2-D point (z1, z2), got {point!r}.")
        ax.scatter([point[0]], [point[1]], marker="*", s=320, c="red", edgecolors="black", zorder=5)
        ax.annotate(name, (point[0], point[1]), xytext=(8, 8), textcoords="offset points", fontsize=10,
                    weight="bold", color="darkred", zorder=6)
    ax.set_xlim(x_low - pad_x, x_high + pad_x)
    ax.set_ylim(y_low - pad_y, y_high + pad_y)
    ax.set_xlabel("$z_1$")
    ax.set_ylabel("$z_2$")
    fig.tight_layout()
    return fig


def plot_tsne(
    embeddings: Mapping[str, torch.Tensor | np.ndarray],
    labels: torch.Tensor | np.ndarray,
    class_names: Sequence[str] | None = None,
    title: str | None = None,
) -> Figure:
    """2-D embeddings (t-SNE of codes, of pixels...) side by side, one panel each, coloured by class.

    The axes carry no ticks or labels on purpose: t-SNE coordinates have no units and no meaning.
    """
    if not embeddings:
        raise ValueError("embeddings is empty: pass a dict like {'codes': tsne_of_codes}.")
    n_labels = len(labels)
    for name, points in embeddings.items():
        shape = tuple(points.shape)
        if len(shape) != 2 or shape[1] != 2 or shape[0] != n_labels:
            raise ValueError(
                f"embedding {name!r} has shape {shape}, expected ({n_labels}, 2): project the codes "
                "to 2-D first (projection.tsne) and pass one label per point."
            )
    fig = plot_latent_scatters(embeddings, labels, class_names, prior_circle=False, title=title)
    for ax in fig.axes:
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel("")
        ax.set_ylabel("")
    return fig


# --- Scores as charts -------------------------------------------------------------------------


def plot_class_shares(
    predictions: Mapping[str, np.ndarray | torch.Tensor],
    class_names: Sequence[str],
    title: str = "Which classes do decoded codes look like?",
) -> Figure:
    """Grouped bars: for each set of images, the share a classifier reads as each class."""
    if not predictions:
        raise ValueError("predictions is empty: pass a dict like {'decoded N(0, I) samples': read_as}.")
    fig, ax = plt.subplots(figsize=(8, 3.4))
    width = 0.8 / len(predictions)
    positions = np.arange(len(class_names))
    for k, (name, predicted) in enumerate(predictions.items()):
        values = to_numpy(predicted).astype(int)
        if values.size and (values.min() < 0 or values.max() >= len(class_names)):
            raise ValueError(f"{name}: predictions must be class indices 0..{len(class_names) - 1}.")
        shares = np.bincount(values, minlength=len(class_names)) / max(1, len(values))
        ax.bar(positions + (k - (len(predictions) - 1) / 2) * width, shares, width, label=name)
    ax.set_xticks(positions, class_names, rotation=30 if max(map(len, class_names)) > 3 else 0, ha="right"
                  if max(map(len, class_names)) > 3 else "center")
    ax.set_ylabel("share of images")
    ax.set_title(title)
    ax.legend(frameon=False)
    fig.tight_layout()
    return fig


def plot_error_histograms(
    scores: Mapping[str, torch.Tensor | np.ndarray],
    title: str = "Reconstruction error per image",
    xlabel: str = "MSE per pixel (log scale)",
    bins: int = 40,
) -> Figure:
    """Overlaid histograms of per-image scores, one per group (normal vs odd images), on a log x-axis."""
    if not scores:
        raise ValueError("scores is empty: pass a dict like {'normal': errors, 'patched': errors}.")
    arrays = {}
    for name, values in scores.items():
        array = np.ravel(to_numpy(values))
        if len(array) == 0 or np.any(array <= 0):
            raise ValueError(f"scores {name!r} must be a non-empty list of positive errors (a log axis needs > 0).")
        arrays[name] = array
    everything = np.concatenate(list(arrays.values()))
    edges = np.geomspace(everything.min(), everything.max(), bins + 1)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for name, array in arrays.items():
        ax.hist(array, bins=edges, alpha=0.55, label=f"{name} ({len(array)})")
    ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("images")
    ax.set_title(title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)  # never over the bars
    fig.tight_layout()
    return fig


def plot_error_by_latent_size(
    errors: Mapping[int, float],
    baselines: Mapping[str, float] | None = None,
    ylabel: str = "validation MSE per pixel",
    title: str = "Reconstruction error against the size of the code",
    others: Mapping[str, Mapping[int, float]] | None = None,
) -> Figure:
    """Error (one value per latent size) on a log2 x-axis, with optional flat baselines for context.

    ``others`` adds a curve per method at the same sizes, e.g. ``{"PCA": {2: ..., 8: ...}}``.
    """
    if not errors:
        raise ValueError("errors is empty: pass a dict like {2: error_of_2d_model, 8: error_of_8d_model}.")
    sizes = sorted(errors)
    if any(not isinstance(s, (int, np.integer)) or isinstance(s, bool) or s < 1 for s in sizes):
        raise ValueError(f"The keys of errors must be latent sizes (positive integers), got {sizes}.")
    for name, curve in (others or {}).items():
        if sorted(curve) != sizes:
            raise ValueError(f"{name!r} has errors at sizes {sorted(curve)} but the autoencoder at {sizes}: "
                             "compare them at the same code sizes.")
    values = [float(errors[s]) for s in sizes]
    fig, ax = plt.subplots(figsize=(6, 3.8))
    curves = {"autoencoder": values}
    curves.update({name: [float(curve[s]) for s in sizes] for name, curve in (others or {}).items()})
    top = [max(column) for column in zip(*curves.values())]
    for (name, ys), style in zip(curves.items(), ("o-", "s-", "D-", "^-", "v-")):
        line, = ax.plot(sizes, ys, style, lw=2 if name == "autoencoder" else 1.5, label=name)
        for size, value, highest in zip(sizes, ys, top):  # the highest value's label above, the others' below
            ax.annotate(f"{value:.4f}", (size, value), xytext=(0, 7 if value == highest else -14),
                        textcoords="offset points", ha="center", fontsize=9,
                        color="black" if name == "autoencoder" else line.get_color())
    for (name, value), style in zip((baselines or {}).items(), ("--", ":", "-.")):
        ax.axhline(float(value), color="gray", ls=style, label=name)
    ax.set_xscale("log", base=2)
    ax.set_xticks(sizes, [str(s) for s in sizes])
    ax.set_xlabel("latent size (numbers per image)")
    ax.set_ylabel(ylabel)
    ax.set_ylim(bottom=0)
    ax.set_title(title)
    ax.legend(fontsize=9)
    fig.tight_layout()
    return fig


def plot_neighbours(
    queries: torch.Tensor | np.ndarray,
    neighbours: Mapping[str, torch.Tensor | np.ndarray],
    same_class: Mapping[str, torch.Tensor | np.ndarray] | None = None,
    query_titles: Sequence[str] | None = None,
    title: str | None = None,
) -> Figure:
    """Each query image beside its nearest neighbours found one way per row (by code, by pixels, ...).

    ``neighbours[name]`` has shape (queries, k, 1, H, W); ``same_class[name]`` (queries, k) frames each
    neighbour green when it shares the query's class and red when it does not.
    """
    from matplotlib.gridspec import GridSpec

    shown = _as_images(queries)
    if not neighbours:
        raise ValueError("neighbours is empty: pass a dict like {'by code': images, 'by pixels': images}.")
    found = {}
    for name, images in neighbours.items():
        array = to_numpy(images)
        if array.ndim != 5 or array.shape[0] != len(shown):
            raise ValueError(f"neighbours[{name!r}] must have shape (queries={len(shown)}, k, 1, H, W), "
                             f"got {array.shape}.")
        found[name] = array[:, :, 0]
    k, n_rows = min(a.shape[1] for a in found.values()), len(found)
    frames = {name: to_numpy(marks).astype(bool) for name, marks in (same_class or {}).items()}
    width = min(0.95 * k + 2.6, 10.0)  # one inch per neighbour, the query, the row names
    height = (width - 2.6) / k * 1.12 * len(shown) * n_rows + (0.7 if title else 0.35)
    fig = plt.figure(figsize=(width, height))
    # Laid out by hand (tight_layout leaves wide gaps between equal-aspect images).
    grid = GridSpec(len(shown) * n_rows, k + 2, figure=fig, width_ratios=[1.4, 1.0] + [1] * k, left=0.01,
                    right=0.99, bottom=0.01, top=1 - (0.55 if title else 0.3) / height, wspace=0.08, hspace=0.12)
    for q, image in enumerate(shown):
        ax = fig.add_subplot(grid[q * n_rows:(q + 1) * n_rows, 0])
        ax.imshow(image, cmap="gray", vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(query_titles[q] if query_titles else "query", fontsize=9)
        for r, (name, images) in enumerate(found.items()):
            for j in range(k):
                ax = fig.add_subplot(grid[q * n_rows + r, j + 2])
                ax.imshow(images[q, j], cmap="gray", vmin=0, vmax=1)
                ax.set_xticks([])
                ax.set_yticks([])
                if name in frames:
                    colour = "#1a9850" if frames[name][q, j] else "#d73027"
                    for spine in ax.spines.values():
                        spine.set_edgecolor(colour)
                        spine.set_linewidth(2.5)
                if j == 0:
                    ax.set_ylabel(name, rotation=0, ha="right", va="center", fontsize=9)
    if title:
        fig.suptitle(title, fontsize=11)
    return fig


# --- The NumPy autoencoder on a spiral (lesson 2) ---------------------------------------------


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
    right.legend(fontsize=9)
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


# --- Autoencoders at work (lesson 5) ----------------------------------------------------------


def _score_arrays(groups: Mapping[str, torch.Tensor | np.ndarray], what: str) -> dict[str, np.ndarray]:
    """Each group's scores as a non-empty 1-D array of finite numbers, or a clear error."""
    if not groups:
        raise ValueError(f"{what} is empty: pass a dict like {{'normal': scores, 'odd': scores}}.")
    arrays = {}
    for name, values in groups.items():
        array = np.ravel(to_numpy(values)).astype(float)
        if array.size == 0 or not np.all(np.isfinite(array)):
            raise ValueError(f"{what}[{name!r}] must be a non-empty list of finite scores.")
        arrays[name] = array
    return arrays


def _overlaid_histograms(ax: plt.Axes, arrays: Mapping[str, np.ndarray], bins: int) -> None:
    """Histograms of several groups on shared bins, each as a share of its group (groups differ in size)."""
    everything = np.concatenate(list(arrays.values()))
    low, high = np.quantile(everything, [0.005, 0.995])  # a few extreme scores would squash the rest
    edges = np.linspace(low, high if high > low else low + 1.0, bins + 1)
    for name, array in arrays.items():
        weights = np.full(len(array), 1.0 / len(array))
        ax.hist(np.clip(array, edges[0], edges[-1]), bins=edges, weights=weights, alpha=0.5, label=name)


def plot_score_panels(
    scores: Mapping[str, Mapping[str, torch.Tensor | np.ndarray]],
    notes: Mapping[str, str] | None = None,
    title: str | None = None,
    bins: int = 30,
) -> Figure:
    """One panel per anomaly score (``{score: {group: values}}``), the groups' histograms overlaid.

    ``notes[score]`` is printed under the panel's title (such as the AUCs); higher scores mean "odder".
    """
    if not scores:
        raise ValueError("scores is empty: pass {score name: {group: values}}.")
    columns = min(len(scores), 3)
    rows = -(-len(scores) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(3.6 * columns, 2.9 * rows), squeeze=False)
    for ax in axes.flat[len(scores):]:
        ax.axis("off")
    for ax, (name, groups) in zip(axes.flat, scores.items()):
        _overlaid_histograms(ax, _score_arrays(groups, f"scores[{name!r}]"), bins)
        ax.set_title(name + (f"\n{notes[name]}" if notes and name in notes else ""), fontsize=10)
        ax.set_yticks([])
        ax.tick_params(labelsize=9)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), frameon=False, fontsize=10)
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout(rect=(0, 0.07 if rows == 1 else 0.04, 1, 1))
    return fig


def plot_threshold(
    normal_scores: torch.Tensor | np.ndarray,
    odd_scores: torch.Tensor | np.ndarray,
    threshold: float,
    report: Mapping[str, float],
    names: tuple[str, str] = ("normal", "odd"),
    xlabel: str = "anomaly score",
    bins: int = 40,
) -> Figure:
    """The two groups' score histograms, the threshold as a line, and precision and recall at it."""
    arrays = _score_arrays({names[0]: normal_scores, names[1]: odd_scores}, "scores")
    fig, ax = plt.subplots(figsize=(6.4, 3.2))
    _overlaid_histograms(ax, arrays, bins)
    ax.axvline(float(threshold), color="black", lw=2, label=f"threshold {threshold:.3g}")
    ax.axvspan(float(threshold), ax.get_xlim()[1], color="tab:red", alpha=0.06)
    ax.set_xlabel(xlabel + " (flagged: right of the line)")
    ax.set_ylabel("share of group")
    ax.set_title(f"precision {report['precision']:.0%}   recall {report['recall']:.0%}   "
                 f"false alarms {report['false_alarms']:.0%}", fontsize=11)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=10)
    fig.tight_layout()
    return fig


def plot_few_label_curves(
    results: Mapping[str, Mapping[int, Sequence[float]]],
    title: str = "Test accuracy against the number of labelled images",
    chance: float | None = None,
) -> Figure:
    """Accuracy per label count for each method: the mean over draws as a line, min to max as a band."""
    if not results:
        raise ValueError("results is empty: pass {method: {label count: [accuracy per draw]}}.")
    fig, ax = plt.subplots(figsize=(6.8, 3.8))
    for (name, curve), marker in zip(results.items(), "osD^v<>"):
        counts = sorted(curve)
        if not counts or any(len(curve[n]) == 0 for n in counts):
            raise ValueError(f"results[{name!r}] needs at least one accuracy per label count.")
        values = [np.asarray(curve[n], dtype=float) for n in counts]
        line, = ax.plot(counts, [v.mean() for v in values], marker + "-", label=name)
        ax.fill_between(counts, [v.min() for v in values], [v.max() for v in values], color=line.get_color(),
                        alpha=0.15)
    if chance is not None:
        ax.axhline(chance, color="gray", ls=":", label="chance")
    ax.set_xscale("log")
    ax.set_xlabel("labelled training images (log scale)")
    ax.set_ylabel("test accuracy")
    ax.set_title(title, fontsize=11)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=10)
    fig.tight_layout()
    return fig


def plot_rate_distortion(
    curves: Mapping[str, Sequence[tuple[float, float]]],
    labels: Mapping[str, Sequence[str]] | None = None,
    title: str = "Bytes per image against reconstruction error",
    ylabel: str = "MSE per pixel",
) -> Figure:
    """One curve per codec: (bytes per image, error) points on a log-x axis; ``labels`` name each point."""
    if not curves:
        raise ValueError("curves is empty: pass {codec: [(bytes, error), ...]}.")
    fig, ax = plt.subplots(figsize=(7.0, 4.0))
    for (name, points), marker in zip(curves.items(), "osD^v<>ph"):
        array = np.asarray(points, dtype=float).reshape(-1, 2)
        if len(array) == 0 or np.any(array[:, 0] <= 0):
            raise ValueError(f"curves[{name!r}] needs (bytes, error) points with bytes > 0.")
        order = np.argsort(array[:, 0])
        ax.plot(array[order, 0], array[order, 1], marker + "-", label=name)
        for (x, y), text in zip(array, (labels or {}).get(name, [])):
            # a lossless point (error 0) is labelled below it, clear of the lossy curves' labels above
            offset, align = ((0, -12), "center") if y == 0 else ((4, 4), "left")
            ax.annotate(text, (x, y), xytext=offset, textcoords="offset points", fontsize=9, ha=align)
    ax.set_xscale("log")
    ax.set_xlabel("bytes per image (log scale)")
    ax.set_ylabel(ylabel)
    top = ax.get_ylim()[1]
    ax.set_ylim(-0.1 * top, top)  # room below zero, so lossless points and their labels are not cut by the axis
    ax.set_title(title, fontsize=11)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=10)
    fig.tight_layout()
    return fig


def plot_code_usage(counts: Mapping[str, np.ndarray], title: str = "How often each codebook entry is used") -> Figure:
    """One panel per model: the share of grid cells each codebook entry takes, entries sorted from most used."""
    if not counts:
        raise ValueError("counts is empty: pass {model name: discrete.code_counts(indices, num_codes)}.")
    fig, axes = plt.subplots(1, len(counts), figsize=(4.6 * len(counts), 2.8), squeeze=False, sharey=True)
    for ax, (name, values) in zip(axes[0], counts.items()):
        values = np.sort(to_numpy(values).astype(float))[::-1]
        if values.sum() <= 0:
            raise ValueError(f"{name}: the counts are all zero; count the codes of some encoded images.")
        ax.bar(np.arange(len(values)), values / values.sum(), width=1.0, color="tab:blue")
        unused = int((values == 0).sum())
        ax.set_title(f"{name}\n{unused} of {len(values)} entries unused", fontsize=10)
        ax.set_xlabel("codebook entry (sorted by use)", fontsize=9)
    axes[0, 0].set_ylabel("share of grid cells", fontsize=9)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig


def plot_scaling(sizes: Sequence[float], costs: Sequence[float], slope: float, xlabel: str = "dimension D",
                 ylabel: str = "seconds per EM round", title: str = "Cost against size (log-log)") -> Figure:
    """A small log-log plot of measured costs, with the fitted power law ``cost ~ size**slope`` and D^2, D^3 guides."""
    sizes, costs = np.asarray(sizes, dtype=float), np.asarray(costs, dtype=float)
    if sizes.shape != costs.shape or len(sizes) < 2 or np.any(sizes <= 0) or np.any(costs <= 0):
        raise ValueError("sizes and costs must be two or more positive numbers each, one cost per size.")
    fig, ax = plt.subplots(figsize=(4.8, 3.0))
    ax.loglog(sizes, costs, "o", label=f"measured (slope {slope:.1f})")
    anchor = costs[-1] / sizes[-1] ** slope
    ax.loglog(sizes, anchor * sizes ** slope, "-", color="tab:blue", alpha=0.6)
    for power, style in ((2, ":"), (3, "--")):  # guides through the largest point
        ax.loglog(sizes, costs[-1] * (sizes / sizes[-1]) ** power, style, color="grey", label=f"$D^{power}$")
    ax.set_xticks(sizes, [f"{s:g}" for s in sizes], minor=False)
    ax.set_xticks([], minor=True)  # log axes add crowded minor labels between the measured sizes
    ax.set_xlabel(xlabel, fontsize=10)
    ax.set_ylabel(ylabel, fontsize=10)
    ax.set_title(title, fontsize=11)
    ax.legend(fontsize=9, frameon=False)
    fig.tight_layout()
    return fig
