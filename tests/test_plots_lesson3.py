"""plots (lesson 3): t-SNE panels and error histograms draw, and refuse malformed input."""

import numpy as np
import pytest
import torch

from course_utils import plots


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
