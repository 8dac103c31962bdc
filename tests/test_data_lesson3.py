"""data (lesson 3): the white-square defect used by the anomaly demo."""

import pytest
import torch

from course_utils import data


def test_add_patch_stamps_one_white_square_per_image_and_keeps_the_input():
    images = torch.zeros(6, 1, 28, 28)
    patched = data.add_patch(images, size=5, seed=1)
    assert images.sum() == 0, "the input must not be changed"
    assert torch.all(patched.flatten(1).sum(dim=1) == 25)
    assert torch.equal(patched, data.add_patch(images, size=5, seed=1))
    assert not torch.equal(patched, data.add_patch(images, size=5, seed=2))


@pytest.mark.parametrize("size", [0, 29, 2.5])
def test_add_patch_refuses_bad_sizes(size):
    with pytest.raises(ValueError, match="size"):
        data.add_patch(torch.zeros(2, 1, 28, 28), size=size)


def test_add_patch_needs_a_batch():
    with pytest.raises(ValueError, match="batch"):
        data.add_patch(torch.zeros(28, 28))
