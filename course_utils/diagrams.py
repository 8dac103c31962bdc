"""Architecture diagrams (autoencoder, VAE), drawn with matplotlib shapes and text only: no image files.

Each helper returns its Figure. Bars stand for layers; a bar's height grows with the log of the layer's
size, so that a 2-number code stays visible beside 784 pixels.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Polygon, Rectangle

from course_utils.checks import positive_int

ENCODER_COLOUR = "#4C72B0"
DECODER_COLOUR = "#DD8452"
CODE_COLOUR = "#C44E52"
DATA_COLOUR = "#7F7F7F"
NOISE_COLOUR = "#55A868"
#: Every text is at least this large (points); the figures stay under 10 inches wide, so it is what the notebook shows.
LABEL_PT = 10
HEADING_PT = 11.5
NOTE_PT = 9.5

_STEP = 1.35  # horizontal distance between two layers' bars (data units)
_BAR_WIDTH = 0.3
_MAX_HEIGHT = 3.0
_MIN_HEIGHT = 0.3


def _sizes(name: str, values: object, minimum_length: int) -> list[int]:
    """``values`` as a list of layer sizes (positive ints), or a ValueError that says what to pass."""
    if isinstance(values, (str, bytes)) or not isinstance(values, (Sequence, np.ndarray)):
        raise ValueError(f"{name} must be a sequence of layer sizes such as (784, 128, 2, 128, 784), "
                         f"got {values!r}.")
    if len(values) < minimum_length:
        raise ValueError(f"{name} needs at least {minimum_length} layer sizes (input, code, output), "
                         f"got {len(values)}: {list(values)!r}.")
    return [positive_int(f"{name}[{i}]", v, hint="(the number of units in that layer)") for i, v in enumerate(values)]


def _bar_height(size: int, largest: int) -> float:
    """A bar's height: log-scaled so that tiny codes and 784 pixels fit in one picture."""
    if largest <= 1:
        return _MAX_HEIGHT
    return _MIN_HEIGHT + (_MAX_HEIGHT - _MIN_HEIGHT) * np.log(size) / np.log(largest)


def _bar(ax: Axes, x: float, height: float, colour: str) -> None:
    """One layer, centred on the horizontal axis."""
    ax.add_patch(Rectangle((x - _BAR_WIDTH / 2, -height / 2), _BAR_WIDTH, height, facecolor=colour,
                           edgecolor="black", linewidth=0.8, zorder=3))


def _funnel(ax: Axes, x0: float, h0: float, x1: float, h1: float, colour: str) -> None:
    """The trapezoid between two layers (the weights that map one to the next)."""
    corners = [(x0, -h0 / 2), (x0, h0 / 2), (x1, h1 / 2), (x1, -h1 / 2)]
    ax.add_patch(Polygon(corners, closed=True, facecolor=colour, alpha=0.25, edgecolor=colour, linewidth=0.8,
                         zorder=1))


def _box(ax: Axes, x: float, y: float, width: float, height: float, text: str, colour: str) -> None:
    """A rounded box with centred text (a named quantity of the VAE)."""
    ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height, boxstyle="round,pad=0.05",
                                facecolor=colour, alpha=0.2, edgecolor=colour, linewidth=1.2, zorder=2))
    ax.text(x, y, text, ha="center", va="center", fontsize=LABEL_PT, zorder=4)


def _arrow(ax: Axes, start: tuple[float, float], end: tuple[float, float], colour: str = "black") -> None:
    """An arrow from one part of the diagram to the next."""
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=12, color=colour, linewidth=1.2,
                                 zorder=3))


def _frame(x_range: tuple[float, float], y_range: tuple[float, float], title: str | None) -> tuple[Figure, Axes]:
    """A figure with one blank equal-aspect axes, sized to its drawing and at most 10 inches wide."""
    scale = min(0.75, 10.0 / (x_range[1] - x_range[0]))  # inches per data unit; 10 in is the notebook's width
    fig, ax = plt.subplots(figsize=(scale * (x_range[1] - x_range[0]), scale * (y_range[1] - y_range[0]) + 0.3))
    ax.set_xlim(*x_range)
    ax.set_ylim(*y_range)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=HEADING_PT)
    return fig, ax


