"""The lessons' trained models: built, trained and cached in one place, keyed by their settings.

Lesson 1 trains its 2-D wardrobe here, lesson 2 its MLP autoencoder, lesson 3 one with a 16-D code to
race its conv autoencoder, and lesson 4 reuses lesson 2's. Lessons 3 and 4 train their convolutional
autoencoders and VAEs with ``conv_model``; lesson 6 its conditional VAE, VQ-VAE, code prior and
grid VAE with the functions at the end. Calling the same function with the same settings finds
the same checkpoint, so a later lesson never retypes an earlier lesson's name and settings, and two
lessons with different settings never overwrite each other's file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Literal

import torch
from torch import nn

from course_utils import checkpoints, conditional, discrete, models, twostage
from course_utils.data import ImageSet, Splits
from course_utils.losses import Objective, vae_objective
from course_utils.train import ADAM_BETAS, DEFAULT_BATCH_SIZE, History, Schedule, fit, start_at_mean_pixel

#: The course's default: a one-cycle schedule peaking at this learning rate (``course_tools.bench`` measured it).
ONE_CYCLE_LR = 1e-2
#: The conv models (lesson 3's conv AE and denoising AE, lesson 4's conv AE and VAE) train faster with a higher
#: peak, Adam's second beta at 0.99 (fastai's default) and their output starting at the mean pixel: in 2 epochs
#: the VAE reaches the usual loop's 5-epoch ELBO and the conv AE its 5-epoch loss (see the README).
CONV_RECIPE = {"lr": 2e-2, "betas": (0.9, 0.99), "start_at_mean": True}
#: Lesson 1's 2-D wardrobe and lesson 3's 16-D MLP: the same betas and start, but the higher peak made the 16-D MLP
#: worse (measured: see the README).
MLP_RECIPE = {"lr": 1e-2, "betas": (0.9, 0.99), "start_at_mean": True}


def mlp_autoencoder(
    splits: Splits,
    latent_dim: int,
    *,
    epochs: int,
    seed: int,
    lr: float = 1e-3,
    schedule: Schedule = "constant",
    betas: tuple[float, float] = ADAM_BETAS,
    start_at_mean: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    device: torch.device | str | None = None,
) -> tuple[nn.Module, History]:
    """Lesson 2's MLP autoencoder on ``splits``: trained with ``fit`` the first time, loaded afterwards.

    It keeps Adam's constant rate by default: a one-cycle rate reaches its loss in fewer epochs but pulls
    a 2-D code in towards N(0, I) (58% of codes inside the prior's 95% circle against 26%), which
    would blur lesson 2's point about scale. Lessons 1 and 3 train theirs with one-cycle and ``MLP_RECIPE``.
    """
    settings = {"dataset": splits.name, "latent_dim": latent_dim, "epochs": epochs,
                "train_size": len(splits.train), "seed": seed, "lr": lr, "schedule": schedule}
    if batch_size != DEFAULT_BATCH_SIZE:  # only then, so that the checkpoints of lessons 2-4 keep their names
        settings["batch_size"] = batch_size
    settings |= _recipe_settings(betas, start_at_mean)

    def train(model: nn.Module) -> History:
        if start_at_mean:
            start_at_mean_pixel(model, splits.train.images)
        return fit(model, splits.train.images, splits.val.images, epochs=epochs, seed=seed, lr=lr,
                   schedule=schedule, betas=betas, batch_size=batch_size)

    return checkpoints.load_or_train(f"mlp_ae_{splits.name}_z{latent_dim}",
                                     build=lambda: models.MLPAutoencoder(latent_dim=latent_dim),
                                     train=train, settings=settings, device=device)


def _recipe_settings(betas: Sequence[float], start_at_mean: bool) -> dict:
    """Cache settings for Adam's betas and the mean-pixel start: empty for plain training, so older names stay."""
    if tuple(betas) == ADAM_BETAS and not start_at_mean:
        return {}
    return {"betas": [float(b) for b in betas], "start_at_mean": bool(start_at_mean)}


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
    batch_size: int = DEFAULT_BATCH_SIZE,
    betas: tuple[float, float] = ADAM_BETAS,
    start_at_mean: bool = False,
    training_set: str | None = None,
    device: torch.device | str | None = None,
) -> tuple[nn.Module, History]:
    """A ``models.ConvAutoencoder`` (``kind="ae"``) or ``models.ConvVAE`` trained on ``train_set``, or loaded.

    ``betas`` are Adam's; ``start_at_mean`` starts the decoder's output at the mean pixel before training
    (``train.start_at_mean_pixel``). Lessons 3 and 4 use both: see ``CONV_RECIPE``.

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
    settings |= _recipe_settings(betas, start_at_mean)

    def train(model: nn.Module) -> History:
        if start_at_mean:
            start_at_mean_pixel(model, train_set.images)
        return fit(model, train_set.images, val_images, epochs=epochs, objective=objective, lr=lr,
                   schedule=schedule, batch_size=batch_size, betas=betas, seed=seed)

    return checkpoints.load_or_train(f"conv_{kind}_{dataset}_z{latent_dim}",
                                     build=lambda: build(latent_dim, channels=tuple(channels)),
                                     train=train, settings=settings, device=device)


# --- lesson 6: beyond the VAE ---------------------------------------------------------------


def conditional_vae(
    train_set: ImageSet,
    val_set: ImageSet,
    *,
    dataset: str,
    latent_dim: int,
    epochs: int,
    seed: int,
    beta: float = 1.0,
    channels: Sequence[int] = (16, 32),
    lr: float = ONE_CYCLE_LR,
    batch_size: int = DEFAULT_BATCH_SIZE,
    device: torch.device | str | None = None,
) -> tuple[nn.Module, History]:
    """A ``conditional.ConditionalVAE`` trained on ``train_set`` with its labels, or loaded."""
    n_classes = len(train_set.class_names)
    settings = {"dataset": dataset, "latent_dim": latent_dim, "channels": list(channels), "epochs": epochs,
                "train_size": len(train_set), "batch_size": batch_size, "lr": lr, "seed": seed, "beta": beta}
    return checkpoints.load_or_train(
        f"cvae_{dataset}_z{latent_dim}",
        build=lambda: conditional.ConditionalVAE(latent_dim, n_classes, channels=tuple(channels)),
        train=lambda model: fit(model, conditional.attach_labels(train_set.images, train_set.labels, n_classes),
                                conditional.attach_labels(val_set.images, val_set.labels, n_classes),
                                epochs=epochs, objective=conditional.conditional_vae_objective(beta, n_classes),
                                lr=lr, schedule="one-cycle", batch_size=batch_size, seed=seed),
        settings=settings, device=device,
    )


def vq_vae(
    train_images: torch.Tensor,
    val_images: torch.Tensor,
    *,
    dataset: str,
    num_codes: int,
    epochs: int,
    seed: int,
    code_dim: int = 8,
    restart_every: int = 0,
    commitment: float = 0.25,
    lr: float = 3e-3,
    batch_size: int = DEFAULT_BATCH_SIZE,
    device: torch.device | str | None = None,
) -> tuple[nn.Module, History]:
    """A ``discrete.VQVAE`` (dead codes restarted every ``restart_every`` batches if > 0), trained or loaded.

    No CUDA graph: a restart changes the codebook outside the recorded step.
    """
    settings = {"dataset": dataset, "num_codes": num_codes, "code_dim": code_dim, "epochs": epochs,
                "restart_every": restart_every, "commitment": commitment, "train_size": len(train_images),
                "batch_size": batch_size, "lr": lr, "seed": seed}

    def train(model: nn.Module) -> History:
        torch.manual_seed(seed)  # restarts draw encoder outputs at random
        return fit(model, train_images, val_images, epochs=epochs, objective=discrete.vq_objective(commitment),
                   lr=lr, schedule="one-cycle", batch_size=batch_size, seed=seed, cuda_graph=False)

    return checkpoints.load_or_train(
        f"vqvae_{dataset}_k{num_codes}",
        build=lambda: discrete.VQVAE(num_codes, code_dim, restart_every=restart_every),
        train=train, settings=settings, device=device,
    )


def grid_prior(
    train_grids: torch.Tensor,
    val_grids: torch.Tensor,
    *,
    num_codes: int,
    epochs: int,
    seed: int,
    hidden: int = 32,
    layers: int = 3,
    lr: float = 1e-2,
    batch_size: int = 64,
) -> tuple[nn.Module, History]:
    """A ``discrete.GridPrior`` fitted to these code grids (a digest of them names the file), or loaded."""
    digest = hashlib.sha256(torch.as_tensor(train_grids).long().numpy().tobytes()).hexdigest()[:12]
    settings = {"grids": digest, "n_grids": len(train_grids), "num_codes": num_codes, "epochs": epochs,
                "hidden": hidden, "layers": layers, "lr": lr, "batch_size": batch_size, "seed": seed}

    def train(model: nn.Module) -> History:
        torch.manual_seed(seed)
        return discrete.fit_prior(model, train_grids, val_grids, epochs=epochs, batch_size=batch_size, lr=lr,
                                  seed=seed)

    return checkpoints.load_or_train(
        f"grid_prior_k{num_codes}",
        build=lambda: discrete.GridPrior(num_codes, hidden=hidden, layers=layers),
        train=train, settings=settings, device="cpu",  # 7x7 grids: too small to gain from a GPU
    )


def grid_vae(
    train_images: torch.Tensor,
    val_images: torch.Tensor,
    *,
    dataset: str,
    latent_channels: int,
    beta: float,
    epochs: int,
    seed: int,
    lr: float = ONE_CYCLE_LR,
    batch_size: int = DEFAULT_BATCH_SIZE,
    device: torch.device | str | None = None,
) -> tuple[nn.Module, History]:
    """A ``twostage.GridVAE`` (a 7 x 7 x ``latent_channels`` code, KL weight ``beta``), trained or loaded."""
    settings = {"dataset": dataset, "latent_channels": latent_channels, "beta": beta, "epochs": epochs,
                "train_size": len(train_images), "batch_size": batch_size, "lr": lr, "seed": seed}
    return checkpoints.load_or_train(
        f"grid_vae_{dataset}_c{latent_channels}",
        build=lambda: twostage.GridVAE(latent_channels),
        train=lambda model: fit(model, train_images, val_images, epochs=epochs, objective=vae_objective(beta),
                                lr=lr, schedule="one-cycle", batch_size=batch_size, seed=seed),
        settings=settings, device=device,
    )
