"""Display plumbing: PNG bytes and static fallbacks for live widgets."""

import numpy as np
import pytest
import torch

from course_utils import display, models, plots, widgets

IMAGES = torch.rand(12, 1, 28, 28)


def _figure_png() -> bytes:
    fig = plots.show_images(IMAGES[:2], ncols=2)
    return display.figure_to_png(fig)


def test_png_of_a_wrong_shape_is_refused():
    with pytest.raises(ValueError, match="one grey image"):
        display.image_to_png(np.zeros((2, 28, 28)))


def test_static_fallback_is_wrapped_so_live_widgets_can_hide_it():
    png = _figure_png()
    bundle = display._static_bundle({"text/plain": "explorer", "image/png": png})
    assert set(bundle) == {"text/plain", "text/html"}
    assert display.FALLBACK_CLASS in bundle["text/html"] and "data:image/png;base64," in bundle["text/html"]
    assert f".{display.LIVE_CLASS}" in bundle["text/html"]  # the CSS that hides it next to a drawn widget
    html_bundle = display._static_bundle({"text/plain": "quiz", "text/html": "<details>x</details>"})
    assert "<details>x</details>" in html_bundle["text/html"]


def test_without_ipython_the_fallback_text_is_printed(capsys):
    explorer = widgets.LatentExplorer(models.MLPAutoencoder(2).decode, [(-1, 1), (-1, 1)])
    explorer.show()
    assert "Latent explorer over z1, z2" in capsys.readouterr().out
