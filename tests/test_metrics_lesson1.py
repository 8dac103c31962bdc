"""metrics added for lesson 1: nearest codes, the wardrobe's outline, empty spots, holes, cycle distances."""

import numpy as np
import pytest
import torch
from torch import nn

from course_utils import metrics


def ring(n: int = 400, radius: float = 1.0) -> np.ndarray:
    """Codes evenly spaced on a circle: the emptiest place inside their outline is the centre."""
    angles = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return np.stack([radius * np.cos(angles), radius * np.sin(angles)], axis=1).astype(np.float32)


# --- nearest_indices ------------------------------------------------------------------------------


def test_nearest_indices_pick_the_closest_reference():
    references = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    queries = np.array([[9.0, 1.0], [1.0, 8.0], [0.2, -0.1]])
    assert metrics.nearest_indices(queries, references).tolist() == [1, 2, 0]


def test_nearest_indices_accept_one_point_and_agree_with_nearest_distances():
    rng = np.random.default_rng(0)
    references, queries = rng.normal(size=(50, 2)), rng.normal(size=(7, 2))
    assert metrics.nearest_indices(queries[0], references).shape == (1,)
    index = metrics.nearest_indices(torch.from_numpy(queries), references, chunk=3)  # several chunks
    distance = metrics.nearest_distances(queries, references)
    assert np.allclose(np.linalg.norm(queries - references[index], axis=1), distance, atol=1e-5)


def test_nearest_indices_refuse_mismatched_or_empty_queries():
    with pytest.raises(ValueError, match="dimensions"):
        metrics.nearest_indices(np.zeros((2, 3)), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="queries"):
        metrics.nearest_indices(np.zeros((0, 2)), np.zeros((4, 2)))


# --- hull_grid_points -----------------------------------------------------------------------------


def test_hull_grid_keeps_only_points_inside_the_outline():
    # A right triangle (0,0), (1,0), (0,1) filled with codes: its hull is the region x + y <= 1.
    rng = np.random.default_rng(1)
    inside = rng.random((2000, 2))
    codes = np.concatenate([inside[inside.sum(axis=1) <= 1], [[0, 0], [1, 0], [0, 1]]])
    grid = metrics.hull_grid_points(codes, grid_size=20, quantile=0.0)
    assert len(grid) > 50
    assert np.all(grid.sum(axis=1) <= 1 + 1e-4), "grid points outside the triangle were kept"
    assert np.all(grid >= -1e-6)


def test_hull_grid_refuses_bad_input():
    with pytest.raises(ValueError, match="latent_dim=2"):
        metrics.hull_grid_points(np.zeros((10, 3)))
    with pytest.raises(ValueError, match="at least 3"):
        metrics.hull_grid_points(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="line"):
        metrics.hull_grid_points(np.stack([np.arange(10.0), 2 * np.arange(10.0)], axis=1), quantile=0.0)
    with pytest.raises(ValueError, match="both directions"):
        metrics.hull_grid_points(np.stack([np.arange(10.0), np.zeros(10)], axis=1), quantile=0.0)
    with pytest.raises(ValueError, match="grid_size"):
        metrics.hull_grid_points(ring(), grid_size=1)
    with pytest.raises(ValueError, match="quantile"):
        metrics.hull_grid_points(ring(), quantile=0.5)


# --- find_empty_spots and empty_fraction ----------------------------------------------------------


def test_the_emptiest_spot_of_a_ring_is_its_centre():
    spots, gaps = metrics.find_empty_spots(ring(), n_spots=1, grid_size=41, quantile=0.0)
    assert spots.shape == (1, 2) and gaps.shape == (1,)
    assert np.linalg.norm(spots[0]) < 0.06
    assert gaps[0] == pytest.approx(1.0, abs=0.06)


def test_empty_spots_are_distinct_gaps_farthest_first():
    codes = np.concatenate([ring(), ring(radius=3.0)])  # the centre and the band between the rings are empty
    spots, gaps = metrics.find_empty_spots(codes, n_spots=4, grid_size=40, quantile=0.0)
    assert len(spots) == 4
    assert np.all(np.diff(gaps) <= 0), "spots should come farthest first"
    for i in range(len(spots)):
        for j in range(i):  # each spot lies outside the empty circle of every earlier spot
            assert np.linalg.norm(spots[i] - spots[j]) > gaps[j]
    assert np.allclose(gaps, metrics.nearest_distances(spots, codes), atol=1e-5)


def test_find_empty_spots_refuses_a_bad_count():
    with pytest.raises(ValueError, match="n_spots"):
        metrics.find_empty_spots(ring(), n_spots=0)


def test_empty_fraction_of_a_ring_and_of_a_filled_square():
    # Inside a unit ring, the points farther than 0.5 from it form a disc of radius 0.5: a quarter of the area.
    assert 0.15 < metrics.empty_fraction(ring(), radius=0.5, grid_size=60, quantile=0.0) < 0.35
    xs = np.linspace(0, 1, 30)
    filled = np.array([[x, y] for x in xs for y in xs])
    assert metrics.empty_fraction(filled, radius=0.05, quantile=0.0) == 0.0
    with pytest.raises(ValueError, match="radius"):
        metrics.empty_fraction(ring(), radius=0.0)


# --- cycle_distances ------------------------------------------------------------------------------


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


def test_cycle_distances_are_zero_for_a_consistent_model_and_the_code_length_otherwise():
    codes = np.array([[3.0, 4.0], [0.5, -0.5]], dtype=np.float32)
    assert np.allclose(metrics.cycle_distances(PixelCode(), codes), 0.0)
    assert np.allclose(metrics.cycle_distances(PixelCode(forgetful=True), codes), [5.0, np.sqrt(0.5)])


def test_cycle_distances_refuse_codes_of_the_wrong_size():
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        metrics.cycle_distances(PixelCode(), np.zeros((3, 5)))
