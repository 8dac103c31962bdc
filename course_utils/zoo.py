"""The trained models that more than one lesson uses: built, trained and cached in one place.

Lesson 2 trains its MLP autoencoder here, lesson 3 trains one with a 16-D code to race its conv
autoencoder, and lesson 4 reuses lesson 2's. Calling the same function with the same settings finds
the same checkpoint, so a later lesson never retypes an earlier lesson's name and settings.
"""

from __future__ import annotations

import torch
from torch import nn

from course_utils import checkpoints, models
from course_utils.data import Splits
from course_utils.train import History, fit


def mlp_autoencoder(
    splits: Splits, latent_dim: int, *, epochs: int, seed: int, device: torch.device | str | None = None
) -> tuple[nn.Module, History]:
    """Lesson 2's MLP autoencoder on ``splits``: trained with ``fit`` the first time, loaded afterwards."""
    settings = {"dataset": splits.name, "latent_dim": latent_dim, "epochs": epochs,
                "train_size": len(splits.train), "seed": seed}
    return checkpoints.load_or_train(
        f"mlp_ae_{splits.name}_z{latent_dim}",
        build=lambda: models.MLPAutoencoder(latent_dim=latent_dim),
        train=lambda model: fit(model, splits.train.images, splits.val.images, epochs=epochs, seed=seed),
        settings=settings, device=device,
    )
