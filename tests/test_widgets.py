"""The explorers and sliders: callbacks, fallbacks, bad input."""

import pytest
import torch

from course_utils import display, models, plots, widgets

IMAGES = torch.rand(12, 1, 28, 28)


def _timed_ms(callback, repeats: int = 20) -> float:
    """Mean wall time of one call, in milliseconds (reported, never asserted)."""
    import time

    callback()  # warm-up
    started = time.perf_counter()
    for _ in range(repeats):
        callback()
    return (time.perf_counter() - started) / repeats * 1000


def _figure_png() -> bytes:
    fig = plots.show_images(IMAGES[:2], ncols=2)
    return display.figure_to_png(fig)


def test_explorer_callback_changes_the_image_when_the_point_moves():
    torch.manual_seed(0)
    explorer = widgets.latent_explorer(models.MLPAutoencoder(2), [(-3, 3), (-3, 3)], show=False)
    a, b = explorer.render([-2.0, -2.0]), explorer.render([2.0, 2.0])
    assert a.startswith(b"\x89PNG") and a != b
    assert explorer.render([-2.0, -2.0]) == a


def test_explorer_sliders_update_the_picture():
    torch.manual_seed(0)
    box = widgets.latent_explorer(models.MLPAutoencoder(2), [(-3, 3), (-3, 3)], show=False).widget()
    sliders, picture = box.children[0].children, box.children[1]
    before = picture.value
    sliders[0].value = 2.5
    assert picture.value != before


def test_explorer_fallback_draws_fixed_points():
    explorer = widgets.LatentExplorer(models.MLPAutoencoder(2).decode, [(-1, 1), (-1, 1)])
    assert len(explorer.fallback_figure([[0, 0], [1, 1]]).axes) == 2


def test_explorer_refuses_mismatched_ranges():
    with pytest.raises(ValueError, match="one \\(low, high\\) pair per latent dimension"):
        widgets.latent_explorer(models.MLPAutoencoder(3), [(-1, 1), (-1, 1)], show=False)
    with pytest.raises(ValueError, match="low < high"):
        widgets.LatentExplorer(lambda z: z, [(1, -1)])


@pytest.mark.parametrize("model", [models.MLPAutoencoder(2), models.ConvVAE(16)], ids=["mlp2", "convvae16"])
def test_interpolation_callback_returns_a_png_and_reports_its_time(model):
    torch.manual_seed(0)
    z0, z1 = torch.randn(model.latent_dim), torch.randn(1, model.latent_dim)
    slider = widgets.InterpolationSlider(model.decode, z0, z1)
    png = slider.render(0.3)
    assert png.startswith(b"\x89PNG")
    assert slider.render(0.0) != slider.render(1.0)
    assert slider.render(0.0) == display.image_to_png(model.decode(z0[None])[0].detach())
    decode_ms = _timed_ms(lambda: model.decode(slider.code_at(0.3)))
    render_ms = _timed_ms(lambda: slider.render(0.3))
    print(f"\ninterpolation ({type(model).__name__}): decode {decode_ms:.2f} ms, decode + PNG {render_ms:.2f} ms")


def test_interpolation_codes_run_from_one_end_to_the_other():
    slider = widgets.InterpolationSlider(lambda z: z, [0.0, 2.0], [4.0, -2.0])
    assert slider.code_at(0.0).tolist() == [[0.0, 2.0]] and slider.code_at(1.0).tolist() == [[4.0, -2.0]]
    assert slider.code_at(0.25).tolist() == [[1.0, 1.0]]


def test_interpolation_slider_updates_the_picture_and_draws_a_fallback_row():
    torch.manual_seed(0)
    model = models.MLPAutoencoder(2)
    box = widgets.InterpolationSlider(model.decode, [-2.0, -2.0], [2.0, 2.0], t=0.0).widget()
    assert "course-interpolation" in box._dom_classes
    slider, picture = box.children[0].children[0], box.children[1]
    before = picture.value
    slider.value = 1.0
    assert picture.value != before and bytes(picture.value).startswith(b"\x89PNG")
    fig = widgets.InterpolationSlider(model.decode, [-2.0, -2.0], [2.0, 2.0]).fallback_figure(steps=6)
    assert len(fig.axes) == 6


def test_interpolation_slider_factory_encodes_two_images():
    torch.manual_seed(0)
    model = models.MLPAutoencoder(2)
    x0, x1 = IMAGES[0], IMAGES[1]
    slider = widgets.interpolation_slider(model, x0, x1, labels=("a", "b"), show=False)
    with torch.inference_mode():
        expected = display.image_to_png(model.decode(model.encode(x0[None]))[0])
    assert slider.render(0.0) == expected


