"""plots and widgets: every figure draws, the explorer callback changes its image, bad input is refused."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from course_utils import models, plots, train, widgets  # noqa: E402

IMAGES = torch.rand(12, 1, 28, 28)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_reconstruction_grid_has_two_rows():
    fig = plots.show_reconstructions(IMAGES, IMAGES, n=6)
    assert len(fig.axes) == 12


def test_loss_curves_accept_history_or_list():
    history = train.History(train={"total": [2, 1]}, val={"total": [3, 2]}, seconds=[1, 1])
    assert len(plots.plot_loss_curves(history).axes[0].lines) == 2
    assert len(plots.plot_loss_curves([3.0, 2.0, 1.0]).axes[0].lines) == 1


def test_latent_scatter_and_grid_and_samples():
    codes, labels = torch.randn(50, 2), torch.arange(50) % 10
    assert plots.plot_latent_scatter(codes, labels).axes
    model = models.MLPAutoencoder(2)
    fig = plots.plot_latent_grid(model.decode, (-1, 1), (-2, 2), n=4, codes=codes, labels=labels)
    assert fig.axes[0].get_images()[0].get_array().shape == (4 * 28, 4 * 28)
    decoded = train.decode_all(model, torch.randn(4, 2))
    assert plots.plot_samples_on_latent(codes, labels, torch.randn(4, 2), decoded).axes


def test_grid_points_run_from_top_left():
    points = plots.latent_grid_points((0, 1), (0, 1), 3)
    assert points[0].tolist() == [0.0, 1.0] and points[-1].tolist() == [1.0, 0.0]


def test_scatter_of_high_dimensional_codes_points_to_the_fix():
    with pytest.raises(ValueError, match="latent_dim=2"):
        plots.plot_latent_scatter(torch.randn(10, 16), torch.zeros(10))


def test_loss_curves_without_epochs_say_train_first():
    with pytest.raises(ValueError, match="train the model"):
        plots.plot_loss_curves(train.History())


def test_save_figure_writes_a_png(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_FIGURE_DIR", str(tmp_path))
    path = plots.save_figure(plots.show_images(IMAGES[:4], ncols=2), "demo")
    assert path.endswith("demo.png") and (tmp_path / "demo.png").stat().st_size > 0


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


def test_png_of_a_wrong_shape_is_refused():
    with pytest.raises(ValueError, match="one grey image"):
        widgets.image_to_png(np.zeros((2, 28, 28)))
