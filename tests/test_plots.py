"""Every figure helper draws what it says and refuses input it cannot draw."""

import numpy as np
import pytest
import torch
from matplotlib.offsetbox import AnnotationBbox
from matplotlib.text import Text

from course_utils import models, plots, train

RNG = np.random.default_rng(0)


CODES = RNG.normal(size=(300, 2)).astype(np.float32)


IMAGES = torch.rand(300, 1, 28, 28)


FEW_IMAGES = torch.rand(12, 1, 28, 28)


LABELS = torch.from_numpy(RNG.integers(0, 10, size=300))


def thumbnails(fig) -> list[AnnotationBbox]:
    """The thumbnail boxes drawn on the figure's main axes."""
    return [a for a in fig.axes[0].artists if isinstance(a, AnnotationBbox)]


def test_class_shares_draws_one_bar_group_per_set():
    fig = plots.plot_class_shares({"a": np.array([0, 0, 1]), "b": torch.tensor([2, 2, 2])}, ["x", "y", "z"])
    bars = fig.axes[0].patches
    assert len(bars) == 6
    assert [round(b.get_height(), 3) for b in bars[:3]] == [0.667, 0.333, 0.0]
    with pytest.raises(ValueError, match=r"class indices 0..2"):
        plots.plot_class_shares({"a": np.array([3])}, ["x", "y", "z"])


@pytest.mark.parametrize("n", [10, 16])
def test_wide_rows_of_images_stay_narrow_enough_to_read(n):
    fig = plots.show_image_rows({"row": torch.rand(n, 1, 28, 28)}, n=n, column_titles=[str(i) for i in range(n)])
    assert fig.get_size_inches()[0] <= 10.0


def test_model_comparison_stacks_its_panels_at_the_notebooks_width():
    x = torch.rand(10, 1, 28, 28)
    fig = plots.plot_model_comparison(x, {"AE": x, "VAE": x}, {"AE": x, "VAE": x}, n=10)
    assert fig.get_size_inches()[0] <= 10.5


def test_thumbnails_sit_at_their_codes_and_stay_within_the_limit():
    fig = plots.plot_thumbnails_on_latent(CODES, IMAGES, LABELS, n_thumbnails=25)
    boxes = thumbnails(fig)
    assert 5 <= len(boxes) <= 25
    for box in boxes:
        assert np.min(np.linalg.norm(CODES - np.asarray(box.xy, dtype=np.float32), axis=1)) < 1e-6, "not at a code"


def test_thumbnails_never_pile_on_one_spot():
    same_place = np.zeros((50, 2), dtype=np.float32)
    same_place[:3] = [[-1, -1], [1, 1], [1, -1]]  # give the view some size
    fig = plots.plot_thumbnails_on_latent(same_place, IMAGES[:50], n_thumbnails=40, quantile=0.0)
    at_origin = [box for box in thumbnails(fig) if np.allclose(box.xy, 0)]
    assert len(at_origin) == 1


def test_thumbnail_marks_are_labelled():
    fig = plots.plot_thumbnails_on_latent(CODES, IMAGES, marks={"empty spot": (0.5, 0.5)})
    assert "empty spot" in [t.get_text() for t in fig.axes[0].texts]


def test_thumbnails_refuse_bad_input():
    with pytest.raises(ValueError, match="2-D codes"):
        plots.plot_thumbnails_on_latent(np.zeros((300, 3)), IMAGES)
    with pytest.raises(ValueError, match="300 codes but 10 images"):
        plots.plot_thumbnails_on_latent(CODES, IMAGES[:10])
    with pytest.raises(ValueError, match="labels"):
        plots.plot_thumbnails_on_latent(CODES, IMAGES, LABELS[:5])
    with pytest.raises(ValueError, match="n_thumbnails"):
        plots.plot_thumbnails_on_latent(CODES, IMAGES, n_thumbnails=0)
    with pytest.raises(ValueError, match="mark"):
        plots.plot_thumbnails_on_latent(CODES, IMAGES, marks={"bad": (1.0, 2.0, 3.0)})


