"""Reconstruction and KL terms, returned as named parts, and the training objectives built on them.

Units: ``reduction="pixel"`` averages over pixels (the lessons' "MSE per pixel"), and
``reduction="image"`` sums over the 784 pixels and averages over the batch (nats per image,
the scale on which the VAE's reconstruction and KL terms are comparable).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

Kind = Literal["mse", "bce", "continuous-bernoulli"]
Reduction = Literal["pixel", "image"]
#: An objective maps (model, clean batch) to named loss parts; "total" is what is minimised.
Objective = Callable[[nn.Module, torch.Tensor], dict[str, torch.Tensor]]


def reconstruction_loss(
    prediction: torch.Tensor,
    target: torch.Tensor,
    kind: Kind = "bce",
    reduction: Reduction = "pixel",
    from_logits: bool = False,
) -> torch.Tensor:
    """MSE, BCE or the continuous Bernoulli's negative log-density between a reconstruction and its target,
    per pixel or summed per image."""
    if kind not in ("mse", "bce", "continuous-bernoulli"):
        raise ValueError(f"kind must be 'mse' or 'bce' (or 'continuous-bernoulli' for grey pixels), got {kind!r}.")
    if reduction not in ("pixel", "image"):
        raise ValueError(f"reduction must be 'pixel' or 'image', got {reduction!r}.")
    if prediction.shape != target.shape:
        raise ValueError(
            f"prediction {tuple(prediction.shape)} and target {tuple(target.shape)} must have "
            "the same shape: compare each image with its own reconstruction."
        )
    if kind == "continuous-bernoulli":  # BCE plus the log-normaliser that makes it a density on [0, 1] (grey pixels)
        per_pixel = -continuous_bernoulli(prediction, from_logits).log_prob(target)
    elif kind == "bce":
        if from_logits:  # fused sigmoid + BCE: stable and one kernel fewer
            per_pixel = F.binary_cross_entropy_with_logits(prediction, target, reduction="none")
        else:
            if prediction.min() < 0 or prediction.max() > 1:
                raise ValueError(
                    "BCE needs predictions in [0, 1]; pass from_logits=True for raw decoder outputs."
                )
            per_pixel = F.binary_cross_entropy(prediction, target, reduction="none")
    else:
        output = torch.sigmoid(prediction) if from_logits else prediction
        per_pixel = (output - target) ** 2
    if reduction == "pixel":
        return per_pixel.mean()
    return per_pixel.flatten(1).sum(dim=1).mean()


def continuous_bernoulli(
    prediction: torch.Tensor, from_logits: bool = True
) -> torch.distributions.ContinuousBernoulli:
    """The continuous Bernoulli of each pixel (Loaiza-Ganem & Cunningham, 2019): a proper density for grey pixels."""
    if from_logits:
        return torch.distributions.ContinuousBernoulli(logits=prediction)
    if prediction.min() < 0 or prediction.max() > 1:
        raise ValueError("A continuous Bernoulli needs probabilities in [0, 1]; pass from_logits=True for logits.")
    return torch.distributions.ContinuousBernoulli(probs=prediction.clamp(1e-6, 1 - 1e-6))


def kl_per_dimension(
    mu: torch.Tensor,
    logvar: torch.Tensor,
    prior_mu: torch.Tensor | None = None,
    prior_logvar: torch.Tensor | None = None,
) -> torch.Tensor:
    """KL(N(mu, sigma^2) || N(prior_mu, prior_sigma^2)) per dimension, shaped like ``mu``: the one KL formula.

    Without a prior it is the KL to N(0, I). A prior (a learned or conditional one, or a diffusion step's
    Gaussian) may be any shape that broadcasts against ``mu``, e.g. one (d,) prior for the whole batch.
    """
    if mu.shape != logvar.shape:
        raise ValueError(f"mu {tuple(mu.shape)} and logvar {tuple(logvar.shape)} must have the same shape.")
    # N(0, I) is the special case prior_mu = 0, prior_logvar = 0 (0-d zeros broadcast without copying)
    prior_mu = mu.new_zeros(()) if prior_mu is None else prior_mu
    prior_logvar = logvar.new_zeros(()) if prior_logvar is None else prior_logvar
    try:
        shape = torch.broadcast_shapes(mu.shape, prior_mu.shape, prior_logvar.shape)
    except RuntimeError as error:
        raise ValueError(
            f"prior_mu {tuple(prior_mu.shape)} and prior_logvar {tuple(prior_logvar.shape)} must broadcast against "
            f"mu {tuple(mu.shape)}: give one prior per image, or one (d,) prior for the whole batch."
        ) from error
    if shape != mu.shape:
        raise ValueError(
            f"the prior would broadcast mu {tuple(mu.shape)} to {shape}: "
            "give a prior no larger than mu (one KL per image)."
        )
    # log(s2/s1) + (s1^2 + (mu1 - mu2)^2) / (2 s2^2) - 1/2, written with log-variances
    return 0.5 * (prior_logvar - logvar + (logvar.exp() + (mu - prior_mu).pow(2)) / prior_logvar.exp() - 1.0)


def kl_divergence(
    mu: torch.Tensor,
    logvar: torch.Tensor,
    prior_mu: torch.Tensor | None = None,
    prior_logvar: torch.Tensor | None = None,
) -> torch.Tensor:
    """KL(N(mu, sigma^2) || N(prior_mu, prior_sigma^2)) of diagonal Gaussians, summed over dimensions, batch-averaged.

    Without a prior it is the VAE's KL to N(0, I); see ``kl_per_dimension`` for the prior's shapes.
    """
    return kl_per_dimension(mu, logvar, prior_mu, prior_logvar).flatten(1).sum(dim=1).mean()


def free_bits_kl(mu: torch.Tensor, logvar: torch.Tensor, nats_per_dim: float) -> torch.Tensor:
    """The KL to N(0, I) with "free bits" (Kingma et al., 2016): each code dimension pays at least ``nats_per_dim``.

    The batch-averaged KL of each dimension is clamped from below, so below the floor it exerts no pull
    toward the prior: a dimension may carry up to ``nats_per_dim`` nats of information for free.
    """
    if not nats_per_dim >= 0:
        raise ValueError(f"nats_per_dim must be >= 0 (0 is the plain KL), got {nats_per_dim!r}.")
    if mu.shape != logvar.shape or mu.ndim != 2:
        raise ValueError(f"mu {tuple(mu.shape)} and logvar {tuple(logvar.shape)} must both be (batch, latent_dim).")
    per_dim = kl_per_dimension(mu, logvar).mean(dim=0)  # batch-averaged, one per dimension
    return per_dim.clamp(min=nats_per_dim).sum()


def free_bits_objective(nats_per_dim: float, reduction: Reduction = "image") -> Objective:
    """Objective of a VAE trained with free bits: the reconstruction plus ``free_bits_kl``; ``kl`` reports the true KL.

    ``reduction="pixel"`` reproduces lesson 4's units bug (reconstruction averaged over pixels) with free bits.
    """
    if not nats_per_dim >= 0:
        raise ValueError(f"nats_per_dim must be >= 0 (0 is the plain KL), got {nats_per_dim!r}.")

    def objective(model: nn.Module, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        logits, mu, logvar = model.forward_parts(batch)
        recon = reconstruction_loss(logits, batch, reduction=reduction, from_logits=True)
        total = recon + free_bits_kl(mu, logvar, nats_per_dim)
        return {"recon": recon, "kl": kl_divergence(mu, logvar), "total": total}

    return objective


def reconstruction_floor(images: torch.Tensor) -> torch.Tensor:
    """The lowest BCE, summed over pixels, that any reconstruction of each image can reach: shape (N,), in nats.

    BCE(p, x) is smallest at p = x, where it equals the pixel's binary entropy
    -x log x - (1 - x) log(1 - x): zero only for pure black or white pixels, log 2 for a 50% grey one.
    """
    if images.ndim < 2 or len(images) == 0:
        raise ValueError(f"Expected a batch of images (N, 1, 28, 28), got shape {tuple(images.shape)}.")
    if images.min() < 0 or images.max() > 1:
        raise ValueError("Pixels must lie in [0, 1] for a BCE floor: scale the images first (x / 255).")
    x = images.float()
    return F.binary_cross_entropy(x, x, reduction="none").flatten(1).sum(dim=1)


def vae_loss(
    logits: torch.Tensor,
    target: torch.Tensor,
    mu: torch.Tensor,
    logvar: torch.Tensor,
    beta: float = 1.0,
    kind: Kind = "bce",
) -> dict[str, torch.Tensor]:
    """The negative ELBO in parts: ``recon`` + ``beta * kl`` = ``total``, in nats per image."""
    if beta < 0:
        raise ValueError(f"beta must be >= 0 (0 switches the KL term off), got {beta!r}.")
    recon = reconstruction_loss(logits, target, kind=kind, reduction="image", from_logits=True)
    kl = kl_divergence(mu, logvar)
    return {"recon": recon, "kl": kl, "total": recon + beta * kl}


def autoencoder_objective(kind: Kind = "bce", reduction: Reduction = "pixel") -> Objective:
    """Objective of a plain autoencoder: reconstruct the batch."""

    def objective(model: nn.Module, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        logits = model.decode_logits(model.encode(batch))
        loss = reconstruction_loss(logits, batch, kind=kind, reduction=reduction, from_logits=True)
        return {"total": loss}

    return objective


def denoising_objective(noise_std: float = 0.5, kind: Kind = "bce") -> Objective:
    """Objective of a denoising autoencoder: reconstruct the clean batch from a noisy copy."""
    if noise_std <= 0:
        raise ValueError(f"noise_std must be positive, got {noise_std!r}.")

    def objective(model: nn.Module, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        noisy = add_noise(batch, noise_std)
        logits = model.decode_logits(model.encode(noisy))
        return {"total": reconstruction_loss(logits, batch, kind=kind, from_logits=True)}

    return objective


def add_noise(images: torch.Tensor, noise_std: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Gaussian pixel noise, clipped back to [0, 1] so the result is still an image.

    With a (CPU) ``generator`` the noise is drawn on the CPU, so a seed gives the same images on
    any device; without one it is drawn where the images live (inside a CUDA graph, too).
    """
    if generator is None:
        noise = torch.randn_like(images)
    else:
        noise = torch.randn(images.shape, generator=generator, device="cpu").to(images.device)
    return (images + noise_std * noise).clamp_(0.0, 1.0)


def vae_objective(beta: float = 1.0, kind: Kind = "bce") -> Objective:
    """Objective of a VAE: the negative ELBO with a ``beta`` weight on the KL term."""
    if not beta >= 0:
        raise ValueError(f"beta must be >= 0 (0 switches the KL term off), got {beta!r}.")

    def objective(model: nn.Module, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        if not hasattr(model, "forward_parts"):
            raise TypeError(
                f"vae_objective trains a VAE (such as models.ConvVAE), but this model is a {type(model).__name__}, "
                "which has no mean and variance to score: use losses.autoencoder_objective() for it."
            )
        logits, mu, logvar = model.forward_parts(batch)
        return vae_loss(logits, batch, mu, logvar, beta=beta, kind=kind)

    return objective
