"""One training loop for every model, with a progress bar and a per-epoch history."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import torch
from torch import nn
from tqdm.auto import tqdm

from course_utils.checks import check_images, check_pixels, model_device, positive_int, positive_number
from course_utils.cuda_graph import GraphedStep
from course_utils.data import iterate_batches
from course_utils.losses import Objective, autoencoder_objective

#: Evaluation needs no gradients, so it can take far bigger batches than training.
EVAL_BATCH_SIZE = 1024
#: Images per training step unless a lesson says otherwise.
DEFAULT_BATCH_SIZE = 128
#: How the learning rate moves during training (see ``learning_rate_schedule``).
Schedule = Literal["constant", "one-cycle"]


@dataclass
class History:
    """Per-epoch mean of every loss part, for training and validation, and epoch times."""

    train: dict[str, list[float]] = field(default_factory=dict)
    val: dict[str, list[float]] = field(default_factory=dict)
    seconds: list[float] = field(default_factory=list)
    #: True when training was stopped (Ctrl+C, or the stop button) before its last epoch: never cached.
    interrupted: bool = False

    @property
    def epochs(self) -> int:
        """How many epochs were recorded."""
        return len(self.seconds)

    def last(self, part: str = "total", split: str = "val") -> float:
        """The final epoch's value of one loss part (``split`` is 'train' or 'val')."""
        record = getattr(self, split)
        if part not in record or not record[part]:
            raise KeyError(f"No {split} values for {part!r}; recorded parts: {sorted(record)}.")
        return record[part][-1]

    def to_dict(self) -> dict:
        """A plain dict, safe for ``torch.save(..., weights_only)`` round trips."""
        return {"train": self.train, "val": self.val, "seconds": self.seconds}

    @classmethod
    def from_dict(cls, state: dict) -> History:
        """Rebuild a History saved with ``to_dict``."""
        return cls(dict(state["train"]), dict(state["val"]), list(state["seconds"]))


def preferred_memory_format(model: nn.Module) -> torch.memory_format:
    """channels_last for models with convolutions, else the default layout.

    oneDNN's CPU convolution kernels are built for channels-last data: on 2 cores each conv
    layer of the lessons' models ran its forward and backward pass 1.3-2x faster in that layout
    (the transposed convolutions gained most; see ``python -m course_tools.bench``).
    """
    has_conv = any(isinstance(m, nn.modules.conv._ConvNd) for m in model.modules())
    return torch.channels_last if has_conv else torch.contiguous_format


#: PyTorch's default Adam betas: the decay rates of the gradient's running mean and of its square.
ADAM_BETAS = (0.9, 0.999)


def make_adam(
    model: nn.Module, lr: float, capturable: bool = False, betas: tuple[float, float] = ADAM_BETAS
) -> torch.optim.Adam:
    """Adam with its fused update (one kernel for all parameters) where this torch and device offer it.

    ``capturable`` keeps Adam's step counter and learning rate on the GPU as tensors, so that the update
    can be replayed in a CUDA graph while a scheduler changes the rate (it fills the tensor in place).
    """
    parameters = list(model.parameters())
    extra = {"capturable": True} if capturable else {}
    if capturable:
        lr = torch.tensor(lr, device=parameters[0].device)
    try:
        return torch.optim.Adam(parameters, lr=lr, betas=betas, fused=True, **extra)
    except (RuntimeError, TypeError):  # an older torch, or a device without the fused kernel
        return torch.optim.Adam(parameters, lr=lr, betas=betas, **extra)


def _check_betas(betas: tuple[float, float]) -> tuple[float, float]:
    """Adam's two betas as floats, each in [0, 1), or a ValueError that says what to pass."""
    try:
        beta1, beta2 = (float(b) for b in betas)
    except (TypeError, ValueError):
        raise ValueError(f"betas must be two numbers such as (0.9, 0.999), got {betas!r}.") from None
    if not (0 <= beta1 < 1 and 0 <= beta2 < 1):
        raise ValueError(f"Both betas must be in [0, 1), such as (0.9, 0.999); got {betas!r}.")
    return beta1, beta2


