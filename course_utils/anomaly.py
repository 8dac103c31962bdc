"""Anomaly and out-of-distribution scores: one number per image (higher = odder), thresholds, and how they do.

Scores come from a trained model (reconstruction error, negative ELBO) or from the image alone
(brightness); ``complexity_corrected`` (Serrà et al., 2020) and ``entropy_corrected`` (a deviance) take an
image's own simplicity out of a likelihood-style score, and ``likelihood_ratio`` compares a model with a
background model (Ren et al., 2019). Detection quality is scikit-learn's: ROC AUC, precision and recall.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch

from course_utils.checks import check_images, check_pixels, model_device, positive_int, to_numpy
from course_utils.losses import continuous_bernoulli, reconstruction_floor
from course_utils.metrics import per_image_mse
from course_utils.train import EVAL_BATCH_SIZE, reconstruct_all

#: The pixel likelihoods a score can use: Bernoulli (BCE, lesson 4's) or the continuous Bernoulli.
Likelihood = Literal["bernoulli", "continuous-bernoulli"]


def _check_likelihood(likelihood: str) -> None:
    if likelihood not in ("bernoulli", "continuous-bernoulli"):
        raise ValueError(f"likelihood must be 'bernoulli' or 'continuous-bernoulli', got {likelihood!r}.")


def _scores(values: torch.Tensor | np.ndarray, what: str) -> np.ndarray:
    """Scores as a 1-D float array with at least one finite value each, or a clear error."""
    array = np.ravel(to_numpy(values)).astype(np.float64)
    if array.size == 0:
        raise ValueError(f"{what} is empty: pass one score per image.")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{what} holds NaN or infinite scores: compute them from finite images and a trained model.")
    return array


def reconstruction_errors(model: torch.nn.Module, images: torch.Tensor) -> np.ndarray:
    """Each image's mean squared error against its reconstruction, shape (N,): the autoencoder's score."""
    check_images(images, "images")
    check_pixels(images, "images")  # 0..255 images would score in the thousands, not near 0.02
    return per_image_mse(reconstruct_all(model, images), images.float().cpu()).numpy()


@torch.inference_mode()
def negative_elbo(vae: torch.nn.Module, images: torch.Tensor, samples: int = 8, seed: int = 0,
                  likelihood: Likelihood = "bernoulli") -> np.ndarray:
    """Each image's negative ELBO in nats, shape (N,): BCE summed over pixels (averaged over ``samples`` codes
    drawn from q(z|x)) plus the exact KL. Lesson 4's loss, one number per image instead of a batch mean.

    ``likelihood="continuous-bernoulli"`` scores pixels with the continuous Bernoulli instead (for a VAE
    trained with ``losses.vae_objective(kind="continuous-bernoulli")``)."""
    _check_likelihood(likelihood)
    if not hasattr(vae, "encode_distribution"):
        raise TypeError(f"negative_elbo needs a VAE (such as models.ConvVAE), got a {type(vae).__name__}: "
                        "for a plain autoencoder use reconstruction_errors.")
    check_images(images, "images")
    check_pixels(images, "images")
    samples = positive_int("samples", samples, hint="(codes drawn per image, such as 8)")
    generator = torch.Generator().manual_seed(positive_int("seed", seed, minimum=0))
    was_training = vae.training
    vae.eval()
    device, scores = model_device(vae), []
    for batch in images.split(EVAL_BATCH_SIZE):
        x = batch.to(device=device, dtype=torch.float32)
        mu, logvar = vae.encode_distribution(x)
        kl = 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=1)
        recon = torch.zeros(len(x), device=device)
        for _ in range(samples):  # noise drawn on the CPU, so a seed gives the same scores on any device
            z = mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape, generator=generator).to(device)
            logits = vae.decode_logits(z)
            if likelihood == "bernoulli":
                per_pixel = torch.nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="none")
            else:
                per_pixel = -continuous_bernoulli(logits).log_prob(x)
            recon += per_pixel.flatten(1).sum(1)
        scores.append((recon / samples + kl).cpu())
    vae.train(was_training)
    return torch.cat(scores).numpy()


def brightness(images: torch.Tensor) -> np.ndarray:
    """Each image's mean pixel value, shape (N,): a naive score that needs no model at all."""
    check_images(images, "images")
    return images.float().mean(dim=(1, 2, 3)).cpu().numpy()


def complexity_corrected(
    nll_nats: torch.Tensor | np.ndarray, compressed_bytes: torch.Tensor | np.ndarray
) -> np.ndarray:
    """Serrà et al. (2020): the model's code length minus a lossless compressor's, both in bits, per image.

    ``nll_nats`` is a negative log-likelihood (or negative ELBO) in nats per image; ``compressed_bytes`` the
    size of each image after a general-purpose compressor such as PNG. Simple images are cheap for both, so
    the difference keeps what is odd *for this model* and drops what is merely simple.
    """
    nll, size = _scores(nll_nats, "nll_nats"), _scores(compressed_bytes, "compressed_bytes")
    if nll.shape != size.shape:
        raise ValueError(f"{nll.size} scores but {size.size} compressed sizes: pass one of each per image.")
    return nll / np.log(2.0) - 8.0 * size


