"""losses: MSE/BCE values, KL against its closed form, VAE loss parts, objectives."""

import math

import pytest
import torch
import torch.nn.functional as F

from course_utils import losses, models


def test_mse_and_bce_on_known_values():
    x = torch.tensor([[0.0, 1.0]])
    x_hat = torch.tensor([[0.5, 0.5]])
    assert losses.reconstruction_loss(x_hat, x, kind="mse").item() == pytest.approx(0.25)
    assert losses.reconstruction_loss(x_hat, x, kind="bce").item() == pytest.approx(math.log(2))
    assert losses.reconstruction_loss(x_hat, x, kind="mse", reduction="image").item() == pytest.approx(0.5)


def test_bce_from_logits_matches_bce_on_probabilities():
    logits = torch.randn(4, 1, 28, 28)
    target = torch.rand(4, 1, 28, 28)
    fused = losses.reconstruction_loss(logits, target, from_logits=True)
    plain = losses.reconstruction_loss(torch.sigmoid(logits), target)
    assert fused.item() == pytest.approx(plain.item(), rel=1e-5)


def test_kl_matches_closed_form_on_known_values():
    # KL(N(mu, sigma^2) || N(0, 1)) = (mu^2 + sigma^2 - 1 - log sigma^2) / 2, per dimension
    mu = torch.tensor([[1.0, 0.0]])
    logvar = torch.log(torch.tensor([[1.0, 4.0]]))
    expected = 0.5 * (1 + 1 - 1 - 0) + 0.5 * (0 + 4 - 1 - math.log(4))
    assert losses.kl_divergence(mu, logvar).item() == pytest.approx(expected)


def test_kl_matches_torch_distributions():
    mu, logvar = torch.randn(6, 3), torch.randn(6, 3)
    q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
    p = torch.distributions.Normal(torch.zeros(3), torch.ones(3))
    expected = torch.distributions.kl_divergence(q, p).sum(1).mean()
    assert losses.kl_divergence(mu, logvar).item() == pytest.approx(expected.item(), rel=1e-5)


def test_kl_is_zero_for_the_prior():
    assert losses.kl_divergence(torch.zeros(3, 4), torch.zeros(3, 4)).item() == 0.0


def test_general_kl_matches_torch_distributions_independent_normal():
    mu, logvar = torch.randn(6, 3), torch.randn(6, 3)
    prior_mu, prior_logvar = torch.randn(6, 3), torch.randn(6, 3)
    q = torch.distributions.Independent(torch.distributions.Normal(mu, torch.exp(0.5 * logvar)), 1)
    p = torch.distributions.Independent(torch.distributions.Normal(prior_mu, torch.exp(0.5 * prior_logvar)), 1)
    expected = torch.distributions.kl_divergence(q, p).mean()
    assert losses.kl_divergence(mu, logvar, prior_mu, prior_logvar).item() == pytest.approx(expected.item(), rel=1e-5)


def test_general_kl_has_the_standard_normal_as_its_special_case():
    mu, logvar = torch.randn(4, 5), torch.randn(4, 5)
    standard = losses.kl_divergence(mu, logvar)
    assert losses.kl_divergence(mu, logvar, torch.zeros(5), torch.zeros(5)).item() == pytest.approx(standard.item())
    assert losses.kl_divergence(mu, logvar, prior_mu=torch.zeros(4, 5)).item() == pytest.approx(standard.item())
    # KL of a Gaussian to itself is 0, and it is not symmetric in general
    assert losses.kl_divergence(mu, logvar, mu, logvar).item() == pytest.approx(0.0, abs=1e-6)
    other_mu, other_logvar = torch.randn(4, 5), torch.randn(4, 5)
    forward = losses.kl_divergence(mu, logvar, other_mu, other_logvar)
    backward = losses.kl_divergence(other_mu, other_logvar, mu, logvar)
    assert forward.item() != pytest.approx(backward.item(), rel=1e-3)


def test_kl_per_dimension_is_the_one_formula_behind_both_kls():
    mu, logvar = torch.randn(5, 4), torch.randn(5, 4)
    per_dim = losses.kl_per_dimension(mu, logvar)
    assert per_dim.shape == mu.shape and (per_dim >= 0).all()
    assert losses.kl_divergence(mu, logvar).item() == pytest.approx(per_dim.sum(1).mean().item())
    assert losses.free_bits_kl(mu, logvar, 0.0).item() == pytest.approx(per_dim.mean(0).sum().item())


def test_general_kl_rejects_a_prior_that_does_not_fit():
    with pytest.raises(ValueError, match="broadcast"):
        losses.kl_divergence(torch.zeros(2, 3), torch.zeros(2, 3), torch.zeros(4), torch.zeros(4))
    with pytest.raises(ValueError, match="no larger than mu"):
        losses.kl_divergence(torch.zeros(2, 3), torch.zeros(2, 3), torch.zeros(5, 2, 3), torch.zeros(5, 2, 3))


def test_vae_loss_parts_add_up_with_beta():
    logits, x = torch.randn(3, 1, 28, 28), torch.rand(3, 1, 28, 28)
    mu, logvar = torch.randn(3, 2), torch.randn(3, 2)
    parts = losses.vae_loss(logits, x, mu, logvar, beta=4.0)
    assert set(parts) == {"recon", "kl", "total"}
    assert parts["total"].item() == pytest.approx(parts["recon"].item() + 4.0 * parts["kl"].item(), rel=1e-6)
    expected_recon = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / 3
    assert parts["recon"].item() == pytest.approx(expected_recon.item(), rel=1e-5)


