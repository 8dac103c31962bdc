"""Interactive explorers on ipywidgets, each with a plain figure for when no widget can be drawn."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from PIL import Image

#: How many screen pixels each image pixel gets in the explorer (28 -> 168).
ZOOM = 6


def image_to_png(image: torch.Tensor | np.ndarray, zoom: int = ZOOM) -> bytes:
    """A single grey image with pixels in [0, 1], enlarged and encoded as PNG bytes."""
    array = image.detach().cpu().numpy() if isinstance(image, torch.Tensor) else np.asarray(image)
    array = np.squeeze(array)
    if array.ndim != 2:
        raise ValueError(f"Expected one grey image (H, W) or (1, H, W), got shape {array.shape}.")
    pixels = (np.clip(array, 0, 1) * 255).astype(np.uint8)
    picture = Image.fromarray(pixels).resize((pixels.shape[1] * zoom, pixels.shape[0] * zoom), Image.NEAREST)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def display_with_fallback(widget: Any, fallback: dict[str, Any]) -> None:
    """Show one output holding the widget and a static fallback (PNG, HTML or text).

    JupyterLab draws the widget; nbconvert, nbval and consoles use the fallback.
    """
    from IPython import get_ipython
    from IPython.display import display

    if get_ipython() is None:  # a plain Python console: print what text we have
        print(fallback.get("text/plain", ""))
        return
    bundle = dict(fallback)
    bundle.update({k: v for k, v in widget._repr_mimebundle_().items() if k != "text/plain"})
    display(bundle, raw=True)


class LatentExplorer:
    """Sliders pick a latent point; the decoder draws the image for it at once (no retraining)."""

    def __init__(
        self,
        decode: Callable[[torch.Tensor], torch.Tensor],
        ranges: Sequence[tuple[float, float]],
        names: Sequence[str] | None = None,
        start: Sequence[float] | None = None,
    ) -> None:
        if not ranges:
            raise ValueError("ranges is empty: give one (low, high) pair per latent dimension.")
        if len(ranges) > 8:
            raise ValueError(
                f"{len(ranges)} sliders would be unreadable; explore at most 8 dimensions "
                "(pass ranges for the first few and fix the rest inside your decode function)."
            )
        for low, high in ranges:
            if not low < high:
                raise ValueError(f"Each range must be (low, high) with low < high, got ({low}, {high}).")
        self.decode = decode
        self.ranges = [(float(lo), float(hi)) for lo, hi in ranges]
        self.names = list(names or [f"z{i + 1}" for i in range(len(ranges))])
        self.start = list(start) if start is not None else [(lo + hi) / 2 for lo, hi in self.ranges]

    def render(self, point: Sequence[float]) -> bytes:
        """Decode one latent point and return the image as PNG bytes (the slider callback)."""
        if len(point) != len(self.ranges):
            raise ValueError(f"Expected {len(self.ranges)} coordinates, got {len(point)}.")
        with torch.inference_mode():
            image = self.decode(torch.tensor([list(point)], dtype=torch.float32))
        return image_to_png(image[0])

    def widget(self) -> Any:
        """Sliders and the decoded image, wired together."""
        import ipywidgets as w

        picture = w.Image(value=self.render(self.start), format="png")
        picture.add_class("course-explorer-image")
        sliders = [
            w.FloatSlider(value=s, min=lo, max=hi, step=(hi - lo) / 100, description=name,
                          continuous_update=True, readout_format=".2f")
            for (lo, hi), name, s in zip(self.ranges, self.names, self.start)
        ]

        def on_change(_: Any) -> None:
            picture.value = self.render([s.value for s in sliders])

        for slider in sliders:
            slider.observe(on_change, names="value")
        box = w.HBox([w.VBox(sliders), picture])
        box.add_class("course-latent-explorer")
        return box

    def fallback_figure(self, points: Sequence[Sequence[float]] | None = None) -> Any:
        """A static row of images decoded at fixed points (for nbval and static HTML)."""
        import matplotlib.pyplot as plt

        if points is None:  # corners and centre of the explored box
            lows, highs = zip(*self.ranges)
            mids = [(lo + hi) / 2 for lo, hi in self.ranges]
            points = [list(lows), mids, list(highs)]
        fig, axes = plt.subplots(1, len(points), figsize=(1.6 * len(points), 2.0), squeeze=False)
        for ax, point in zip(axes[0], points):
            with torch.inference_mode():
                image = self.decode(torch.tensor([list(point)], dtype=torch.float32))[0]
            ax.imshow(np.squeeze(image.cpu().numpy()), cmap="gray", vmin=0, vmax=1)
            ax.set_title("(" + ", ".join(f"{v:.1f}" for v in point) + ")", fontsize=7)
            ax.axis("off")
        fig.tight_layout()
        return fig

    def show(self, fallback_points: Sequence[Sequence[float]] | None = None) -> None:
        """Display the sliders, with the fixed-point figure as the static fallback."""
        import matplotlib.pyplot as plt

        fig = self.fallback_figure(fallback_points)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
        plt.close(fig)
        text = f"Latent explorer over {', '.join(self.names)} (run in JupyterLab to move the sliders)"
        display_with_fallback(self.widget(), {"text/plain": text, "image/png": buffer.getvalue()})


def latent_explorer(
    model: torch.nn.Module, ranges: Sequence[tuple[float, float]], show: bool = True
) -> LatentExplorer:
    """An explorer over a model's latent space: one slider per dimension, decoded live."""
    latent_dim = getattr(model, "latent_dim", None)
    if latent_dim is not None and latent_dim != len(ranges):
        raise ValueError(
            f"This model has a {latent_dim}-D latent space but {len(ranges)} ranges were given: "
            "pass one (low, high) pair per latent dimension."
        )
    device = next(model.parameters()).device
    model.eval()
    explorer = LatentExplorer(lambda z: model.decode(z.to(device)).cpu(), ranges)
    if show:
        explorer.show()
    return explorer
