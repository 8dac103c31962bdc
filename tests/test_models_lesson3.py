"""models (lesson 3): conv output sizes, and the layer-by-layer shape table."""

import pytest
import torch
from torch import nn

from course_utils import models


@pytest.mark.parametrize(
    "size, kernel, stride, padding",
    [(28, 3, 2, 1), (14, 3, 2, 1), (28, 3, 1, 1), (28, 2, 2, 0), (7, 3, 1, 0), (5, 5, 1, 0)],
)
def test_conv_output_size_matches_pytorch(size, kernel, stride, padding):
    conv = nn.Conv2d(1, 1, kernel, stride=stride, padding=padding)
    expected = conv(torch.zeros(1, 1, size, size)).shape[-1]
    assert models.conv_output_size(size, kernel, stride, padding) == expected


@pytest.mark.parametrize("args", [(0, 3), (28, 0), (28, 3, 0), (28, 3, 1, -1), (2, 5), (28.0, 3)])
def test_conv_output_size_refuses_bad_input(args):
    with pytest.raises(ValueError):
        models.conv_output_size(*args)


def test_layer_shapes_follow_the_conv_autoencoder():
    rows = models.layer_shapes(models.ConvAutoencoder(16))
    encoder = [r for r in rows if r["part"] == "encoder"]
    decoder = [r for r in rows if r["part"] == "decoder"]
    assert encoder[0]["shape"] == (16, 14, 14)
    assert encoder[-1]["shape"] == (16,) and encoder[-1]["layer"].startswith("Linear")
    assert decoder[-1]["layer"].startswith("sigmoid") and decoder[-1]["shape"] == (1, 28, 28)
    assert sum(r["params"] for r in rows) == models.count_parameters(models.ConvAutoencoder(16))


def test_maxpool_variant_has_same_parameters_but_more_multiply_adds():
    stride = models.layer_shapes(models.ConvAutoencoder(16, downsample="stride"))
    pool = models.layer_shapes(models.ConvAutoencoder(16, downsample="maxpool"))
    assert any(r["layer"].startswith("MaxPool2d") for r in pool)
    assert sum(r["params"] for r in stride) == sum(r["params"] for r in pool)
    assert sum(r["multiply_adds"] for r in pool) > 2 * sum(r["multiply_adds"] for r in stride)


def test_multiply_adds_of_a_linear_layer_and_a_plain_module():
    rows = models.layer_shapes(nn.Sequential(nn.Flatten(), nn.Linear(784, 10)))
    assert [r["part"] for r in rows] == ["model", "model"]
    assert rows[1]["multiply_adds"] == 7840 and rows[1]["params"] == 7850


def test_layer_shapes_keeps_training_mode_and_table_has_totals():
    model = models.MLPAutoencoder(4).train()
    table = models.layer_table(model)
    assert model.training
    assert "total" in table and f"{models.count_parameters(model):,}" in table
    assert "1x28x28" in table


def test_layer_shapes_refuses_bad_input():
    with pytest.raises(TypeError, match="ConvAutoencoder"):
        models.layer_shapes("not a model")
    with pytest.raises(ValueError, match="input_shape"):
        models.layer_shapes(models.ConvAutoencoder(), input_shape=(1, 0, 28, 28))