def entropy_corrected(nll_nats: torch.Tensor | np.ndarray, images: torch.Tensor) -> np.ndarray:
    """A deviance: each image's negative ELBO minus the lowest BCE any model could reach on it (in nats).

    That floor (``losses.reconstruction_floor``) is the BCE of a "saturated" model that predicts each pixel
    of *this* image exactly, so the difference is a reconstruction-type score (how far the model is from
    rebuilding this image), not a ratio against a background model of other images.
    """
    nll = _scores(nll_nats, "nll_nats")
    floor = reconstruction_floor(images).cpu().numpy()
    if nll.shape != floor.shape:
        raise ValueError(f"{nll.size} scores but {floor.size} images: pass the images the scores belong to.")
    return nll - floor


def pixel_background(images: torch.Tensor, likelihood: Likelihood = "bernoulli") -> torch.distributions.Distribution:
    """A background model: every pixel independent, fitted by maximum likelihood to ``images`` (no training loop).

    For both likelihoods (exponential families in the pixel value) the fit matches each pixel's mean: the
    Bernoulli's probability is the mean itself; the continuous Bernoulli's is found by bisection on its logit.
    """
    _check_likelihood(likelihood)
    check_images(images, "images")
    check_pixels(images, "images")
    mean = images.float().cpu().mean(dim=0).clamp(1e-3, 1 - 1e-3)  # a pixel never lit in training: not -inf
    if likelihood == "bernoulli":  # validate_args off: grey targets score as BCE, as in the VAE
        pixels = torch.distributions.Bernoulli(probs=mean, validate_args=False)
    else:
        low, high = torch.full_like(mean, -30.0), torch.full_like(mean, 30.0)
        for _ in range(60):  # the continuous Bernoulli's mean rises with its logit: halve the bracket
            middle = (low + high) / 2
            above = continuous_bernoulli(middle).mean > mean
            high, low = torch.where(above, middle, high), torch.where(above, low, middle)
        pixels = continuous_bernoulli((low + high) / 2)
    return torch.distributions.Independent(pixels, 3)


def likelihood_ratio(
    nll_nats: torch.Tensor | np.ndarray, background: torch.distributions.Distribution, images: torch.Tensor
) -> np.ndarray:
    """Ren et al. (2019)'s likelihood ratio as an anomaly score: the model's NLL minus a background model's.

    ``nll_nats`` is each image's negative log-likelihood (or negative ELBO) under the model; ``background``
    a model of the same pixels with the same likelihood (such as ``pixel_background``). What both models
    find cheap (a black background) cancels; a high score means the model finds the image *less* likely,
    relative to the background, than it finds its own kind of images.
    """
    nll = _scores(nll_nats, "nll_nats")
    check_images(images, "images")
    background_nll = -background.log_prob(images.float().cpu()).double().numpy()
    if nll.shape != background_nll.shape:
        raise ValueError(f"{nll.size} scores but {background_nll.size} images: pass the images the scores belong to.")
    return nll - background_nll


def threshold_at(normal_scores: torch.Tensor | np.ndarray, quantile: float = 0.95) -> float:
    """The score that ``quantile`` of normal (validation) images stay below: flag anything above it."""
    if not 0.0 < quantile < 1.0:
        raise ValueError(f"quantile must be between 0 and 1 (such as 0.95: 5% false alarms), got {quantile!r}.")
    return float(np.quantile(_scores(normal_scores, "normal_scores"), quantile))


def detection_report(
    normal_scores: torch.Tensor | np.ndarray, odd_scores: torch.Tensor | np.ndarray, threshold: float
) -> dict[str, float]:
    """Flag every score above ``threshold``: precision, recall, false alarm rate, and the ROC AUC (no threshold).

    precision: the share of flagged images that are odd; recall: the share of odd images flagged;
    false alarms: the share of normal images flagged. All from scikit-learn, on these two groups as mixed.
    """
    from sklearn.metrics import precision_score, recall_score, roc_auc_score

    normal, odd = _scores(normal_scores, "normal_scores"), _scores(odd_scores, "odd_scores")
    truth = np.r_[np.zeros(len(normal), dtype=int), np.ones(len(odd), dtype=int)]
    scores = np.r_[normal, odd]
    flagged = (scores > float(threshold)).astype(int)
    return {
        "precision": float(precision_score(truth, flagged, zero_division=0.0)),
        "recall": float(recall_score(truth, flagged)),
        "false_alarms": float(np.mean(normal > float(threshold))),
        "auc": float(roc_auc_score(truth, scores)),
    }


def extremes(scores: torch.Tensor | np.ndarray, n: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the ``n`` highest scores (most anomalous first) and the ``n`` lowest (most normal first)."""
    values = _scores(scores, "scores")
    n = positive_int("n", n, hint="(images per end)")
    if n > len(values):
        raise ValueError(f"n = {n} but there are only {len(values)} scores: ask for at most {len(values)}.")
    order = np.argsort(values, kind="stable")
    return order[::-1][:n].copy(), order[:n].copy()
