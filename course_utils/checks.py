"""The small checks and conversions every other module shares: integers, images, arrays, devices.

The bottom of the package: it imports nothing from ``course_utils``, so any module may use it.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn


def to_numpy(values: torch.Tensor | np.ndarray | Sequence | float) -> np.ndarray:
    """A NumPy array of a tensor (on any device, with or without gradients), an array, a list or a number."""
    if isinstance(values, torch.Tensor):
        return values.detach().cpu().numpy()
    return np.asarray(values)


def positive_int(name: str, value: object, minimum: int = 1, hint: str = "") -> int:
    """``value`` as an int if it is a whole number >= ``minimum`` (NumPy integers too), else a clear ValueError.

    ``hint`` says what the number means, e.g. "(tiles per side)"; it goes into the message.
    """
    try:
        number = operator.index(value)  # int, np.int64, ...; refuses 2.0, "3" and None
    except TypeError:
        number = None
    if number is None or isinstance(value, bool) or number < minimum:
        wanted = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        hint = f" {hint}" if hint else ""
        raise ValueError(f"{name} must be {wanted}{hint}, got {value!r}.")
    return number


def check_images(images: object, what: str = "images", shape: tuple[int, ...] | None = None) -> None:
    """Raise a clear error unless ``images`` is a non-empty float tensor ``(N, C, H, W)``.

    ``shape`` pins ``(C, H, W)``, as a model does for its input: ``(1, 28, 28)``.
    """
    if not isinstance(images, torch.Tensor):
        raise TypeError(
            f"{what} must be a tensor of images such as splits.train.images, got {type(images).__name__}."
        )
    if shape is not None and images.ndim == len(shape) and tuple(images.shape[1:]) == tuple(shape[1:]):
        raise ValueError(
            f"Expected a batch of shape (N, {', '.join(map(str, shape))}) but got {tuple(images.shape)}: "
            "add the channel axis with x.unsqueeze(1)."
        )
    wanted = f"(N, {', '.join(map(str, shape))})" if shape is not None else "(N, 1, 28, 28)"
    if images.ndim != 4 or (shape is not None and tuple(images.shape[1:]) != tuple(shape)):
        raise ValueError(
            f"{what} must have shape {wanted}, got {tuple(images.shape)}. "
            "A single image needs a batch axis: x.unsqueeze(0)."
        )
    if len(images) == 0:
        raise ValueError(f"{what} is an empty batch, shape {tuple(images.shape)}: pass at least one image.")
    if not images.is_floating_point():
        raise ValueError(f"{what} must be float pixels in [0, 1], got dtype {images.dtype}: use {what}.float() / 255.")


def check_pixels(images: torch.Tensor, what: str = "images") -> None:
    """Raise a clear error unless every pixel is a finite number in [0, 1] (as the lessons' losses expect)."""
    finite = torch.isfinite(images)
    if not bool(finite.all()):
        bad = int((~finite).sum())
        raise ValueError(
            f"{what} has {bad:,} pixel(s) that are NaN or infinite: find where they came from, or replace "
            f"them (torch.nan_to_num({what}, nan=0.0)) before training."
        )
    low, high = float(images.min()), float(images.max())
    if low < 0.0 or high > 1.0:
        hint = f"divide by 255 ({what} / 255)" if high > 1.0 and high <= 255.0 and low >= 0.0 else (
            f"rescale them into [0, 1], e.g. ({what} - {what}.min()) / ({what}.max() - {what}.min())")
        raise ValueError(f"{what} has pixels from {low:g} to {high:g}, but the lessons' losses need pixels in [0, 1]: "
                         f"{hint}.")


def positive_number(name: str, value: object, hint: str = "") -> float:
    """``value`` as a float if it is a finite number > 0 (not a string, not a bool), else a clear ValueError."""
    hint = f" {hint}" if hint else ""
    if isinstance(value, (bool, str, bytes)) or not isinstance(value, (int, float, np.number, torch.Tensor)):
        raise ValueError(f"{name} must be a positive number{hint}, got {value!r} ({type(value).__name__}): "
                         f"write it without quotes, e.g. {name}=1e-3.")
    number = float(value)
    if not (np.isfinite(number) and number > 0):
        raise ValueError(f"{name} must be a finite number above 0{hint}, got {value!r}.")
    return number


def model_device(model: nn.Module) -> torch.device:
    """The device the model's parameters live on."""
    return next(model.parameters()).device
