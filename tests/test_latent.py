"""The latent space: ranges, grids, outlines and empty spots, holes, walks between codes."""

import numpy as np
import pytest
import torch
from scipy import stats
from torch import nn

from course_utils import latent, metrics, models


def ring(n: int = 400, radius: float = 1.0) -> np.ndarray:
    """Codes evenly spaced on a circle: the emptiest place inside their outline is the centre."""
    angles = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return np.stack([radius * np.cos(angles), radius * np.sin(angles)], axis=1).astype(np.float32)


class PixelCode(nn.Module):
    """A toy 'autoencoder' that writes a 2-D code into two pixels and reads it back."""

    latent_dim = 2

    def __init__(self, forgetful: bool = False) -> None:
        super().__init__()
        self.unused = nn.Parameter(torch.zeros(1))  # train.encode_all looks up the device here
        self.forgetful = forgetful

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        images = torch.zeros(len(z), 1, 28, 28)
        images[:, 0, 0, :2] = z
        return images

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        codes = x[:, 0, 0, :2].clone()
        return torch.zeros_like(codes) if self.forgetful else codes


IMAGES = torch.rand(12, 1, 28, 28)


def test_hole_share_is_about_five_percent_for_real_codes_and_high_far_away():
    codes = torch.randn(4000, 2, generator=torch.Generator().manual_seed(0))
    fresh = torch.randn(2000, 2, generator=torch.Generator().manual_seed(1))
    share, radius = latent.hole_share(fresh, codes)
    assert 0.02 < share < 0.09 and radius > 0  # 5% by construction, up to sampling noise
    far, _ = latent.hole_share(fresh * 10, codes)
    assert far > 0.7
    with pytest.raises(ValueError, match=r"shape \(N, latent_dim\) with N >= 4"):
        latent.hole_share(fresh, codes[:3])


def test_hull_grid_keeps_only_points_inside_the_outline():
    # A right triangle (0,0), (1,0), (0,1) filled with codes: its hull is the region x + y <= 1.
    rng = np.random.default_rng(1)
    inside = rng.random((2000, 2))
    codes = np.concatenate([inside[inside.sum(axis=1) <= 1], [[0, 0], [1, 0], [0, 1]]])
    grid = latent.hull_grid_points(codes, grid_size=20, quantile=0.0)
    assert len(grid) > 50
    assert np.all(grid.sum(axis=1) <= 1 + 1e-4), "grid points outside the triangle were kept"
    assert np.all(grid >= -1e-6)


def test_hull_grid_refuses_bad_input():
    with pytest.raises(ValueError, match="latent_dim=2"):
        latent.hull_grid_points(np.zeros((10, 3)))
    with pytest.raises(ValueError, match="at least 3"):
        latent.hull_grid_points(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="line"):
        latent.hull_grid_points(np.stack([np.arange(10.0), 2 * np.arange(10.0)], axis=1), quantile=0.0)
    with pytest.raises(ValueError, match="both directions"):
        latent.hull_grid_points(np.stack([np.arange(10.0), np.zeros(10)], axis=1), quantile=0.0)
    with pytest.raises(ValueError, match="grid_size"):
        latent.hull_grid_points(ring(), grid_size=1)
    with pytest.raises(ValueError, match="quantile"):
        latent.hull_grid_points(ring(), quantile=0.5)


def test_the_emptiest_spot_of_a_ring_is_its_centre():
    spots, gaps = latent.find_empty_spots(ring(), n_spots=1, grid_size=41, quantile=0.0)
    assert spots.shape == (1, 2) and gaps.shape == (1,)
    assert np.linalg.norm(spots[0]) < 0.06
    assert gaps[0] == pytest.approx(1.0, abs=0.06)


