"""Conditional generation: a VAE whose encoder and decoder both see the class (Sohn et al., 2015).

``train.fit`` slices batches from one image tensor, so the labels travel with the images: a second
channel holds each image's one-hot label in its first row (``attach_labels``), and the objective
takes them apart again (``split_labels``). Pixels stay in [0, 1], so every check of ``fit`` still applies.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from course_utils.checks import check_images, model_device, positive_int
from course_utils.losses import Objective, vae_loss
from course_utils.models import IMAGE_SHAPE, ConvVAE, _check_channels, conv_decoder, conv_encoder


def _check_labels(labels: torch.Tensor | Sequence[int], n: int, n_classes: int) -> torch.Tensor:
    """Labels as a long tensor of ``n`` class numbers in ``[0, n_classes)``, or a clear error."""
    values = torch.as_tensor(labels)
    if values.is_floating_point() or values.ndim != 1 or len(values) != n:
        raise ValueError(f"labels must be {n} whole class numbers (one per image), got shape "
                         f"{tuple(values.shape)} and dtype {values.dtype}: pass e.g. splits.train.labels.")
    if len(values) and (int(values.min()) < 0 or int(values.max()) >= n_classes):
        raise ValueError(f"labels must lie between 0 and {n_classes - 1} ({n_classes} classes), "
                         f"got values from {int(values.min())} to {int(values.max())}.")
    return values.long()


def attach_labels(images: torch.Tensor, labels: torch.Tensor | Sequence[int], n_classes: int = 10) -> torch.Tensor:
    """Images ``(N, 1, 28, 28)`` with a second channel carrying each one-hot label: ``(N, 2, 28, 28)``."""
    check_images(images, "images", shape=IMAGE_SHAPE)
    n_classes = positive_int("n_classes", n_classes, minimum=2)
    if n_classes > IMAGE_SHAPE[2]:
        raise ValueError(f"At most {IMAGE_SHAPE[2]} classes fit in the label row, got n_classes={n_classes}.")
    labels = _check_labels(labels, len(images), n_classes).to(images.device)
    extra = torch.zeros_like(images)
    extra[:, 0, 0, :n_classes] = F.one_hot(labels, n_classes).to(images.dtype)
    return torch.cat([images, extra], dim=1)


def split_labels(batch: torch.Tensor, n_classes: int = 10) -> tuple[torch.Tensor, torch.Tensor]:
    """Undo ``attach_labels``: ``(images (N, 1, 28, 28), labels (N,))``."""
    if batch.ndim != 4 or batch.shape[1] != 2:
        raise ValueError(f"Expected images with their labels attached, shape (N, 2, 28, 28), got "
                         f"{tuple(batch.shape)}: build them with conditional.attach_labels(images, labels).")
    return batch[:, :1], batch[:, 1, 0, :n_classes].argmax(dim=1)


class ConditionalVAE(nn.Module):
    """A conv VAE that is told the class: q(z | x, y) and p(x | z, y), with the prior p(z) = N(0, I).

    The one-hot class joins the image features before the code layers, and joins the code before
    the decoder, so the code is free to hold what the class does not say (the "style").
    """

    def __init__(self, latent_dim: int = 8, n_classes: int = 10, channels: Sequence[int] = (16, 32)) -> None:
        super().__init__()
        self.latent_dim = positive_int("latent_dim", latent_dim, hint="(such as 8)")
        self.n_classes = positive_int("n_classes", n_classes, minimum=2)
        last = _check_channels(channels)[-1]
        flat = last * 7 * 7
        self.encoder = nn.Sequential(conv_encoder(channels), nn.Flatten())   # 1x28x28 -> last*49
        self.to_mu = nn.Linear(flat + self.n_classes, self.latent_dim)       # features + one-hot -> mean
        self.to_logvar = nn.Linear(flat + self.n_classes, self.latent_dim)   # ... -> log sigma^2
        self.decoder = nn.Sequential(
            nn.Linear(self.latent_dim + self.n_classes, flat), nn.ReLU(),    # code + one-hot -> last*49
            nn.Unflatten(1, (last, 7, 7)),                                   # -> last x7x7
            conv_decoder(channels),                                          # -> 1x28x28 logits
        )

    def _one_hot(self, labels: torch.Tensor | Sequence[int], n: int) -> torch.Tensor:
        return F.one_hot(_check_labels(labels, n, self.n_classes), self.n_classes).float().to(model_device(self))

    def encode_distribution(self, x: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(mu, logvar)`` of q(z | x, y), each ``(N, latent_dim)``."""
        check_images(x, "x", shape=IMAGE_SHAPE)
        features = torch.cat([self.encoder(x), self._one_hot(labels, len(x))], dim=1)
        return self.to_mu(features), self.to_logvar(features)

    def decode_logits(self, z: torch.Tensor, labels: torch.Tensor | Sequence[int]) -> torch.Tensor:
        """Pixel logits ``(N, 1, 28, 28)`` for codes ``(N, latent_dim)`` and the classes asked for."""
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"This decoder expects codes of shape (N, {self.latent_dim}), got {tuple(z.shape)}.")
        return self.decoder(torch.cat([z.to(model_device(self)), self._one_hot(labels, len(z))], dim=1))

    def decode(self, z: torch.Tensor, labels: torch.Tensor | Sequence[int]) -> torch.Tensor:
        """Images in [0, 1] for codes and classes."""
        return torch.sigmoid(self.decode_logits(z, labels))

    def forward_parts(self, x: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One stochastic pass: ``(logits, mu, logvar)``, what the VAE loss needs."""
        mu, logvar = self.encode_distribution(x, labels)
        return self.decode_logits(ConvVAE.reparameterize(mu, logvar), labels), mu, logvar

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Reconstruct a batch of images of known classes (from the mean code)."""
        return self.decode(self.encode_distribution(x, labels)[0], labels)


def conditional_vae_objective(beta: float = 1.0, n_classes: int = 10) -> Objective:
    """The negative ELBO of a ConditionalVAE, for batches made by ``attach_labels``."""

    def objective(model: nn.Module, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        images, labels = split_labels(batch, n_classes)
        logits, mu, logvar = model.forward_parts(images, labels)
        return vae_loss(logits, images, mu, logvar, beta=beta)

    return objective


@torch.inference_mode()
def generate(model: ConditionalVAE, labels: torch.Tensor | Sequence[int], z: torch.Tensor | None = None,
             generator: torch.Generator | None = None) -> torch.Tensor:
    """Images of the classes in ``labels``, from codes ``z`` (drawn from N(0, I) when not given), on the CPU."""
    labels = torch.as_tensor(labels)
    if z is None:
        z = torch.randn(len(labels), model.latent_dim, generator=generator)
    model.eval()
    return model.decode(torch.as_tensor(z, dtype=torch.float32), labels).cpu()


def class_grid(model: ConditionalVAE, z: torch.Tensor, classes: Sequence[int] | None = None) -> torch.Tensor:
    """Every code of ``z`` decoded as every class: ``(len(z) * len(classes), 1, 28, 28)``, row by row.

    Row r holds code r; column c holds class ``classes[c]``. A row shows what the code keeps (style),
    a column what the class decides (content).
    """
    classes = list(range(model.n_classes)) if classes is None else list(classes)
    if z.ndim != 2 or not classes:
        raise ValueError(f"Pass codes of shape (N, {model.latent_dim}) and at least one class, got "
                         f"{tuple(z.shape)} and {classes!r}.")
    codes = z.repeat_interleave(len(classes), dim=0)
    return generate(model, torch.tensor(classes).repeat(len(z)), codes)
