"""Interactive explorers on ipywidgets, each with a plain figure for when no widget can be drawn."""

from __future__ import annotations

import html
import io
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from PIL import Image

from course_utils.anomaly import detection_report
from course_utils.checks import positive_int, to_numpy
from course_utils.display import display_with_fallback, figure_to_png, image_to_png
from course_utils.latent import interpolate
from course_utils.train import decoder, encode_all


def _grey_stack(images: torch.Tensor | np.ndarray) -> np.ndarray:
    """Grey images as a float array (N, H, W) from (N, 1, H, W), (N, H, W) or one (H, W) image."""
    array = to_numpy(images)
    if array.dtype.kind != "f":  # whole-number pixels, e.g. a list of 0s and 1s
        array = array.astype(float)
    if array.ndim == 4 and array.shape[1] == 1:
        array = array[:, 0]
    elif array.ndim == 2:
        array = array[None]
    if array.ndim != 3 or 0 in array.shape:
        raise ValueError(f"Expected grey images (N, 1, H, W), (N, H, W) or (H, W), got shape {array.shape}.")
    return array


def tile_images(images: torch.Tensor | np.ndarray, ncols: int = 8, gap: int = 2) -> np.ndarray:
    """Grey images laid out in a grid with a white gap, as one (H, W) array in [0, 1]."""
    ncols = positive_int("ncols", ncols)
    array = np.clip(_grey_stack(images), 0, 1)
    n, h, w = array.shape
    cols = min(ncols, n)
    rows = -(-n // cols)
    sheet = np.ones((rows * h + (rows - 1) * gap, cols * w + (cols - 1) * gap))
    for i, image in enumerate(array):
        r, c = divmod(i, cols)
        sheet[r * (h + gap) : r * (h + gap) + h, c * (w + gap) : c * (w + gap) + w] = image
    return sheet


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
        fig, axes = plt.subplots(1, len(points), figsize=(1.6 * len(points), 2.1), squeeze=False)
        for ax, point in zip(axes[0], points):
            with torch.inference_mode():
                image = self.decode(torch.tensor([list(point)], dtype=torch.float32))[0]
            ax.imshow(np.squeeze(image.cpu().numpy()), cmap="gray", vmin=0, vmax=1)
            ax.set_title("(" + ", ".join(f"{round(v, 1) + 0.0:.1f}" for v in point) + ")", fontsize=9)  # no "-0.0"
            ax.axis("off")
        fig.tight_layout()
        return fig

    def show(self, fallback_points: Sequence[Sequence[float]] | None = None) -> None:
        """Display the sliders, with the fixed-point figure as the static fallback."""
        png = figure_to_png(self.fallback_figure(fallback_points))
        text = f"Latent explorer over {', '.join(self.names)} (run in JupyterLab to move the sliders)"
        display_with_fallback(self.widget(), {"text/plain": text, "image/png": png})


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
    model.eval()
    explorer = LatentExplorer(decoder(model), ranges)
    if show:
        explorer.show()
    return explorer


def _check_fraction(t: float) -> float:
    """t as a float in [0, 1], or a clear error."""
    value = float(t)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"t must lie in [0, 1] (0 = the first code, 1 = the second), got {t!r}.")
    return value


