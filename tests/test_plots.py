"""plots added for the claims matrix: class shares, and figures sized for the notebook's width."""

import numpy as np
import pytest
import torch

from course_utils import plots


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