def test_empty_spots_are_distinct_gaps_farthest_first():
    codes = np.concatenate([ring(), ring(radius=3.0)])  # the centre and the band between the rings are empty
    spots, gaps = latent.find_empty_spots(codes, n_spots=4, grid_size=40, quantile=0.0)
    assert len(spots) == 4
    assert np.all(np.diff(gaps) <= 0), "spots should come farthest first"
    for i in range(len(spots)):
        for j in range(i):  # each spot lies outside the empty circle of every earlier spot
            assert np.linalg.norm(spots[i] - spots[j]) > gaps[j]
    assert np.allclose(gaps, metrics.nearest_distances(spots, codes), atol=1e-5)


def test_find_empty_spots_refuses_a_bad_count():
    with pytest.raises(ValueError, match="n_spots"):
        latent.find_empty_spots(ring(), n_spots=0)


def test_empty_fraction_of_a_ring_and_of_a_filled_square():
    # Inside a unit ring, the points farther than 0.5 from it form a disc of radius 0.5: a quarter of the area.
    assert 0.15 < latent.empty_fraction(ring(), radius=0.5, grid_size=60, quantile=0.0) < 0.35
    xs = np.linspace(0, 1, 30)
    filled = np.array([[x, y] for x in xs for y in xs])
    assert latent.empty_fraction(filled, radius=0.05, quantile=0.0) == 0.0
    with pytest.raises(ValueError, match="radius"):
        latent.empty_fraction(ring(), radius=0.0)


def test_cycle_distances_are_zero_for_a_consistent_model_and_the_code_length_otherwise():
    codes = np.array([[3.0, 4.0], [0.5, -0.5]], dtype=np.float32)
    assert np.allclose(latent.cycle_distances(PixelCode(), codes), 0.0)
    assert np.allclose(latent.cycle_distances(PixelCode(forgetful=True), codes), [5.0, np.sqrt(0.5)])


def test_cycle_distances_refuse_codes_of_the_wrong_size():
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        latent.cycle_distances(PixelCode(), np.zeros((3, 5)))


@pytest.mark.parametrize("dim", [1, 2, 16])
def test_share_in_prior_of_prior_samples_is_the_requested_mass(dim):
    codes = torch.randn(20000, dim, generator=torch.Generator().manual_seed(dim))
    assert latent.share_in_prior(codes, mass=0.95) == pytest.approx(0.95, abs=0.01)
    assert latent.share_in_prior(codes, mass=0.5) == pytest.approx(0.5, abs=0.015)


def test_share_in_prior_of_far_codes_is_zero():
    assert latent.share_in_prior(torch.randn(100, 2) + 10.0) == 0.0
    assert latent.share_in_prior(np.zeros((5, 16))) == 1.0


@pytest.mark.parametrize("codes, mass, match", [
    (torch.zeros(10), 0.95, "shape"), (torch.zeros(0, 2), 0.95, "N > 0"), (torch.zeros(3, 2), 1.0, "mass"),
])
def test_share_in_prior_refuses_bad_input(codes, mass, match):
    with pytest.raises(ValueError, match=match):
        latent.share_in_prior(codes, mass)


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
    # same order as latent.latent_grid_points: z1 grows along a row, z2 falls down the rows
    order = latent.latent_grid_points((0, 1), (0, 1), 5)
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


def test_far_ring_lies_outside_every_code():
    codes = torch.randn(500, 2, generator=torch.Generator().manual_seed(0)) * torch.tensor([3.0, 1.0]) + 5
    ring = latent.far_ring(codes, n=16, factor=2.0)
    assert ring.shape == (16, 2)
    reach = (codes - codes.median(dim=0).values).norm(dim=1).max()
    assert metrics.nearest_distances(ring, codes).min() >= reach * 0.99  # at least one code radius away


def test_far_ring_refuses_codes_it_cannot_draw_around():
    with pytest.raises(ValueError, match=r"needs 2-D codes of shape \(N, 2\)"):
        latent.far_ring(torch.zeros(10, 16))
    with pytest.raises(ValueError, match="factor above 1"):
        latent.far_ring(torch.zeros(10, 2), factor=1.0)


def test_grid_points_run_from_top_left():
    points = latent.latent_grid_points((0, 1), (0, 1), 3)
    assert points[0].tolist() == [0.0, 1.0] and points[-1].tolist() == [1.0, 0.0]
