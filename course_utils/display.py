"""How the course shows things in a notebook: PNG bytes, inline HTML images, and live widgets with a static copy.

``widgets`` and ``quiz`` both show a live ipywidgets form with a static fallback (for exported
HTML pages, nbval, consoles); the fallback plumbing lives here once.
"""

from __future__ import annotations

import base64
import html
import io
from typing import Any

import numpy as np
import torch
from PIL import Image

from course_utils.checks import to_numpy

#: How many screen pixels each image pixel gets in the explorer (28 -> 168).
ZOOM = 6

#: Class of every static fallback; CSS hides it wherever its cell's live widget is drawn.
FALLBACK_CLASS = "course-static-fallback"
#: Class added to every live widget that ``display_with_fallback`` shows.
LIVE_CLASS = "course-live-widget"
#: A live cell (a Lumino widget: JupyterLab, Notebook 7) whose widget rendered hides its static copy.
#: Cells of an nbconvert page are plain divs, so exports keep the fallback even if a saved widget
#: state draws the widget there (it could not call the kernel anyway).
_HIDE_FALLBACK_CSS = f"<style>.jp-Cell.lm-Widget:has(.{LIVE_CLASS}) .{FALLBACK_CLASS} {{display: none;}}</style>"


def image_to_png(image: torch.Tensor | np.ndarray, zoom: int = ZOOM) -> bytes:
    """A single grey image with pixels in [0, 1], enlarged and encoded as PNG bytes."""
    array = np.squeeze(to_numpy(image))
    if array.ndim != 2:
        raise ValueError(f"Expected one grey image (H, W) or (1, H, W), got shape {array.shape}.")
    pixels = (np.clip(array, 0, 1) * 255).astype(np.uint8)
    picture = Image.fromarray(pixels).resize((pixels.shape[1] * zoom, pixels.shape[0] * zoom), Image.NEAREST)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def figure_to_png(fig: Any, dpi: int = 90) -> bytes:
    """Save a matplotlib figure as PNG bytes and close it, so that it is shown once, as a picture."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def png_to_html(png: bytes, alt: str = "") -> str:
    """An <img> tag holding PNG bytes inline, so a static HTML page needs no extra file."""
    data = base64.b64encode(png).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}"/>'


def _static_bundle(fallback: dict[str, Any]) -> dict[str, Any]:
    """The fallback as one text/html output (wrapped in FALLBACK_CLASS) plus its text/plain."""
    text = str(fallback.get("text/plain", ""))
    body = fallback.get("text/html")
    if body is None and "image/png" in fallback:
        png = fallback["image/png"]
        body = png_to_html(png if isinstance(png, bytes) else base64.b64decode(png), alt=text)
        body += f"<div><small>{html.escape(text)}</small></div>" if text else ""
    if body is None:
        body = f"<pre>{html.escape(text)}</pre>"
    return {"text/plain": text, "text/html": f'<div class="{FALLBACK_CLASS}">{_HIDE_FALLBACK_CSS}{body}</div>'}


def display_with_fallback(widget: Any, fallback: dict[str, Any]) -> None:
    """Show a static fallback (text/html, image/png or text/plain) and then the live widget.

    Two outputs, because an executed notebook saves its widget state and nbconvert then
    prefers the widget view over any fallback in the same output. JupyterLab draws the widget,
    whose cell then hides the fallback (CSS on ``FALLBACK_CLASS``); nbconvert HTML, nbval and
    consoles keep the fallback.
    """
    from IPython import get_ipython
    from IPython.display import display

    if get_ipython() is None:  # a plain Python console: print what text we have
        print(fallback.get("text/plain", ""))
        return
    widget.add_class(LIVE_CLASS)
    display(_static_bundle(fallback), raw=True)
    live = {k: v for k, v in widget._repr_mimebundle_().items() if k != "text/plain"}
    live["text/plain"] = ""  # static copies show nothing here: the fallback above says it all
    display(live, raw=True)