@torch.no_grad()
def start_at_mean_pixel(model: nn.Module, images: torch.Tensor) -> None:
    """Set the decoder's last bias to the log-odds of the mean pixel: the untrained model draws the average image.

    A fresh decoder outputs logits near 0, a grey of 0.5 everywhere, while most pixels of these datasets are
    black: the first hundreds of steps only learn that. Starting there instead ("init well" in Karpathy's
    recipe for training networks) spares them. A bias of one number (a conv layer with one output channel)
    gets the mean over all pixels; a bias with one number per pixel (an MLP's last layer) gets each pixel's mean.
    """
    check_images(images, "images")
    check_pixels(images, "images")
    decoder_part = getattr(model, "decoder", None)
    if not isinstance(decoder_part, nn.Module):
        raise TypeError(f"start_at_mean_pixel needs a model with a .decoder module; a {type(model).__name__} has none. "
                        "Pass one of course_utils.models' autoencoders, or train without the start "
                        "(start_at_mean=False).")
    layers = [m for m in decoder_part.modules() if isinstance(getattr(m, "bias", None), torch.Tensor)]
    if not layers:
        raise ValueError("The decoder has no layer with a bias to start at the mean pixel: give its last layer "
                         "bias=True, or train without the start (start_at_mean=False).")
    bias = layers[-1].bias
    pixels = images.float().flatten(1)
    if bias.numel() == 1:
        mean = pixels.mean()
    elif bias.numel() == pixels.shape[1]:
        mean = pixels.mean(0)
    else:
        raise ValueError(f"The decoder's last bias has {bias.numel()} numbers: neither one nor one per pixel "
                         f"({pixels.shape[1]}), so it is not the output layer this function knows how to start. "
                         "Train without the start (start_at_mean=False), or set that layer's bias yourself.")
    mean = mean.clamp(1e-3, 1 - 1e-3)  # an always-black pixel would ask for a logit of minus infinity
    bias.copy_(torch.logit(mean).reshape(bias.shape).to(bias))


@torch.inference_mode()
def evaluate(
    model: nn.Module,
    images: torch.Tensor,
    objective: Objective | None = None,
    batch_size: int = EVAL_BATCH_SIZE,
) -> dict[str, float]:
    """Mean of each loss part over ``images``, weighted by batch size, in eval mode."""
    check_images(images, "images")
    check_pixels(images, "images")
    objective = objective or autoencoder_objective()
    was_training = model.training
    model.eval()
    sums: dict[str, float] = {}
    for batch in iterate_batches(_like_model(model, images), batch_size):
        for part, value in objective(model, batch).items():
            sums[part] = sums.get(part, 0.0) + float(value) * len(batch)
    model.train(was_training)
    return {part: total / len(images) for part, total in sums.items()}


def _like_model(model: nn.Module, images: torch.Tensor) -> torch.Tensor:
    """``images`` on the model's device and in its float type (float64 pixels would fail in its first layer)."""
    parameter = next(model.parameters())
    return images.to(device=parameter.device, dtype=parameter.dtype)


