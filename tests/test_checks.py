"""The shared checks: whole numbers, image batches, NumPy copies, a model's device."""

import numpy as np
import pytest
import torch

from course_utils import checks, models


def test_positive_int_accepts_python_and_numpy_integers():
    assert checks.positive_int("n", 3) == 3
    assert checks.positive_int("n", np.int64(5)) == 5 and type(checks.positive_int("n", np.int64(5))) is int
    assert checks.positive_int("padding", 0, minimum=0) == 0


@pytest.mark.parametrize("value", [0, -1, 2.0, "3", None, True, 1.5])
def test_positive_int_refuses_what_is_not_a_positive_whole_number(value):
    with pytest.raises(ValueError, match=r"epochs must be a positive integer \(passes over the data\), got"):
        checks.positive_int("epochs", value, hint="(passes over the data)")


def test_positive_int_names_its_minimum():
    with pytest.raises(ValueError, match="n must be an integer >= 2"):
        checks.positive_int("n", 1, minimum=2)


@pytest.mark.parametrize("images, error, match", [
    ([[0.0]], TypeError, "must be a tensor of images"),
    (torch.rand(4, 28, 28), ValueError, r"add the channel axis with x.unsqueeze\(1\)"),
    (torch.rand(28, 28), ValueError, r"A single image needs a batch axis"),
    (torch.rand(0, 1, 28, 28), ValueError, "empty batch"),
    (torch.zeros(2, 1, 28, 28, dtype=torch.uint8), ValueError, r"float\(\) / 255"),
    (torch.rand(2, 1, 32, 32), ValueError, r"must have shape \(N, 1, 28, 28\)"),
])
def test_check_images_names_the_problem_and_the_fix(images, error, match):
    with pytest.raises(error, match=match):
        checks.check_images(images, "x", shape=(1, 28, 28))


def test_check_images_without_a_pinned_shape_takes_any_channel_and_size():
    checks.check_images(torch.rand(2, 3, 8, 8), "batch")


def test_to_numpy_copies_tensors_that_need_gradients():
    value = torch.ones(3, requires_grad=True) * 2
    assert np.array_equal(checks.to_numpy(value), [2.0, 2.0, 2.0])
    assert np.array_equal(checks.to_numpy([1, 2]), [1, 2])


def test_model_device_is_where_the_weights_are():
    assert checks.model_device(models.MLPAutoencoder(2)) == torch.device("cpu")