class InterpolationSlider:
    """A slider t in [0, 1] walks the straight line between two codes; the decoder draws each point."""

    def __init__(
        self,
        decode: Callable[[torch.Tensor], torch.Tensor],
        z_start: torch.Tensor | np.ndarray | Sequence[float],
        z_end: torch.Tensor | np.ndarray | Sequence[float],
        labels: tuple[str, str] = ("start", "end"),
        t: float = 0.5,
    ) -> None:
        self.decode = decode
        # The two ends, checked (one code each, same size) by lesson 4's interpolate.
        self.z_start, self.z_end = interpolate(torch.as_tensor(z_start), torch.as_tensor(z_end), steps=2)
        if not (torch.isfinite(self.z_start).all() and torch.isfinite(self.z_end).all()):
            raise ValueError("A code contains NaN or infinite values: encode a real image to get a code.")
        self.labels = (str(labels[0]), str(labels[1]))
        self.t = _check_fraction(t)

    def code_at(self, t: float) -> torch.Tensor:
        """The code a fraction ``t`` of the way from ``z_start`` to ``z_end``, shape (1, latent_dim)."""
        t = _check_fraction(t)
        return ((1.0 - t) * self.z_start + t * self.z_end)[None]  # the formula of latent.interpolate

    def render(self, t: float) -> bytes:
        """Decode the point at ``t`` and return the image as PNG bytes (the slider callback)."""
        with torch.inference_mode():
            image = self.decode(self.code_at(t))
        return image_to_png(image[0])

    def widget(self) -> Any:
        """A t slider and the decoded image, wired together."""
        import ipywidgets as w

        picture = w.Image(value=self.render(self.t), format="png")
        picture.add_class("course-widget-image")
        slider = w.FloatSlider(value=self.t, min=0.0, max=1.0, step=0.01, description="t",
                               continuous_update=True, readout_format=".2f")
        caption = w.HTML(f"<small>t = 0: {html.escape(self.labels[0])}; t = 1: {html.escape(self.labels[1])}</small>")

        def on_change(change: dict[str, Any]) -> None:
            picture.value = self.render(change["new"])

        slider.observe(on_change, names="value")
        box = w.HBox([w.VBox([slider, caption]), picture])
        box.add_class("course-interpolation")
        return box

    def fallback_figure(self, steps: int = 8) -> Any:
        """A static row of ``steps`` images from t = 0 to t = 1 (for nbval and static HTML)."""
        import matplotlib.pyplot as plt

        if steps < 2:
            raise ValueError(f"steps must be at least 2 (both ends), got {steps}.")
        ts = np.linspace(0.0, 1.0, steps)
        with torch.inference_mode():
            images = self.decode(interpolate(self.z_start, self.z_end, steps))
        fig, axes = plt.subplots(1, steps, figsize=(1.2 * steps, 1.6), squeeze=False)
        for ax, t, image in zip(axes[0], ts, images):
            ax.imshow(np.squeeze(image.detach().cpu().numpy()), cmap="gray", vmin=0, vmax=1)
            ax.set_title(f"t={t:.2f}", fontsize=8)
            ax.axis("off")
        axes[0, 0].set_title(f"{self.labels[0]}\nt=0.00", fontsize=8)
        axes[0, -1].set_title(f"{self.labels[1]}\nt=1.00", fontsize=8)
        fig.tight_layout()
        return fig

    def show(self, steps: int = 8) -> None:
        """Display the slider, with the row of interpolation steps as the static fallback."""
        png = figure_to_png(self.fallback_figure(steps))
        text = f"Interpolation from {self.labels[0]} to {self.labels[1]} (run in JupyterLab to move the slider)"
        display_with_fallback(self.widget(), {"text/plain": text, "image/png": png})


