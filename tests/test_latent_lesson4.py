"""latent: the quantile grid's corners are the requested quantiles; interpolation hits both codes."""

import pytest
import torch
from scipy import stats

from course_utils import latent, models, plots


def test_quantile_grid_corners_are_the_requested_quantiles():
    grid = latent.normal_quantile_grid(n=7, low=0.05, high=0.95)
    lo, hi = stats.norm.ppf(0.05), stats.norm.ppf(0.95)
    assert grid.shape == (49, 2) and grid.dtype == torch.float32
    corners = {"top-left": (0, (lo, hi)), "top-right": (6, (hi, hi)),
               "bottom-left": (42, (lo, lo)), "bottom-right": (48, (hi, lo))}
    for name, (index, expected) in corners.items():
        assert torch.allclose(grid[index], torch.tensor(expected, dtype=torch.float32), atol=1e-5), name


def test_quantile_grid_is_equally_spaced_in_probability_and_matches_grid_order():
    grid = latent.normal_quantile_grid(n=5, low=0.1, high=0.9)
    probabilities = stats.norm.cdf(grid[:5, 0].numpy())
    assert probabilities == pytest.approx([0.1, 0.3, 0.5, 0.7, 0.9], abs=1e-5)
    assert grid[2 * 5 + 2].abs().max() < 1e-6  # the centre tile is the origin
    # same order as plots.latent_grid_points: z1 grows along a row, z2 falls down the rows
    order = plots.latent_grid_points((0, 1), (0, 1), 5)
    assert ((grid[:, 0] > grid[0, 0]).numpy() == (order[:, 0] > order[0, 0])).all()
    assert ((grid[:, 1] < grid[0, 1]).numpy() == (order[:, 1] < order[0, 1])).all()


@pytest.mark.parametrize("kwargs, match", [
    ({"n": 1}, "n must be an integer >= 2"),
    ({"n": 3.0}, "n must be an integer >= 2"),
    ({"low": 0.0}, "0 < low < high < 1"),
    ({"high": 1.0}, "0 < low < high < 1"),
    ({"low": 0.9, "high": 0.1}, "0 < low < high < 1"),
])
def test_quantile_grid_refuses_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        latent.normal_quantile_grid(**kwargs)


def test_interpolation_endpoints_equal_the_two_codes():
    start, end = torch.randn(16), torch.randn(16)
    path = latent.interpolate(start, end, steps=9)
    assert path.shape == (9, 16)
    assert torch.equal(path[0], start) and torch.equal(path[-1], end)
    assert torch.allclose(path[4], (start + end) / 2, atol=1e-6)  # the midpoint
    steps = path.diff(dim=0).norm(dim=1)
    assert torch.allclose(steps, steps[0].expand_as(steps), atol=1e-5)  # evenly spaced


def test_interpolation_accepts_row_codes():
    codes = torch.randn(5, 3)
    path = latent.interpolate(codes[1:2], codes[3:4], steps=2)
    assert torch.equal(path, codes[[1, 3]])


@pytest.mark.parametrize("start, end, steps, match", [
    (torch.zeros(2), torch.zeros(3), 5, "same model"),
    (torch.zeros(4, 2), torch.zeros(2), 5, "one code"),
    (torch.zeros(2), torch.zeros(2), 1, "steps must be an integer >= 2"),
])
def test_interpolation_refuses_bad_input(start, end, steps, match):
    with pytest.raises(ValueError, match=match):
        latent.interpolate(start, end, steps)


def test_interpolate_images_decodes_the_path_between_two_images():
    torch.manual_seed(0)
    model = models.ConvAutoencoder(4).eval()
    images = torch.rand(2, 1, 28, 28)
    path = latent.interpolate_images(model, images[0], images[1], steps=6)
    assert path.shape == (6, 1, 28, 28)
    with torch.no_grad():
        ends = model(images)
    assert torch.allclose(path[0], ends[0], atol=1e-5) and torch.allclose(path[-1], ends[1], atol=1e-5)
    with pytest.raises(ValueError, match="one image"):
        latent.interpolate_images(model, images, images[1])
