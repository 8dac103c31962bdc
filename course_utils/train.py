"""One training loop for every model, with a progress bar and a per-epoch history."""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, field

import torch
from torch import nn
from tqdm.auto import tqdm

from course_utils.data import iterate_batches
from course_utils.losses import Objective, autoencoder_objective

#: Evaluation needs no gradients, so it can take far bigger batches than training.
EVAL_BATCH_SIZE = 1024


@dataclass
class History:
    """Per-epoch mean of every loss part, for training and validation, and epoch times."""

    train: dict[str, list[float]] = field(default_factory=dict)
    val: dict[str, list[float]] = field(default_factory=dict)
    seconds: list[float] = field(default_factory=list)

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


def _model_device(model: nn.Module) -> torch.device:
    """The device the model's parameters live on."""
    return next(model.parameters()).device


def preferred_memory_format(model: nn.Module) -> torch.memory_format:
    """channels_last for models with convolutions, else the default layout.

    oneDNN's CPU convolution kernels are built for channels-last data: on 2 cores each conv
    layer of the lessons' models ran its forward and backward pass 1.3-2x faster in that layout
    (the transposed convolutions gained most; see ``python -m course_tools.bench``).
    """
    has_conv = any(isinstance(m, nn.modules.conv._ConvNd) for m in model.modules())
    return torch.channels_last if has_conv else torch.contiguous_format


def make_adam(model: nn.Module, lr: float, capturable: bool = False) -> torch.optim.Adam:
    """Adam with its fused update (one kernel for all parameters) where this torch and device offer it.

    ``capturable`` keeps Adam's step counter on the GPU, so that the update can be replayed in a CUDA graph.
    """
    parameters = list(model.parameters())
    extra = {"capturable": True} if capturable else {}
    try:
        return torch.optim.Adam(parameters, lr=lr, fused=True, **extra)
    except (RuntimeError, TypeError):  # an older torch, or a device without the fused kernel
        return torch.optim.Adam(parameters, lr=lr, **extra)


class _TrainingStep:
    """One optimizer step on a batch; on a GPU, full batches replay a captured CUDA graph.

    A lesson's model is small, so on a GPU each step is dominated by Python and by launching
    some sixty tiny kernels one by one. A CUDA graph records the whole step (forward, loss,
    backward, Adam, the running loss sums) once and replays it with one launch per batch.
    Batches of another size (the last one of an epoch) and the first steps run eagerly.
    """

    #: Eager steps before capture: autograd and cuBLAS set themselves up on the first calls.
    WARMUP_STEPS = 3

    def __init__(self, model: nn.Module, objective: Objective, optimizer: torch.optim.Optimizer,
                 batch_size: int, use_graph: bool) -> None:
        self.model, self.objective, self.optimizer = model, objective, optimizer
        self.batch_size, self.use_graph = batch_size, use_graph
        self.sums: dict[str, torch.Tensor] = {}  # per-part loss x batch size, summed over the epoch
        self.graph: torch.cuda.CUDAGraph | None = None
        self.static_batch: torch.Tensor | None = None
        self.eager_steps = 0

    def start_epoch(self) -> None:
        """Zero the running sums in place (a captured graph keeps adding into the same tensors)."""
        for total in self.sums.values():
            total.zero_()

    def _add_to_sums(self, parts: dict[str, torch.Tensor], size: int) -> None:
        for part, value in parts.items():  # accumulated on the device: no sync per step
            if part not in self.sums:
                self.sums[part] = torch.zeros((), device=value.device)
            self.sums[part].add_(value.detach() * size)

    def _eager(self, batch: torch.Tensor) -> None:
        # Once a graph holds the gradient buffers, zero them in place rather than dropping them.
        self.optimizer.zero_grad(set_to_none=self.graph is None)
        parts = self.objective(self.model, batch)
        parts["total"].backward()
        self.optimizer.step()
        self._add_to_sums(parts, len(batch))
        self.eager_steps += 1

    def _capture(self, batch: torch.Tensor) -> None:
        """Record one whole step on a copy of ``batch`` (recording runs nothing), then replay it."""
        self.static_batch = batch.clone()
        torch.cuda.synchronize()
        graph = torch.cuda.CUDAGraph()
        self.optimizer.zero_grad(set_to_none=True)  # backward then allocates grads from the graph's pool
        with torch.cuda.graph(graph):
            parts = self.objective(self.model, self.static_batch)
            parts["total"].backward()
            self.optimizer.step()
            self._add_to_sums(parts, self.batch_size)
        self.graph = graph
        graph.replay()

    def __call__(self, batch: torch.Tensor) -> None:
        """Train on one batch."""
        if self.graph is not None and len(batch) == self.batch_size:
            self.static_batch.copy_(batch)
            self.graph.replay()
        elif self.use_graph and len(batch) == self.batch_size and self.eager_steps >= self.WARMUP_STEPS:
            try:
                self._capture(batch)
            except RuntimeError as error:  # an objective that cannot be captured: stay eager
                warnings.warn(f"Could not record this training step as a CUDA graph ({error}); training goes on "
                              "without it, only slower. Pass cuda_graph=False to fit() to skip the attempt.",
                              stacklevel=3)
                self.use_graph, self.graph = False, None
                self._eager(batch)
        else:
            self._eager(batch)


def _check_images(images: torch.Tensor, what: str) -> None:
    """Raise a clear error unless ``images`` is a non-empty ``(N, C, H, W)`` float tensor."""
    if not isinstance(images, torch.Tensor):
        raise TypeError(
            f"{what} must be a tensor of images such as splits.train.images, got {type(images).__name__}."
        )
    if images.ndim != 4 or len(images) == 0:
        raise ValueError(f"{what} must have shape (N, 1, 28, 28) with N > 0, got {tuple(images.shape)}.")
    if not images.is_floating_point():
        raise ValueError(f"{what} must be float pixels in [0, 1], got dtype {images.dtype}.")


