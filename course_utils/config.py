"""Paths anchored at the repository root, fast mode, seeding and device choice."""

from __future__ import annotations

import os
import random
from collections.abc import Collection
from pathlib import Path
from typing import Any

import numpy as np
import torch

from course_utils.checks import positive_int

#: The repository root: the folder that holds ``course_utils/`` and ``notebooks/``.
REPO_ROOT = Path(__file__).resolve().parent.parent


def _env_path(variable: str, default: Path) -> Path:
    """Return the folder named by an environment variable, or the default."""
    value = os.environ.get(variable)
    return Path(value).expanduser().resolve() if value else default


def data_dir() -> Path:
    """Folder for datasets in torchvision's layout (``COURSE_DATA_DIR``, default ``data/``)."""
    return _env_path("COURSE_DATA_DIR", REPO_ROOT / "data")


def checkpoint_dir() -> Path:
    """Folder for trained models (``COURSE_CHECKPOINT_DIR``, default ``checkpoints/``)."""
    return _env_path("COURSE_CHECKPOINT_DIR", REPO_ROOT / "checkpoints")


def is_fast() -> bool:
    """True when ``COURSE_FAST`` is set to 1/true/yes: small subsets and few epochs."""
    return os.environ.get("COURSE_FAST", "").strip().lower() in {"1", "true", "yes", "on"}


def is_offline() -> bool:
    """True when ``COURSE_OFFLINE`` is set: the data loader never tries to download."""
    return os.environ.get("COURSE_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def fast_or_full(fast: int, full: int) -> int:
    """Pick the fast-mode size or the full-mode size, so one cell serves both modes."""
    return fast if is_fast() else full


def pick_device(preferred: str | torch.device | None = None) -> torch.device:
    """Return CUDA if present, then Apple's MPS, then the CPU; or ``preferred``, checked to exist here."""
    if preferred is None:
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    text = str(preferred).strip().lower()
    if text == "gpu":
        raise ValueError("'gpu' is not a PyTorch device name: use 'cuda' for an NVIDIA GPU, 'mps' for a Mac's GPU, "
                         "or leave the device out to take the best one available.")
    try:
        device = torch.device(text)
    except (RuntimeError, TypeError) as error:
        raise ValueError(f"{preferred!r} is not a device: use 'cpu', 'cuda' or 'mps', or leave the device out "
                         "to take the best one available.") from error
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("You asked for device 'cuda' but PyTorch sees no CUDA GPU here. "
                         "Leave the device out (setup() without a device) to use the CPU.")
    mps = getattr(torch.backends, "mps", None)
    if device.type == "mps" and not (mps is not None and mps.is_available()):
        raise ValueError("You asked for device 'mps' but PyTorch sees no Apple-silicon GPU here. "
                         "Leave the device out (setup() without a device) to use the CPU.")
    if device.type not in ("cpu", "cuda", "mps"):
        raise ValueError(f"The lessons run on 'cpu', 'cuda' or 'mps', not {preferred!r}.")
    return device


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and PyTorch's random generators."""
    seed = positive_int("seed", seed, minimum=0, hint="(a non-negative integer such as 0)")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device


def setup(seed: int = 0, device: str | None = None, verbose: bool = True) -> torch.device:
    """Seed everything, pick the device and print one line saying what was chosen."""
    seed_everything(seed)
    chosen = pick_device(device)
    if verbose:
        mode = "fast" if is_fast() else "full"
        print(f"course_utils: device={chosen.type}, seed={seed}, mode={mode}, torch {torch.__version__}")
    return chosen


def require_supported(name: str, value: Any, supported: Collection[Any], why: str) -> None:
    """Refuse a parameter value the lesson does not support, in one sentence that names the fix."""
    if value not in supported:
        choices = " or ".join(repr(choice) for choice in supported)
        raise ValueError(f"This lesson supports {name} = {choices}, not {value!r}: {why}. "
                         f"Set it in the parameters cell and run the notebook again.")