def epochs_for(n_images: int, epochs: int, min_steps: int, batch_size: int = DEFAULT_BATCH_SIZE) -> int:
    """``epochs``, or more on a small dataset, so that training takes at least ``min_steps`` Adam steps.

    A model learns per weight update, not per epoch: five epochs over 60,000 images are 2,345 updates,
    over 4,000 images only 160. Lessons use this so that one setting trains well on either.
    """
    n_images, epochs = positive_int("n_images", n_images), positive_int("epochs", epochs)
    min_steps, batch_size = positive_int("min_steps", min_steps), positive_int("batch_size", batch_size)
    steps_per_epoch = -(-n_images // batch_size)  # the last, partial batch is a step too
    return max(epochs, -(-min_steps // steps_per_epoch))


def learning_rate_schedule(
    optimizer: torch.optim.Optimizer, schedule: Schedule, lr: float, total_steps: int
) -> torch.optim.lr_scheduler.LRScheduler:
    """PyTorch's scheduler for ``schedule``, to be stepped once after every optimizer step.

    Momentum is not cycled, so that a CUDA graph (which holds Adam's betas as recorded) replays the same
    arithmetic as the plain loop.
    """
    if schedule == "constant":
        return torch.optim.lr_scheduler.ConstantLR(optimizer, factor=1.0, total_iters=0)
    if schedule == "one-cycle":
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=total_steps,
                                                   cycle_momentum=False)
    raise ValueError(f"schedule must be 'constant' or 'one-cycle', got {schedule!r}.")


def _stop_if_diverged(total: float, epoch: int, lr: float, history: History) -> None:
    """Raise a FloatingPointError naming the epoch and the likely causes if the epoch's loss is not finite."""
    if math.isfinite(total):
        return
    error = FloatingPointError(
        f"The training loss became {total} in epoch {epoch + 1}, so training stopped: the weights are no longer "
        f"usable. Likely causes: a learning rate too high (lr={lr:g}; try {lr / 10:g}), or NaN or extreme values "
        "made by a custom objective. Build a new model and train again."
    )
    error.history = history  # the finished epochs, for a look at where the loss went wrong
    raise error


def fit(
    model: nn.Module,
    train_images: torch.Tensor,
    val_images: torch.Tensor | None = None,
    *,
    epochs: int,
    objective: Objective | None = None,
    lr: float = 1e-3,
    batch_size: int = DEFAULT_BATCH_SIZE,
    seed: int = 0,
    schedule: Schedule = "constant",
    betas: tuple[float, float] = ADAM_BETAS,
    progress: bool = True,
    cuda_graph: bool = True,
) -> History:
    """Train with Adam on shuffled batches of one tensor; record every loss part per epoch.

    ``schedule="one-cycle"`` runs PyTorch's OneCycleLR: the learning rate climbs from ``lr / 25`` to
    ``lr`` over the first 30% of the steps, then falls smoothly to almost 0. It reaches a given loss in
    fewer epochs than a constant rate (``python -m course_tools.bench`` measures by how much).
    ``betas`` are Adam's (PyTorch's default; ``zoo.CONV_RECIPE`` and ``zoo.MLP_RECIPE`` shorten the second one to 0.99).

    What it does to ``model``, besides training its weights in place: convolution weights are
    stored channels-last (same values, a faster layout on CPU), and the model is left in eval
    mode, ready to encode and decode. On a GPU, full batches replay a recorded CUDA graph of the
    same step (``cuda_graph=False`` turns that off; see ``course_utils.cuda_graph``).

    Stopping it (Ctrl+C, or the notebook's stop button) keeps what was done: it returns the history
    of the finished epochs, marked ``interrupted``. A loss that becomes NaN or infinite stops it
    with a FloatingPointError that says which epoch and what to try.
    """
    for images, what in ((train_images, "train_images"), (val_images, "val_images")):
        if images is not None:
            check_images(images, what)
            check_pixels(images, what)
    epochs, batch_size = positive_int("epochs", epochs), positive_int("batch_size", batch_size)
    lr, seed = positive_number("lr", lr, "(such as 1e-3)"), positive_int("seed", seed, minimum=0)
    betas = _check_betas(betas)
    objective = objective or autoencoder_objective()
    device = model_device(model)
    train_images = _like_model(model, train_images)  # the whole dataset moves once, not one batch at a time
    model.to(memory_format=preferred_memory_format(model))
    use_graph = cuda_graph and device.type == "cuda"
    optimizer = make_adam(model, lr, capturable=use_graph, betas=betas)
    steps = epochs * math.ceil(len(train_images) / batch_size)
    scheduler = learning_rate_schedule(optimizer, schedule, lr, steps)
    graphed_step = GraphedStep(model, objective, optimizer, batch_size) if use_graph else None
    shuffler = torch.Generator().manual_seed(seed)
    history = History()
    bar = tqdm(total=steps, desc="training", unit="batch", disable=not progress, leave=False)
    try:
        for epoch in range(epochs):
            model.train()
            started = time.perf_counter()
            sums: dict[str, torch.Tensor] = {}  # each loss part times its batch size, summed over the epoch
            for batch in iterate_batches(train_images, batch_size, shuffle=True, generator=shuffler):
                if graphed_step is not None:
                    parts = graphed_step(batch)  # the same four steps as below, replayed as one CUDA graph
                else:
                    optimizer.zero_grad()
                    parts = objective(model, batch)
                    parts["total"].backward()
                    optimizer.step()
                scheduler.step()  # the learning rate for the next batch
                for part, value in parts.items():  # summed on the device: no wait for the GPU at each batch
                    sums[part] = sums.get(part, 0.0) + value.detach() * len(batch)
                bar.update(1)
            _stop_if_diverged(float(sums["total"]), epoch, lr, history)
            for part, total in sums.items():
                history.train.setdefault(part, []).append(float(total) / len(train_images))
            if val_images is not None:
                for part, value in evaluate(model, val_images, objective).items():
                    history.val.setdefault(part, []).append(value)
            history.seconds.append(time.perf_counter() - started)
            shown = history.val if val_images is not None else history.train
            bar.set_postfix(epoch=f"{epoch + 1}/{epochs}", loss=f"{shown['total'][-1]:.4f}")
    except KeyboardInterrupt:
        history.interrupted = True
        print(f"Stopped during epoch {history.epochs + 1} of {epochs}: the history keeps the {history.epochs} "
              "finished epoch(s), and the model its weights as they were when stopped. Run the cell again to "
              "train from the start.")
        for record in (history.train, history.val):  # drop the unfinished epoch's values, if any
            for part in record:
                del record[part][history.epochs:]
        return history
    finally:
        bar.close()
        model.eval()
    if progress:
        split = "val" if val_images is not None else "train"
        loss = history.last(split=split)
        print(f"trained {epochs} epoch(s) in {sum(history.seconds):.1f} s; {split} loss {loss:.4f}")
    return history


@torch.inference_mode()
def encode_all(model: nn.Module, images: torch.Tensor, batch_size: int = EVAL_BATCH_SIZE) -> torch.Tensor:
    """Codes of every image, on the CPU (for a VAE: the mean code)."""
    check_images(images, "images")
    model.eval()
    device = model_device(model)
    return torch.cat([model.encode(b.to(device)).cpu() for b in iterate_batches(images, batch_size)])


@torch.inference_mode()
def reconstruct_all(model: nn.Module, images: torch.Tensor, batch_size: int = EVAL_BATCH_SIZE) -> torch.Tensor:
    """Reconstructions of every image, on the CPU (for a VAE: decoded from the mean code)."""
    check_images(images, "images")
    model.eval()
    device = model_device(model)
    return torch.cat([model.decode(model.encode(b.to(device))).cpu() for b in iterate_batches(images, batch_size)])


@torch.inference_mode()
def decode_all(model: nn.Module, codes: torch.Tensor, batch_size: int = EVAL_BATCH_SIZE) -> torch.Tensor:
    """Decode a batch of latent codes to images on the CPU."""
    model.eval()
    device = model_device(model)
    codes = torch.as_tensor(codes, dtype=torch.float32)
    return torch.cat([model.decode(c.to(device)).cpu() for c in iterate_batches(codes, batch_size)])


def decoder(model: nn.Module) -> Callable[[torch.Tensor], torch.Tensor]:
    """The model's decoder as a function of codes: ``decoder(model)(z)`` is ``decode_all(model, z)``.

    Plots and widgets take such a function, so they work with any model (or any other decoder).
    """
    return lambda codes: decode_all(model, codes)
