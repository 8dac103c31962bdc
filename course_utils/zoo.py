"""The lessons' trained models: built, trained and cached in one place, keyed by their settings.

Lesson 2 trains its MLP autoencoder here, lesson 3 trains one with a 16-D code to race its conv
autoencoder, and lesson 4 reuses lesson 2's. Lessons 3 and 4 train their convolutional
autoencoders and VAEs with ``conv_model``. Calling the same function with the same settings finds
the same checkpoint, so a later lesson never retypes an earlier lesson's name and settings, and two
lessons with different settings never overwrite each other's file.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
from torch import nn

from course_utils import checkpoints, models
from course_utils.data import ImageSet, Splits
from course_utils.losses import Objective
from course_utils.train import History, Schedule, fit

#: The course's default: a one-cycle schedule peaking at this learning rate (``course_tools.bench`` measured it).
ONE_CYCLE_LR = 1e-2


def mlp_autoencoder(
    splits: Splits,
    latent_dim: int,
    *,
    epochs: int,
    seed: int,
    lr: float = 1e-3,
    schedule: Schedule = "constant",
    device: torch.device | str | None = None,
) -> tuple[nn.Module, History]:
    """Lesson 2's MLP autoencoder on ``splits``: trained with ``fit`` the first time, loaded afterwards.

    It keeps Adam's constant rate by default: a one-cycle rate reaches its loss in fewer epochs but pulls
    a 2-D code in towards N(0, I) (58% of codes inside the prior's 95% circle against 26%), which
    would blur lesson 2's point about scale. Lesson 3 passes the one-cycle schedule for its 16-D MLP.
    """
    settings = {"dataset": splits.name, "latent_dim": latent_dim, "epochs": epochs,
                "train_size": len(splits.train), "seed": seed, "lr": lr, "schedule": schedule}
    return checkpoints.load_or_train(
        f"mlp_ae_{splits.name}_z{latent_dim}",
        build=lambda: models.MLPAutoencoder(latent_dim=latent_dim),
        train=lambda model: fit(model, splits.train.images, splits.val.images, epochs=epochs, seed=seed, lr=lr,
                                schedule=schedule),
        settings=settings, device=device,
    )


def conv_model(
    kind: Literal["ae", "vae"],
    train_set: ImageSet,
    val_images: torch.Tensor,
    *,
    dataset: str,
    latent_dim: int,
    epochs: int,
    seed: int,
    objective: Objective | None = None,
    objective_name: str = "bce per pixel",
    channels: Sequence[int] = (16, 32),
    lr: float = ONE_CYCLE_LR,
    schedule: Schedule = "one-cycle",
    batch_size: int = 128,
    training_set: str | None = None,
    device: torch.device | str | None = None,
) -> tuple[nn.Module, History]:
    """A ``models.ConvAutoencoder`` (``kind="ae"``) or ``models.ConvVAE`` trained on ``train_set``, or loaded.

    ``objective_name`` tells objectives apart in the cache (``"vae beta=1"``, ``"denoising std=0.5"``):
    a function cannot be stored, so the name stands for it. ``training_set`` names a training set that is
    not simply a subset of ``dataset`` (lesson 5: ``"without class 8"``), so that it gets a cache entry of its own.
    """
    if kind not in ("ae", "vae"):
        raise ValueError(f"kind must be 'ae' (a plain autoencoder) or 'vae', got {kind!r}.")
    build = models.ConvAutoencoder if kind == "ae" else models.ConvVAE
    settings = {"dataset": dataset, "latent_dim": latent_dim, "channels": list(channels), "epochs": epochs,
                "train_size": len(train_set), "batch_size": batch_size, "lr": lr, "schedule": schedule,
                "seed": seed, "objective": objective_name}
    if training_set is not None:  # only when given, so the other lessons' checkpoints keep their names
        settings["training_set"] = str(training_set)
    return checkpoints.load_or_train(
        f"conv_{kind}_{dataset}_z{latent_dim}",
        build=lambda: build(latent_dim, channels=tuple(channels)),
        train=lambda model: fit(model, train_set.images, val_images, epochs=epochs, objective=objective,
                                lr=lr, schedule=schedule, batch_size=batch_size, seed=seed),
        settings=settings, device=device,
    )