def test_error_by_latent_size_plots_sorted_sizes_and_baselines():
    fig = plots.plot_error_by_latent_size({8: 0.02, 2: 0.04, 32: 0.018}, baselines={"average": 0.08})
    ax = fig.axes[0]
    curve, baseline = ax.lines
    assert list(curve.get_xdata()) == [2, 8, 32]
    assert list(curve.get_ydata()) == [0.04, 0.02, 0.018]
    assert baseline.get_ydata()[0] == pytest.approx(0.08)
    assert ax.get_xscale() == "log"


def test_error_by_latent_size_refuses_bad_input():
    with pytest.raises(ValueError, match="empty"):
        plots.plot_error_by_latent_size({})
    with pytest.raises(ValueError, match="positive integers"):
        plots.plot_error_by_latent_size({0: 0.1, 2: 0.05})


def test_plot_tsne_draws_one_panel_per_embedding_without_ticks():
    labels = np.arange(30) % 10
    fig = plots.plot_tsne({"codes": np.random.randn(30, 2), "pixels": torch.randn(30, 2)}, labels)
    assert len(fig.axes) == 2
    assert [ax.get_title() for ax in fig.axes] == ["codes", "pixels"]
    assert len(fig.axes[0].get_xticks()) == 0
    assert fig.axes[1].get_legend() is not None


def test_plot_tsne_refuses_wrong_shapes():
    with pytest.raises(ValueError, match="empty"):
        plots.plot_tsne({}, np.zeros(3))
    with pytest.raises(ValueError, match="expected \\(5, 2\\)"):
        plots.plot_tsne({"codes": np.zeros((5, 16))}, np.zeros(5))
    with pytest.raises(ValueError, match="one label per point"):
        plots.plot_tsne({"codes": np.zeros((5, 2))}, np.zeros(4))


def test_plot_error_histograms_overlays_groups():
    fig = plots.plot_error_histograms({"normal": np.full(20, 0.01), "odd": torch.full((5,), 0.1)})
    assert fig.axes[0].get_xscale() == "log"
    assert len(fig.axes[0].get_legend().get_texts()) == 2


def test_plot_error_histograms_refuses_empty_or_non_positive():
    with pytest.raises(ValueError, match="empty"):
        plots.plot_error_histograms({})
    with pytest.raises(ValueError, match="positive"):
        plots.plot_error_histograms({"normal": np.array([0.0, 0.1])})


def test_latent_scatters_one_panel_each_with_the_prior_circle():
    codes = {"a": torch.randn(40, 2), "b": 5 * torch.randn(40, 2)}
    fig = plots.plot_latent_scatters(codes, torch.arange(40) % 10)
    assert len(fig.axes) == 2
    assert all(len(ax.patches) == 1 for ax in fig.axes)  # the dashed 95% circle
    assert fig.axes[0].get_legend() is None and fig.axes[1].get_legend() is not None
    assert "95% of N(0, I)" in [t.get_text() for t in fig.axes[1].get_legend().get_texts()]


def test_latent_scatters_refuse_empty_and_high_dimensional_codes():
    with pytest.raises(ValueError, match="codes is empty"):
        plots.plot_latent_scatters({}, torch.zeros(3))
    with pytest.raises(ValueError, match="latent_dim=2"):
        plots.plot_latent_scatters({"x": torch.randn(5, 3)}, torch.zeros(5))


def test_quantile_grids_decode_the_same_codes_for_each_model():
    seen = []

    def decoder(z):
        seen.append(z.clone())
        return torch.sigmoid(z.sum(dim=1)).view(-1, 1, 1, 1).expand(-1, 1, 28, 28)

    fig = plots.plot_quantile_grids({"AE": decoder, "VAE": decoder}, n=5)
    assert len(fig.axes) == 2 and torch.equal(seen[0], seen[1])
    assert fig.axes[0].get_images()[0].get_array().shape == (5 * 28, 5 * 28)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["-1.64", "0.00", "1.64"]


def test_quantile_grids_work_with_a_real_decoder_and_refuse_bad_ones():
    model = models.ConvVAE(2).eval()
    assert plots.plot_quantile_grids({"VAE": model.decode}, n=3).axes
    with pytest.raises(ValueError, match="decoders is empty"):
        plots.plot_quantile_grids({})
    with pytest.raises(ValueError, match="decode each code once"):
        plots.plot_quantile_grids({"bad": lambda z: torch.zeros(2, 1, 28, 28)}, n=3)


