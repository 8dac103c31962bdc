"""metrics added in lesson 4: sharpness falls when an image is blurred."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_utils import metrics


def test_sharpness_of_flat_and_checkerboard_images():
    flat = torch.full((2, 1, 8, 8), 0.3)
    board = (torch.arange(8)[:, None] + torch.arange(8)[None, :]) % 2
    board = board.float().view(1, 1, 8, 8)
    assert metrics.sharpness(flat) == pytest.approx([0.0, 0.0])
    assert metrics.sharpness(board) == pytest.approx([1.0])  # every neighbour differs by 1


def test_blurring_lowers_sharpness():
    torch.manual_seed(0)
    images = (torch.rand(5, 1, 28, 28) > 0.7).float()
    blurred = F.avg_pool2d(images, 3, stride=1, padding=1)
    assert np.all(metrics.sharpness(blurred) < 0.5 * metrics.sharpness(images))


def test_sharpness_accepts_arrays_without_channel_axis():
    images = np.random.default_rng(0).random((3, 28, 28))
    assert metrics.sharpness(images).shape == (3,)
    assert np.allclose(metrics.sharpness(images), metrics.sharpness(torch.from_numpy(images).unsqueeze(1)))


@pytest.mark.parametrize("shape", [(28, 28), (4, 3, 28, 28), (4, 1, 1, 28)])
def test_sharpness_refuses_bad_shapes(shape):
    with pytest.raises(ValueError, match="batch of images"):
        metrics.sharpness(torch.zeros(shape))


def test_generation_scores_punish_a_generator_that_repeats_one_image():
    torch.manual_seed(0)
    train_images = torch.rand(200, 1, 8, 8)
    test_images = train_images[:50] + 0.01 * torch.randn(50, 1, 8, 8)
    varied = train_images[50:150]  # many real images: close to data and covering it
    repeated = train_images[:1].repeat(100, 1, 1, 1)  # one real image, a hundred times
    good, lazy = (metrics.generation_scores(s, train_images, test_images) for s in (varied, repeated))
    assert good["to_data"] == pytest.approx(0.0) and lazy["to_data"] == pytest.approx(0.0)
    assert lazy["to_samples"] > good["to_samples"]  # only coverage tells them apart
    noise = metrics.generation_scores(torch.rand(100, 1, 8, 8) * 5, train_images, test_images)
    assert noise["to_data"] > good["to_data"] + 1


def test_generation_scores_refuse_mismatched_sizes():
    with pytest.raises(ValueError, match="same image size"):
        metrics.generation_scores(torch.rand(5, 1, 8, 8), torch.rand(5, 1, 28, 28), torch.rand(5, 1, 28, 28))


@pytest.mark.parametrize("dim", [1, 2, 16])
def test_share_in_prior_of_prior_samples_is_the_requested_mass(dim):
    codes = torch.randn(20000, dim, generator=torch.Generator().manual_seed(dim))
    assert metrics.share_in_prior(codes, mass=0.95) == pytest.approx(0.95, abs=0.01)
    assert metrics.share_in_prior(codes, mass=0.5) == pytest.approx(0.5, abs=0.015)


def test_share_in_prior_of_far_codes_is_zero():
    assert metrics.share_in_prior(torch.randn(100, 2) + 10.0) == 0.0
    assert metrics.share_in_prior(np.zeros((5, 16))) == 1.0


@pytest.mark.parametrize("codes, mass, match", [
    (torch.zeros(10), 0.95, "shape"), (torch.zeros(0, 2), 0.95, "N > 0"), (torch.zeros(3, 2), 1.0, "mass"),
])
def test_share_in_prior_refuses_bad_input(codes, mass, match):
    with pytest.raises(ValueError, match=match):
        metrics.share_in_prior(codes, mass)


def test_variety_is_zero_for_copies_and_grows_with_differences():
    one = torch.rand(1, 1, 28, 28)
    assert metrics.variety(one.repeat(5, 1, 1, 1)) == pytest.approx(0.0, abs=1e-6)
    halves = torch.cat([torch.zeros(2, 1, 28, 28), torch.ones(2, 1, 28, 28)])
    assert metrics.variety(halves) == pytest.approx(0.5)  # each pixel: two 0s and two 1s, std 0.5
    assert metrics.variety(torch.rand(50, 1, 28, 28)) > metrics.variety(0.1 * torch.rand(50, 1, 28, 28))


@pytest.mark.parametrize("images", [torch.rand(1, 1, 28, 28), torch.rand(28, 28)])
def test_variety_needs_several_images(images):
    with pytest.raises(ValueError, match="at least two images"):
        metrics.variety(images)