def interpolation_slider(
    model: torch.nn.Module,
    x_start: torch.Tensor,
    x_end: torch.Tensor,
    labels: tuple[str, str] = ("start", "end"),
    show: bool = True,
) -> InterpolationSlider:
    """Encode two images with ``model`` (a VAE gives its mean code) and slide between their codes."""
    for image, what in ((x_start, "x_start"), (x_end, "x_end")):
        if not isinstance(image, torch.Tensor) or image.numel() != 28 * 28:
            shape = tuple(getattr(image, "shape", ()))
            raise ValueError(f"{what} must be one image tensor of shape (1, 28, 28), got {shape}: pick one, e.g. x[0].")
    codes = encode_all(model, torch.stack([x_start.reshape(1, 28, 28), x_end.reshape(1, 28, 28)]).float())
    slider = InterpolationSlider(decoder(model), codes[0], codes[1], labels)
    if show:
        slider.show()
    return slider


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class BetaSlider:
    """Precomputed results for several KL weights (beta); a slider picks one and nothing retrains."""

    def __init__(
        self,
        results: Mapping[float, torch.Tensor | np.ndarray | bytes],
        ncols: int = 8,
        caption: str = "",
        start: float | None = None,
    ) -> None:
        if not results:
            raise ValueError("results is empty: pass {beta: images or PNG bytes}, one entry per trained beta.")
        self.results: dict[float, np.ndarray | bytes] = {}
        for beta, value in results.items():
            beta = float(beta)
            if not (np.isfinite(beta) and beta >= 0):
                raise ValueError(f"Each beta must be a finite number >= 0, got {beta!r}.")
            if isinstance(value, (bytes, bytearray)):
                if not bytes(value).startswith(_PNG_SIGNATURE):
                    raise ValueError(f"The bytes for beta={beta:g} are not a PNG image (save the figure as PNG).")
                self.results[beta] = bytes(value)
            else:
                self.results[beta] = tile_images(value, ncols)
        self.betas = sorted(self.results)
        self.ncols = ncols
        self.caption = caption
        self.start = self._match(start) if start is not None else self.betas[0]
        self._pngs: dict[float, bytes] = {}

    def _match(self, beta: float) -> float:
        """The stored beta equal to ``beta`` (up to rounding), or a clear error listing them."""
        for known in self.betas:
            if np.isclose(known, float(beta), rtol=1e-9, atol=1e-12):
                return known
        listed = ", ".join(f"{b:g}" for b in self.betas)
        raise KeyError(f"No precomputed result for beta={beta!r}; the betas available are {listed}.")

    def render(self, beta: float) -> bytes:
        """The PNG for one beta (encoded once, then served from memory: the slider callback)."""
        key = self._match(beta)
        if key not in self._pngs:
            value = self.results[key]
            self._pngs[key] = value if isinstance(value, bytes) else image_to_png(value, zoom=3)
        return self._pngs[key]

    def widget(self) -> Any:
        """A slider over the betas and the picture for the chosen one."""
        import ipywidgets as w

        picture = w.Image(value=self.render(self.start), format="png")
        picture.add_class("course-widget-image")
        slider = w.SelectionSlider(options=[(f"{b:g}", b) for b in self.betas], value=self.start,
                                   description="beta", continuous_update=True)
        caption = w.HTML(f"<small>{html.escape(self.caption)}</small>")

        def on_change(change: dict[str, Any]) -> None:
            picture.value = self.render(change["new"])

        slider.observe(on_change, names="value")
        box = w.VBox([w.HBox([slider, caption]), picture])  # the slider above: a grid of samples is wide
        box.add_class("course-beta-slider")
        return box

    def _array(self, beta: float) -> np.ndarray:
        """The picture for one beta as an array matplotlib can draw."""
        value = self.results[beta]
        if isinstance(value, bytes):
            return np.asarray(Image.open(io.BytesIO(value)))
        return value

    def fallback_figure(self) -> Any:
        """Every beta's picture side by side (for nbval and static HTML)."""
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, len(self.betas), figsize=(2.6 * len(self.betas), 2.8), squeeze=False)
        for ax, beta in zip(axes[0], self.betas):
            array = self._array(beta)
            if array.ndim == 2:
                ax.imshow(array, cmap="gray", vmin=0, vmax=1)
            else:
                ax.imshow(array)
            ax.set_title(f"beta = {beta:g}", fontsize=9)
            ax.axis("off")
        if self.caption:
            fig.suptitle(self.caption, fontsize=9)
        fig.tight_layout()
        return fig

    def show(self) -> None:
        """Display the beta slider, with all betas side by side as the static fallback."""
        png = figure_to_png(self.fallback_figure())
        betas = ", ".join(f"{b:g}" for b in self.betas)
        text = f"Results for beta in {betas} (run in JupyterLab to move the slider)"
        display_with_fallback(self.widget(), {"text/plain": text, "image/png": png})