def autoencoder_diagram(
    layer_sizes: Sequence[int] = (784, 512, 128, 2, 128, 512, 784),
    labels: Sequence[str] | None = None,
    code_index: int | None = None,
    title: str | None = None,
) -> Figure:
    """Encoder, code and decoder as bars (layers) joined by funnels, each layer labelled with its size.

    ``labels`` replaces the size written under each bar (e.g. "32×14×14" for a conv layer); ``code_index``
    says which layer is the code (default: the narrowest layer between input and output).
    """
    sizes = _sizes("layer_sizes", layer_sizes, minimum_length=3)
    n = len(sizes)
    if labels is None:
        texts = [f"{s:,}" for s in sizes]
    else:
        if isinstance(labels, (str, bytes)) or len(labels) != n:
            raise ValueError(f"labels must give one text per layer ({n}), got {labels!r}.")
        texts = [str(t) for t in labels]
    if code_index is None:
        code = 1 + int(np.argmin(sizes[1:-1]))
    else:
        code = positive_int("code_index", code_index, hint="(the code sits between input and output)")
        if code >= n - 1:
            raise ValueError(f"code_index must point at a layer between the input (0) and the output ({n - 1}), "
                             f"got {code_index}.")
    largest = max(sizes)
    heights = [_bar_height(s, largest) for s in sizes]
    xs = [i * _STEP for i in range(n)]
    top, bottom = _MAX_HEIGHT / 2, -_MAX_HEIGHT / 2
    fig, ax = _frame((xs[0] - 1.0, xs[-1] + 1.0), (bottom - 1.45, top + 1.0), title)

    for i in range(n - 1):
        colour = ENCODER_COLOUR if i < code else DECODER_COLOUR
        _funnel(ax, xs[i] + _BAR_WIDTH / 2, heights[i], xs[i + 1] - _BAR_WIDTH / 2, heights[i + 1], colour)
    for i, (x, h, text) in enumerate(zip(xs, heights, texts)):
        colour = CODE_COLOUR if i == code else DATA_COLOUR if i in (0, n - 1) else (
            ENCODER_COLOUR if i < code else DECODER_COLOUR)
        _bar(ax, x, h, colour)
        ax.text(x, bottom - 0.2, text, ha="center", va="top", fontsize=LABEL_PT)

    kind = "overcomplete" if sizes[code] >= sizes[0] else "bottleneck"
    code_style = dict(ha="center", fontsize=LABEL_PT, color=CODE_COLOUR, fontweight="bold")
    if heights[code] / 2 + 0.8 <= top + 0.5:  # room above a narrow code's bar
        ax.text(xs[code], heights[code] / 2 + 0.15, f"code z\n({kind})", va="bottom", **code_style)
    else:  # a wide code's bar reaches the headings: name it on the row below the sizes
        ax.text(xs[code], bottom - 0.75, f"code z ({kind})", va="top", **code_style)
    ax.text((xs[0] + xs[code]) / 2, top + 0.55, "encoder", ha="center", va="bottom", fontsize=HEADING_PT,
            color=ENCODER_COLOUR, fontweight="bold")
    ax.text((xs[code] + xs[-1]) / 2, top + 0.55, "decoder", ha="center", va="bottom", fontsize=HEADING_PT,
            color=DECODER_COLOUR, fontweight="bold")
    ax.text(xs[0], bottom - 0.75, "input x", ha="center", va="top", fontsize=LABEL_PT)
    ax.text(xs[-1], bottom - 0.75, "reconstruction x̂", ha="center", va="top", fontsize=LABEL_PT)
    ax.text((xs[0] + xs[-1]) / 2, bottom - 1.2, "bar height grows with the log of the layer's size",
            ha="center", va="top", fontsize=NOTE_PT, color="dimgray")
    fig.tight_layout()
    return fig


