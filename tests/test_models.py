"""models: shapes round-trip, output ranges, and clear errors for wrong shapes."""

import pytest
import torch
from torch import nn

from course_utils import losses, models

BATCH = torch.rand(5, 1, 28, 28)


ALL_MODELS = [
    lambda: models.MLPAutoencoder(2),
    lambda: models.ConvAutoencoder(16),
    lambda: models.ConvAutoencoder(8, downsample="maxpool", upsample="resize"),
    lambda: models.ConvVAE(4),
]


@pytest.mark.parametrize("build", ALL_MODELS)
def test_shapes_round_trip(build):
    model = build()
    z = model.encode(BATCH)
    assert z.shape == (5, model.latent_dim)
    x_hat = model.decode(z)
    assert x_hat.shape == BATCH.shape
    assert 0.0 <= x_hat.min() and x_hat.max() <= 1.0
    assert model(BATCH).shape == BATCH.shape


def test_vae_returns_mean_and_log_variance_and_samples():
    vae = models.ConvVAE(3)
    mu, logvar = vae.encode_distribution(BATCH)
    assert mu.shape == logvar.shape == (5, 3)
    logits, mu2, _ = vae.forward_parts(BATCH)
    assert logits.shape == BATCH.shape and torch.equal(mu, mu2)
    assert vae.sample(7).shape == (7, 1, 28, 28)


def test_reparameterize_is_mu_plus_sigma_eps_and_passes_gradients():
    mu = torch.zeros(2000, 2, requires_grad=True)
    logvar = torch.full((2000, 2), 2.0 * torch.log(torch.tensor(3.0)).item(), requires_grad=True)
    torch.manual_seed(0)
    z = models.ConvVAE.reparameterize(mu, logvar)
    assert abs(z.std().item() - 3.0) < 0.15  # sigma = exp(logvar / 2) = 3
    z.sum().backward()
    assert mu.grad is not None and logvar.grad is not None


def test_conv_model_is_far_smaller_than_the_mlp():
    assert models.count_parameters(models.ConvAutoencoder(16)) * 5 < models.count_parameters(models.MLPAutoencoder(16))


@pytest.mark.parametrize("latent_dim", [0, -3, 2.5, "2"])
def test_bad_latent_size_is_refused(latent_dim):
    with pytest.raises(ValueError, match="latent_dim"):
        models.MLPAutoencoder(latent_dim)


def test_missing_channel_axis_says_how_to_fix_it():
    with pytest.raises(ValueError, match="unsqueeze"):
        models.ConvAutoencoder().encode(torch.rand(5, 28, 28))


def test_wrong_code_size_says_what_the_decoder_expects():
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        models.MLPAutoencoder(2).decode(torch.rand(4, 3))


def test_unknown_downsampling_is_refused():
    with pytest.raises(ValueError, match="'stride' or 'maxpool'"):
        models.ConvAutoencoder(downsample="avg")


@pytest.mark.parametrize("variant", [{}, {"downsample": "maxpool", "upsample": "resize"}])
def test_extra_channels_add_size_keeping_layers_at_7x7(variant):
    """channels=(16, 32, 32) adds one 3x3 conv per half at 7x7; the image round trip is unchanged."""
    x = torch.rand(3, 1, 28, 28)
    deeper = models.ConvAutoencoder(8, channels=(16, 32, 32), **variant)
    assert deeper(x).shape == x.shape
    extra = [m for m in deeper.encoder[0] if isinstance(m, torch.nn.Conv2d)][-1]
    assert (extra.in_channels, extra.out_channels, extra.stride) == (32, 32, (1, 1))
    gained = models.count_parameters(deeper) - models.count_parameters(models.ConvAutoencoder(8, **variant))
    assert gained == 2 * (32 * 32 * 9 + 32)  # one 32->32 3x3 conv in the encoder, one in the decoder
    vae = models.ConvVAE(8, channels=(16, 32, 32))
    logits, mu, logvar = vae.forward_parts(x)
    assert logits.shape == x.shape and mu.shape == logvar.shape == (3, 8)


@pytest.mark.parametrize("channels", [(16,), (16, 0), (16, 32.0), "16,32"])
def test_bad_channels_are_refused_with_an_example(channels):
    with pytest.raises(ValueError, match=r"e\.g\. \(16, 32\)"):
        models.ConvVAE(8, channels=channels)


def test_conv_parameters_asks_pytorch():
    assert models.conv_parameters(16, 32, 3) == 32 * (16 * 9 + 1) == 4640


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


def test_linear_autoencoder_is_linear_around_the_mean_and_refuses_a_bad_mean():
    images = torch.rand(6, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    model = models.LinearAutoencoder(2, mean=images.mean(dim=0))
    z = model.encode(images)
    assert z.shape == (6, 2) and model.directions().shape == (784, 2)
    torch.testing.assert_close(model.decode(torch.zeros(1, 2)), images.mean(dim=0, keepdim=True))  # code 0 -> the mean
    torch.testing.assert_close(model.decode(2 * z) - model.mean, 2 * (model.decode(z) - model.mean))  # no squashing
    assert not any(isinstance(m, (torch.nn.ReLU, torch.nn.Sigmoid)) for m in model.modules())
    with pytest.raises(ValueError, match="784 numbers"):
        models.LinearAutoencoder(2, mean=torch.zeros(10))


def test_autoregressive_vae_sees_only_the_pixels_before_each_pixel():
    model = models.AutoregressiveVAE(latent_dim=4)
    x = (torch.rand(3, 1, 28, 28) > 0.5).float()
    flipped = x.clone()
    flipped[:, :, 10, 10:] = 1 - flipped[:, :, 10, 10:]  # pixel (10, 10) and everything after it in raster order
    flipped[:, :, 11:] = 1 - flipped[:, :, 11:]
    z = torch.zeros(3, 4)
    before, after = model.logits_given(x, z), model.logits_given(flipped, z)
    assert torch.equal(before[:, :, :10], after[:, :, :10])
    assert torch.equal(before[:, :, 10, :11], after[:, :, 10, :11])  # (10, 10) itself is predicted, not seen
    assert not torch.equal(before, after)


def test_autoregressive_vae_trains_with_the_vae_objective_and_refuses_to_sample():
    model = models.AutoregressiveVAE(latent_dim=4)
    x = (torch.rand(8, 1, 28, 28) > 0.5).float()
    parts = losses.vae_objective(1.0)(model, x)
    parts["total"].backward()
    assert model.pixel_path[0].weight.grad is not None and model.to_mu.weight.grad is not None
    with pytest.raises(NotImplementedError, match="ConvVAE.sample"):
        model.sample(2)
    with pytest.raises(NotImplementedError, match="logits_given"):
        model.decode(torch.zeros(2, 4))