class ThresholdSlider:
    """A slider sets the anomaly threshold; the histograms redraw with precision and recall at that threshold."""

    def __init__(
        self,
        normal_scores: torch.Tensor | np.ndarray,
        odd_scores: torch.Tensor | np.ndarray,
        start: float,
        names: tuple[str, str] = ("normal", "odd"),
        xlabel: str = "anomaly score",
    ) -> None:
        self.normal = np.ravel(to_numpy(normal_scores)).astype(float)
        self.odd = np.ravel(to_numpy(odd_scores)).astype(float)
        if self.normal.size == 0 or self.odd.size == 0:
            raise ValueError("Both score lists need at least one value: pass scores of normal and of odd images.")
        if not (np.all(np.isfinite(self.normal)) and np.all(np.isfinite(self.odd))):
            raise ValueError("The scores hold NaN or infinite values: compute them from finite images.")
        everything = np.r_[self.normal, self.odd]
        self.low, self.high = (float(v) for v in np.quantile(everything, [0.005, 0.995]))
        if not np.isfinite(float(start)):
            raise ValueError(f"start must be a finite threshold, got {start!r}.")
        self.start = float(np.clip(float(start), self.low, self.high))
        self.names, self.xlabel = (str(names[0]), str(names[1])), xlabel

    def report(self, threshold: float) -> dict[str, float]:
        """Precision, recall, false alarms and AUC with every score above ``threshold`` flagged."""
        return detection_report(self.normal, self.odd, threshold)

    def figure(self, threshold: float) -> Any:
        """The histograms with the threshold line and the scores at it."""
        from course_utils.plots import plot_threshold

        return plot_threshold(self.normal, self.odd, threshold, self.report(threshold), self.names, self.xlabel)

    def render(self, threshold: float) -> bytes:
        """The figure at ``threshold`` as PNG bytes (the slider callback)."""
        return figure_to_png(self.figure(threshold))

    def widget(self) -> Any:
        """A threshold slider above the redrawn figure."""
        import ipywidgets as w

        picture = w.Image(value=self.render(self.start), format="png")
        picture.add_class("course-widget-image")
        slider = w.FloatSlider(value=self.start, min=self.low, max=self.high, step=(self.high - self.low) / 200,
                               description="threshold", continuous_update=True, readout_format=".3g",
                               layout=w.Layout(width="420px"))

        def on_change(change: dict[str, Any]) -> None:
            picture.value = self.render(change["new"])

        slider.observe(on_change, names="value")
        box = w.VBox([slider, picture])
        box.add_class("course-threshold-slider")
        return box

    def show(self) -> None:
        """Display the slider, with the figure at the starting threshold as the static fallback."""
        text = f"Threshold at {self.start:.3g} (run in JupyterLab to move it)"
        display_with_fallback(self.widget(), {"text/plain": text, "image/png": self.render(self.start)})