def test_interpolation_refuses_bad_input():
    with pytest.raises(ValueError, match=r"t must lie in \[0, 1\]"):
        widgets.InterpolationSlider(lambda z: z, [0.0, 0.0], [1.0, 1.0]).render(1.5)
    with pytest.raises(ValueError, match="same model"):
        widgets.InterpolationSlider(lambda z: z, [0.0, 0.0], [1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="NaN"):
        widgets.InterpolationSlider(lambda z: z, [0.0, float("nan")], [1.0, 1.0])
    with pytest.raises(ValueError, match="one image"):
        widgets.interpolation_slider(models.MLPAutoencoder(2), IMAGES[:2], IMAGES[2], show=False)


def test_beta_slider_callback_serves_precomputed_pngs_and_reports_its_time():
    figure_png = _figure_png()
    slider = widgets.BetaSlider({1.0: IMAGES[:8], 0: IMAGES[4:12].numpy(), 4.0: figure_png})
    assert slider.betas == [0.0, 1.0, 4.0]
    pngs = [slider.render(beta) for beta in slider.betas]
    assert all(png.startswith(b"\x89PNG") for png in pngs) and len(set(pngs)) == 3
    assert slider.render(4) == figure_png
    render_ms = _timed_ms(lambda: slider.render(1.0))
    first_ms = _timed_ms(lambda: display.image_to_png(widgets.tile_images(IMAGES[:8]), zoom=3), repeats=5)
    print(f"\nbeta slider: cached render {render_ms:.3f} ms, first encoding of 8 images {first_ms:.2f} ms")


def test_beta_slider_moves_between_betas_and_falls_back_to_all_side_by_side():
    slider = widgets.BetaSlider({0.0: IMAGES[:4], 1.0: IMAGES[4:8], 4.0: _figure_png()}, caption="KL weight")
    box = slider.widget()
    assert "course-beta-slider" in box._dom_classes
    selection, picture = box.children[0].children[0], box.children[1]
    assert picture.value == slider.render(0.0)
    selection.value = 1.0
    assert picture.value == slider.render(1.0)
    assert len(slider.fallback_figure().axes) == 3


def test_beta_slider_refuses_bad_input():
    with pytest.raises(ValueError, match="results is empty"):
        widgets.BetaSlider({})
    with pytest.raises(ValueError, match=">= 0"):
        widgets.BetaSlider({-1.0: IMAGES[:2]})
    with pytest.raises(ValueError, match="not a PNG"):
        widgets.BetaSlider({1.0: b"GIF89a..."})
    with pytest.raises(ValueError, match="grey images"):
        widgets.BetaSlider({1.0: torch.rand(2, 3, 28, 28)})
    with pytest.raises(KeyError, match="0, 1"):
        widgets.BetaSlider({0.0: IMAGES[:2], 1.0: IMAGES[2:4]}).render(0.5)


def test_tiled_images_keep_a_gap_between_them():
    sheet = widgets.tile_images(torch.zeros(5, 1, 28, 28), ncols=3, gap=2)
    assert sheet.shape == (2 * 28 + 2, 3 * 28 + 2 * 2)
    assert sheet[:28, 28:30].min() == 1.0  # the white gap


def test_threshold_slider_redraws_and_reports_at_the_new_threshold():
    import numpy as np

    from course_utils import anomaly

    normal, odd = np.linspace(0, 1, 60), np.linspace(0.5, 1.5, 40)
    box = widgets.ThresholdSlider(normal, odd, start=0.9).widget()
    slider, picture = box.children
    before = bytes(picture.value)
    assert before.startswith(b"\x89PNG") and "course-threshold-slider" in box._dom_classes
    slider.value = 0.6
    assert bytes(picture.value) != before and bytes(picture.value).startswith(b"\x89PNG")
    assert widgets.ThresholdSlider(normal, odd, 0.9).report(0.6) == anomaly.detection_report(normal, odd, 0.6)


def test_threshold_slider_refuses_empty_or_broken_scores():
    with pytest.raises(ValueError, match="at least one value"):
        widgets.ThresholdSlider([], [1.0], 0.5)
    with pytest.raises(ValueError, match="NaN or infinite"):
        widgets.ThresholdSlider([float("inf")], [1.0], 0.5)
    with pytest.raises(ValueError, match="finite threshold"):
        widgets.ThresholdSlider([0.0, 1.0], [1.0], float("nan"))


def test_class_generator_redraws_for_a_new_class_and_a_new_code():
    from course_utils import conditional

    torch.manual_seed(0)
    model = conditional.ConditionalVAE(latent_dim=3)
    box = widgets.class_generator(model, [str(i) for i in range(10)], show=False).widget()
    controls, picture = box.children
    choice, *sliders = controls.children
    assert "course-class-generator" in box._dom_classes and len(sliders) == 3
    before = bytes(picture.value)
    choice.value = 7
    after_class = bytes(picture.value)
    assert after_class != before and after_class.startswith(b"\x89PNG")
    sliders[0].value = 2.0
    assert bytes(picture.value) != after_class
    expected = conditional.generate(model, [7], torch.tensor([[2.0, 0.0, 0.0]]))[0]
    assert bytes(picture.value) == display.image_to_png(expected)


def test_class_generator_refuses_what_it_cannot_show():
    from course_utils import conditional, models

    with pytest.raises(TypeError, match="conditional.ConditionalVAE"):
        widgets.class_generator(models.ConvVAE(2), ["a", "b"], show=False)
    with pytest.raises(ValueError, match="10 classes but 2 names"):
        widgets.class_generator(conditional.ConditionalVAE(2), ["a", "b"], show=False)
    with pytest.raises(ValueError, match="at most 8 dimensions"):
        widgets.ClassGenerator(lambda z, y: z, ["a", "b"], latent_dim=9)
    with pytest.raises(ValueError, match="class number from 0 to 1"):
        widgets.ClassGenerator(lambda z, y: z, ["a", "b"], latent_dim=2).render(5, [0.0, 0.0])