def test_objectives_return_a_differentiable_total():
    batch = torch.rand(4, 1, 28, 28)
    for objective, model in [
        (losses.autoencoder_objective(), models.MLPAutoencoder(2)),
        (losses.denoising_objective(0.3), models.ConvAutoencoder(4)),
        (losses.vae_objective(1.0), models.ConvVAE(2)),
    ]:
        parts = objective(model, batch)
        parts["total"].backward()
        assert all(p.grad is not None for p in model.parameters())


def test_add_noise_stays_in_range():
    noisy = losses.add_noise(torch.rand(10, 1, 28, 28), 1.0)
    assert noisy.min() >= 0 and noisy.max() <= 1


def test_bad_inputs_get_clear_errors():
    x = torch.rand(2, 4)
    with pytest.raises(ValueError, match="same shape"):
        losses.reconstruction_loss(torch.rand(2, 5), x)
    with pytest.raises(ValueError, match="from_logits=True"):
        losses.reconstruction_loss(torch.randn(2, 4) * 5, x, kind="bce")
    with pytest.raises(ValueError, match="'mse' or 'bce'"):
        losses.reconstruction_loss(x, x, kind="l1")
    with pytest.raises(ValueError, match="beta"):
        losses.vae_loss(torch.rand(1, 4), torch.rand(1, 4), torch.zeros(1, 2), torch.zeros(1, 2), beta=-1)
    with pytest.raises(ValueError, match="same shape"):
        losses.kl_divergence(torch.zeros(2, 3), torch.zeros(2, 4))


def test_reconstruction_floor_is_the_pixels_binary_entropy():
    binary = (torch.rand(3, 1, 28, 28) > 0.5).float()
    assert torch.allclose(losses.reconstruction_floor(binary), torch.zeros(3))
    grey = torch.full((2, 1, 28, 28), 0.5)
    assert torch.allclose(losses.reconstruction_floor(grey), torch.full((2,), 784 * math.log(2)))
    x = torch.rand(4, 1, 28, 28)  # no reconstruction beats the floor, and x itself reaches it
    floor = losses.reconstruction_floor(x)
    other = F.binary_cross_entropy(torch.rand_like(x).clamp(0.01, 0.99), x, reduction="none").flatten(1).sum(1)
    assert (other > floor).all()
    assert torch.allclose(F.binary_cross_entropy(x, x, reduction="none").flatten(1).sum(1), floor)


def test_continuous_bernoulli_kind_is_bce_plus_the_log_normaliser():
    logits, target = torch.randn(3, 1, 28, 28), torch.rand(3, 1, 28, 28)
    got = losses.reconstruction_loss(logits, target, kind="continuous-bernoulli", reduction="image", from_logits=True)
    bce = torch.nn.functional.binary_cross_entropy_with_logits(logits, target, reduction="none")
    log_norm = torch.distributions.ContinuousBernoulli(logits=logits)._cont_bern_log_norm()
    assert torch.allclose(got, (bce - log_norm).flatten(1).sum(1).mean(), rtol=1e-5)
    probs = torch.sigmoid(logits)
    assert torch.allclose(losses.reconstruction_loss(probs, target, kind="continuous-bernoulli"),
                          losses.reconstruction_loss(logits, target, kind="continuous-bernoulli", from_logits=True),
                          rtol=1e-4)


def test_free_bits_kl_is_the_kl_above_the_floor_and_the_floor_below():
    mu, logvar = torch.zeros(4, 3), torch.zeros(4, 3)
    assert losses.free_bits_kl(mu, logvar, 0.5).item() == pytest.approx(1.5)  # every dimension pays the floor
    mu = torch.full((4, 3), 3.0)  # KL 4.5 nats per dimension, above the floor
    assert losses.free_bits_kl(mu, logvar, 0.5).item() == pytest.approx(losses.kl_divergence(mu, logvar).item())
    assert losses.free_bits_kl(mu, logvar, 0.0).item() == pytest.approx(13.5)


def test_free_bits_kl_passes_no_gradient_below_the_floor():
    mu = torch.full((4, 2), 0.1, requires_grad=True)
    losses.free_bits_kl(mu, torch.zeros(4, 2), 1.0).backward()
    assert torch.all(mu.grad == 0)


def test_free_bits_kl_rejects_a_negative_floor_and_bad_shapes():
    with pytest.raises(ValueError, match="nats_per_dim"):
        losses.free_bits_kl(torch.zeros(2, 2), torch.zeros(2, 2), -1.0)
    with pytest.raises(ValueError, match="batch, latent_dim"):
        losses.free_bits_kl(torch.zeros(2, 2), torch.zeros(2, 3), 1.0)


def test_free_bits_objective_adds_the_floored_kl_and_reports_the_true_one():
    model = models.ConvVAE(latent_dim=3)
    x = torch.rand(4, 1, 28, 28)
    torch.manual_seed(0)
    parts = losses.free_bits_objective(2.0)(model, x)
    assert parts["total"].item() >= parts["recon"].item() + 3 * 2.0 - 1e-4  # three dimensions, each pays >= 2 nats
    assert parts["kl"].item() < 2.0  # a fresh encoder sits near the prior
    torch.manual_seed(0)
    per_pixel = losses.free_bits_objective(2.0, reduction="pixel")(model, x)
    assert per_pixel["recon"].item() == pytest.approx(parts["recon"].item() / 784, rel=1e-5)
    with pytest.raises(ValueError, match="nats_per_dim"):
        losses.free_bits_objective(-0.5)