def test_model_comparison_has_reconstruction_and_sample_panels():
    images = torch.rand(6, 1, 28, 28)
    fig = plots.plot_model_comparison(
        images, {"AE": images, "VAE": images}, {"AE": images, "VAE": images},
        recon_notes={"AE": "BCE 0.1"}, sample_notes={"VAE": "dist 4.2"}, n=5,
    )
    shown = [ax for ax in fig.axes if ax.get_images()]
    assert len(shown) == 3 * 5 + 2 * 5  # original + 2 reconstructions, 2 sample rows
    labels = [ax.get_ylabel() for ax in fig.axes if ax.get_ylabel()]
    assert "AE\nBCE 0.1" in labels and "VAE\ndist 4.2" in labels and "original" in labels


def test_model_comparison_without_samples_and_with_bad_notes():
    images = torch.rand(4, 1, 28, 28)
    fig = plots.plot_model_comparison(images, {"AE": images}, n=4)
    assert len([ax for ax in fig.axes if ax.get_images()]) == 8
    with pytest.raises(ValueError, match="reconstructions is empty"):
        plots.plot_model_comparison(images, {})
    with pytest.raises(ValueError, match="no row"):
        plots.plot_model_comparison(images, {"AE": images}, recon_notes={"VAE": "x"})


def test_reconstruction_grid_has_two_rows():
    fig = plots.show_reconstructions(FEW_IMAGES, FEW_IMAGES, n=6)
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


def test_scatter_of_high_dimensional_codes_points_to_the_fix():
    with pytest.raises(ValueError, match="latent_dim=2"):
        plots.plot_latent_scatter(torch.randn(10, 16), torch.zeros(10))


def test_loss_curves_without_epochs_say_train_first():
    with pytest.raises(ValueError, match="train the model"):
        plots.plot_loss_curves(train.History())


def test_learning_rate_plot_marks_the_epochs():
    fig = plots.plot_learning_rate([0.1, 0.5, 1.0, 0.5, 0.1, 0.0], steps_per_epoch=2)
    assert len(fig.axes[0].lines) == 1 + 2  # the curve and two epoch boundaries
    with pytest.raises(ValueError, match="rates is empty"):
        plots.plot_learning_rate([], steps_per_epoch=2)


def test_error_by_latent_size_draws_other_methods_at_the_same_sizes():
    fig = plots.plot_error_by_latent_size({2: 0.04, 8: 0.02}, others={"PCA": {8: 0.03, 2: 0.05}})
    autoencoder, pca = fig.axes[0].lines
    assert list(pca.get_xdata()) == [2, 8] and list(pca.get_ydata()) == [0.05, 0.03]
    assert "PCA" in [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    with pytest.raises(ValueError, match="same code sizes"):
        plots.plot_error_by_latent_size({2: 0.04, 8: 0.02}, others={"PCA": {2: 0.05}})


def test_neighbours_show_each_query_with_its_rows_and_coloured_frames():
    queries, found = torch.rand(2, 1, 28, 28), torch.rand(2, 4, 1, 28, 28)
    same = np.array([[1, 1, 0, 1], [0, 0, 0, 0]])
    fig = plots.plot_neighbours(queries, {"by code": found, "by pixels": found}, {"by code": same})
    assert len(fig.axes) == 2 + 2 * 2 * 4
    assert fig.get_size_inches()[0] <= 10.0
    labels = [ax.get_ylabel() for ax in fig.axes if ax.get_ylabel()]
    assert labels == ["by code", "by pixels"] * 2
    with pytest.raises(ValueError, match="shape"):
        plots.plot_neighbours(queries, {"by code": found[:1]})


def test_piled_up_sample_labels_fan_out_so_that_none_overlap():
    codes = torch.randn(300, 2) * 30  # codes spread far wider than the prior samples: all twelve land in one spot
    fig = plots.plot_samples_on_latent(codes, torch.arange(300) % 10, torch.randn(12, 2), torch.rand(12, 1, 28, 28))
    fig.canvas.draw()
    texts = [t for t in fig.axes[0].texts if t.get_text().startswith("#")]
    assert len(texts) == 12
    boxes = [Text.get_window_extent(t) for t in texts]  # the text alone, without its leader line
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:]), "labels overlap"
    apart = torch.tensor([[-2.0, 0.0], [2.0, 0.0]])
    spread = plots.plot_samples_on_latent(torch.randn(300, 2), torch.arange(300) % 10, apart, torch.rand(2, 1, 28, 28))
    assert all(t.arrow_patch is None for t in spread.axes[0].texts)  # far apart: labelled beside, no leader lines