class ClassGenerator:
    """A dropdown picks the class, sliders pick the code; a conditional decoder draws the image at once."""

    def __init__(
        self,
        decode: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
        class_names: Sequence[str],
        latent_dim: int,
        limit: float = 2.5,
        start_class: int = 0,
    ) -> None:
        latent_dim = positive_int("latent_dim", latent_dim)
        if latent_dim > 8:
            raise ValueError(f"{latent_dim} sliders would be unreadable: this widget explores codes of at most 8 "
                             "dimensions (train the conditional VAE with a smaller latent_dim).")
        if len(class_names) < 2:
            raise ValueError(f"class_names must name at least two classes, got {list(class_names)!r}.")
        if not (np.isfinite(limit) and limit > 0):
            raise ValueError(f"limit must be a positive number of standard deviations, such as 2.5, got {limit!r}.")
        if not 0 <= int(start_class) < len(class_names):
            raise ValueError(f"start_class must be a class number from 0 to {len(class_names) - 1}, "
                             f"got {start_class!r}.")
        self.decode, self.class_names = decode, [str(name) for name in class_names]
        self.latent_dim, self.limit, self.start_class = latent_dim, float(limit), int(start_class)

    def render(self, label: int, point: Sequence[float]) -> bytes:
        """The image of class ``label`` at code ``point``, as PNG bytes (the widget's callback)."""
        if len(point) != self.latent_dim:
            raise ValueError(f"Expected {self.latent_dim} coordinates, got {len(point)}.")
        if not 0 <= int(label) < len(self.class_names):
            raise ValueError(f"label must be a class number from 0 to {len(self.class_names) - 1}, got {label!r}.")
        with torch.inference_mode():
            image = self.decode(torch.tensor([list(point)], dtype=torch.float32), torch.tensor([int(label)]))
        return image_to_png(image[0])

    def widget(self) -> Any:
        """A class dropdown, one slider per code dimension, and the decoded image, wired together."""
        import ipywidgets as w

        start = [0.0] * self.latent_dim
        picture = w.Image(value=self.render(self.start_class, start), format="png")
        picture.add_class("course-widget-image")
        choice = w.Dropdown(options=[(name, i) for i, name in enumerate(self.class_names)], value=self.start_class,
                            description="class")
        sliders = [w.FloatSlider(value=0.0, min=-self.limit, max=self.limit, step=self.limit / 50,
                                 description=f"z{i + 1}", continuous_update=True, readout_format=".2f")
                   for i in range(self.latent_dim)]

        def on_change(_: Any) -> None:
            picture.value = self.render(choice.value, [s.value for s in sliders])

        for control in (choice, *sliders):
            control.observe(on_change, names="value")
        box = w.HBox([w.VBox([choice, *sliders]), picture])
        box.add_class("course-class-generator")
        return box

    def fallback_figure(self) -> Any:
        """Every class at the centre code z = 0 (for nbval and static HTML)."""
        import matplotlib.pyplot as plt

        n = len(self.class_names)
        with torch.inference_mode():
            images = self.decode(torch.zeros(n, self.latent_dim), torch.arange(n))
        fig, axes = plt.subplots(1, n, figsize=(1.3 * n, 1.8), squeeze=False)
        for ax, name, image in zip(axes[0], self.class_names, images):
            ax.imshow(np.squeeze(image.detach().cpu().numpy()), cmap="gray", vmin=0, vmax=1)
            ax.set_title(name, fontsize=9)
            ax.axis("off")
        fig.tight_layout()
        return fig

    def show(self) -> None:
        """Display the generator, with every class at z = 0 as the static fallback."""
        png = figure_to_png(self.fallback_figure())
        text = "Each class decoded at the code z = 0 (run in JupyterLab to pick a class and move the sliders)"
        display_with_fallback(self.widget(), {"text/plain": text, "image/png": png})


def class_generator(model: torch.nn.Module, class_names: Sequence[str], show: bool = True) -> ClassGenerator:
    """A ClassGenerator over a ``conditional.ConditionalVAE``: pick a class, slide through its codes."""
    from course_utils.conditional import generate

    latent_dim = getattr(model, "latent_dim", None)
    if latent_dim is None or not hasattr(model, "n_classes"):
        raise TypeError(f"class_generator needs a conditional.ConditionalVAE, got a {type(model).__name__}.")
    if model.n_classes != len(class_names):
        raise ValueError(f"The model knows {model.n_classes} classes but {len(class_names)} names were given: "
                         "pass splits.class_names.")
    generator = ClassGenerator(lambda z, labels: generate(model, labels, z), class_names, latent_dim)
    if show:
        generator.show()
    return generator