def vae_diagram(
    input_size: int = 784,
    hidden_sizes: Sequence[int] = (512, 128),
    latent_dim: int = 2,
    title: str | None = None,
) -> Figure:
    """Encoder -> mean μ and log-variance log σ² -> z = μ + σ·ε with noise ε ~ N(0, I) from the side -> decoder."""
    size_in = positive_int("input_size", input_size, hint="(pixels per image, e.g. 784)")
    hidden = _sizes("hidden_sizes", hidden_sizes, minimum_length=0)
    latent = positive_int("latent_dim", latent_dim, hint="(numbers in the code z)")
    largest = max([size_in, latent, *hidden])
    enc_sizes = [size_in, *hidden]
    dec_sizes = [*hidden[::-1], size_in]

    # x positions: encoder bars, then the two heads, the sampling box, then the decoder bars.
    enc_x = [i * _STEP for i in range(len(enc_sizes))]
    head_x = enc_x[-1] + 1.6
    z_x = head_x + 2.0
    z_width, z_height = 1.9, 0.95
    dec_x = [z_x + z_width / 2 + 0.25 + (i + 1) * _STEP for i in range(len(dec_sizes))]
    top, bottom = _MAX_HEIGHT / 2, -_MAX_HEIGHT / 2
    # the top margin leaves room for the two-line sampling label under the title
    fig, ax = _frame((enc_x[0] - 1.0, dec_x[-1] + 1.0), (bottom - 1.2, top + 1.35), title)

    enc_h = [_bar_height(s, largest) for s in enc_sizes]
    dec_h = [_bar_height(s, largest) for s in dec_sizes]
    latent_h = _bar_height(latent, largest)
    for i in range(len(enc_sizes) - 1):
        _funnel(ax, enc_x[i] + _BAR_WIDTH / 2, enc_h[i], enc_x[i + 1] - _BAR_WIDTH / 2, enc_h[i + 1], ENCODER_COLOUR)
    for i, (x, h, s) in enumerate(zip(enc_x, enc_h, enc_sizes)):
        _bar(ax, x, h, DATA_COLOUR if i == 0 else ENCODER_COLOUR)
        ax.text(x, bottom - 0.2, f"{s:,}", ha="center", va="top", fontsize=LABEL_PT)

    # The encoder's two heads: one number pair (μ_j, log σ²_j) per code dimension.
    head_w, head_h, head_y = 1.35, 0.75, 0.95
    _box(ax, head_x, head_y, head_w, head_h, f"mean μ\n({latent:,})", ENCODER_COLOUR)
    _box(ax, head_x, -head_y, head_w, head_h, f"log σ²\n({latent:,})", ENCODER_COLOUR)
    for y in (head_y, -head_y):
        _arrow(ax, (enc_x[-1] + _BAR_WIDTH / 2, 0.0), (head_x - head_w / 2 - 0.05, y), ENCODER_COLOUR)
        _arrow(ax, (head_x + head_w / 2 + 0.05, y), (z_x - z_width / 2 - 0.05, 0.0), CODE_COLOUR)

    # The reparameterization: the noise enters from the side, so gradients reach μ and σ.
    _box(ax, z_x, 0.0, z_width, z_height, "z = μ + σ·ε\nσ = exp(½·log σ²)", CODE_COLOUR)
    eps_y = bottom - 0.55
    _box(ax, z_x, eps_y, 1.5, 0.5, "ε ~ N(0, I)", NOISE_COLOUR)
    _arrow(ax, (z_x, eps_y + 0.3), (z_x, -z_height / 2 - 0.07), NOISE_COLOUR)
    ax.text(z_x, top + 0.45, "sampling\n(reparameterization)", ha="center", va="bottom",
            fontsize=HEADING_PT, color=CODE_COLOUR, fontweight="bold")

    z_right = z_x + z_width / 2 + 0.05
    _funnel(ax, z_right, latent_h, dec_x[0] - _BAR_WIDTH / 2, dec_h[0], DECODER_COLOUR)
    for i in range(len(dec_sizes) - 1):
        _funnel(ax, dec_x[i] + _BAR_WIDTH / 2, dec_h[i], dec_x[i + 1] - _BAR_WIDTH / 2, dec_h[i + 1], DECODER_COLOUR)
    for i, (x, h, s) in enumerate(zip(dec_x, dec_h, dec_sizes)):
        _bar(ax, x, h, DATA_COLOUR if i == len(dec_sizes) - 1 else DECODER_COLOUR)
        ax.text(x, bottom - 0.2, f"{s:,}", ha="center", va="top", fontsize=LABEL_PT)

    ax.text((enc_x[0] + enc_x[-1]) / 2, top + 0.45, "encoder", ha="center", va="bottom", fontsize=HEADING_PT,
            color=ENCODER_COLOUR, fontweight="bold")
    ax.text((dec_x[0] + dec_x[-1]) / 2, top + 0.45, "decoder", ha="center", va="bottom", fontsize=HEADING_PT,
            color=DECODER_COLOUR, fontweight="bold")
    ax.text(enc_x[0], bottom - 0.75, "input x", ha="center", va="top", fontsize=LABEL_PT)
    ax.text(dec_x[-1], bottom - 0.75, "reconstruction x̂", ha="center", va="top", fontsize=LABEL_PT)
    fig.tight_layout()
    return fig