def test_bound_vs_k_draws_one_point_per_k_and_the_elbo():
    bounds = {1: -torch.rand(20) - 100, 10: -torch.rand(20) - 99, 100: -torch.rand(20) - 98.5}
    fig = plots.plot_bound_vs_k(bounds, elbo=-100.5)
    ax = fig.axes[0]
    assert list(ax.lines[0].get_xdata()) == [1, 10, 100] and ax.get_xscale() == "log"
    assert any(list(line.get_ydata()) == [-100.5, -100.5] for line in ax.lines)
    with pytest.raises(ValueError, match="same images"):
        plots.plot_bound_vs_k({1: torch.zeros(3), 10: torch.zeros(4)})


def test_score_panels_draw_one_panel_per_score_with_its_note():
    scores = {name: {"normal": np.random.rand(50), "odd": np.random.rand(30) + 0.5} for name in ("a", "b", "c", "d")}
    fig = plots.plot_score_panels(scores, notes={"a": "AUC 0.90"})
    titled = [ax for ax in fig.axes if ax.get_title()]
    assert len(titled) == 4 and "AUC 0.90" in titled[0].get_title()
    with pytest.raises(ValueError, match="finite scores"):
        plots.plot_score_panels({"a": {"normal": [float("nan")]}})


def test_threshold_figure_shows_the_line_and_the_scores():
    fig = plots.plot_threshold(np.random.rand(40), np.random.rand(40) + 0.5, 0.7,
                               {"precision": 0.8, "recall": 0.6, "false_alarms": 0.05})
    ax = fig.axes[0]
    assert any(list(line.get_xdata()) == [0.7, 0.7] for line in ax.lines)
    assert "precision 80%" in ax.get_title() and "recall 60%" in ax.get_title()


def test_few_label_curves_draw_the_mean_and_a_band():
    fig = plots.plot_few_label_curves({"pixels": {10: [0.3, 0.5], 100: [0.7, 0.7]}}, chance=0.1)
    ax = fig.axes[0]
    assert list(ax.lines[0].get_ydata()) == [0.4, 0.7] and ax.get_xscale() == "log" and ax.collections
    with pytest.raises(ValueError, match="at least one accuracy"):
        plots.plot_few_label_curves({"pixels": {10: []}})


def test_rate_distortion_puts_each_codec_on_a_log_axis():
    fig = plots.plot_rate_distortion({"AE": [(16, 0.03), (8, 0.031)], "PNG": [(500, 0.0)]}, {"AE": ["8b", "4b"]})
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and len(ax.lines) == 2 and {t.get_text() for t in ax.texts} == {"8b", "4b"}
    assert ax.get_ylim()[0] < 0, "a lossless point (error 0) would sit on the axis, half hidden"
    with pytest.raises(ValueError, match="bytes > 0"):
        plots.plot_rate_distortion({"AE": [(0, 0.1)]})


def test_code_usage_draws_one_panel_per_model_and_counts_the_unused():
    fig = plots.plot_code_usage({"a": np.array([5, 0, 1, 0]), "b": np.array([1, 1, 1, 1])})
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["a\n2 of 4 entries unused", "b\n0 of 4 entries unused"]
    with pytest.raises(ValueError, match="counts is empty"):
        plots.plot_code_usage({})


def test_scaling_plot_draws_the_points_and_names_the_slope():
    fig = plots.plot_scaling([10, 100, 1000], [0.01, 0.9, 95.0], slope=2.0)
    labels = fig.axes[0].get_legend_handles_labels()[1]
    assert labels[0] == "measured (slope 2.0)" and "$D^3$" in labels
    with pytest.raises(ValueError, match="one cost per size"):
        plots.plot_scaling([1, 2], [1.0], 1.0)