@torch.inference_mode()
def evaluate(
    model: nn.Module,
    images: torch.Tensor,
    objective: Objective | None = None,
    batch_size: int = EVAL_BATCH_SIZE,
) -> dict[str, float]:
    """Mean of each loss part over ``images``, weighted by batch size, in eval mode."""
    _check_images(images, "images")
    objective = objective or autoencoder_objective()
    was_training = model.training
    model.eval()
    device = _model_device(model)
    sums: dict[str, float] = {}
    for batch in iterate_batches(images.to(device), batch_size):
        for part, value in objective(model, batch).items():
            sums[part] = sums.get(part, 0.0) + float(value) * len(batch)
    model.train(was_training)
    return {part: total / len(images) for part, total in sums.items()}


def epochs_for(n_images: int, epochs: int, min_steps: int, batch_size: int = 128) -> int:
    """``epochs``, or more on a small dataset, so that training takes at least ``min_steps`` Adam steps.

    A model learns per weight update, not per epoch: five epochs over 60,000 images are 2,345 updates,
    over 4,000 images only 160. Lessons use this so that one setting trains well on either.
    """
    named = (("n_images", n_images), ("epochs", epochs), ("min_steps", min_steps), ("batch_size", batch_size))
    for name, value in named:
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    steps_per_epoch = -(-n_images // batch_size)  # the last, partial batch is a step too
    return max(epochs, -(-min_steps // steps_per_epoch))


def fit(
    model: nn.Module,
    train_images: torch.Tensor,
    val_images: torch.Tensor | None = None,
    *,
    epochs: int,
    objective: Objective | None = None,
    lr: float = 1e-3,
    batch_size: int = 128,
    seed: int = 0,
    progress: bool = True,
    cuda_graph: bool = True,
) -> History:
    """Train with Adam on batches sliced from one tensor; log every loss part per epoch.

    On a GPU, full batches replay a captured CUDA graph of the whole step (``cuda_graph=False``
    turns that off); the arithmetic is the same as the eager loop's.
    """
    _check_images(train_images, "train_images")
    if val_images is not None:
        _check_images(val_images, "val_images")
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}.")
    if not lr > 0:
        raise ValueError(f"lr must be positive, got {lr!r}.")
    objective = objective or autoencoder_objective()
    device = _model_device(model)
    # The whole dataset moves to the model's device once, not one batch at a time.
    train_images = train_images.to(device)
    # Conv weights in channels-last order: every activation after the first layer follows them.
    model.to(memory_format=preferred_memory_format(model))
    use_graph = cuda_graph and device.type == "cuda"
    step = _TrainingStep(model, objective, make_adam(model, lr, capturable=use_graph), batch_size, use_graph)
    shuffler = torch.Generator().manual_seed(seed)
    history = History()
    steps = math.ceil(len(train_images) / batch_size)
    bar = tqdm(total=epochs * steps, desc="training", unit="batch", disable=not progress, leave=False)
    for epoch in range(epochs):
        model.train()
        started = time.perf_counter()
        step.start_epoch()
        for batch in iterate_batches(train_images, batch_size, shuffle=True, generator=shuffler):
            step(batch)  # zero the gradients, loss, backward, Adam: see _TrainingStep._eager
            bar.update(1)
        for part, total in step.sums.items():
            history.train.setdefault(part, []).append(float(total) / len(train_images))
        if val_images is not None:
            for part, value in evaluate(model, val_images, objective).items():
                history.val.setdefault(part, []).append(value)
        history.seconds.append(time.perf_counter() - started)
        shown = history.val if val_images is not None else history.train
        bar.set_postfix(epoch=f"{epoch + 1}/{epochs}", loss=f"{shown['total'][-1]:.4f}")
    bar.close()
    if progress:
        summary = f"val loss {history.last():.4f}" if val_images is not None else (
            f"train loss {history.last(split='train'):.4f}"
        )
        print(f"trained {epochs} epoch(s) in {sum(history.seconds):.1f} s; {summary}")
    model.eval()
    return history


@torch.inference_mode()
def encode_all(model: nn.Module, images: torch.Tensor, batch_size: int = EVAL_BATCH_SIZE) -> torch.Tensor:
    """Codes of every image, on the CPU (for a VAE: the mean code)."""
    _check_images(images, "images")
    model.eval()
    device = _model_device(model)
    return torch.cat([model.encode(b.to(device)).cpu() for b in iterate_batches(images, batch_size)])


@torch.inference_mode()
def reconstruct_all(model: nn.Module, images: torch.Tensor, batch_size: int = EVAL_BATCH_SIZE) -> torch.Tensor:
    """Reconstructions of every image, on the CPU (for a VAE: decoded from the mean code)."""
    _check_images(images, "images")
    model.eval()
    device = _model_device(model)
    return torch.cat([model.decode(model.encode(b.to(device))).cpu() for b in iterate_batches(images, batch_size)])


@torch.inference_mode()
def decode_all(model: nn.Module, codes: torch.Tensor, batch_size: int = EVAL_BATCH_SIZE) -> torch.Tensor:
    """Decode a batch of latent codes to images on the CPU."""
    model.eval()
    device = _model_device(model)
    codes = torch.as_tensor(codes, dtype=torch.float32)
    return torch.cat([model.decode(c.to(device)).cpu() for c in iterate_batches(codes, batch_size)])
