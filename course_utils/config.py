"""Paths anchored at the repository root, fast mode, seeding, device choice and the CPU allocator."""

from __future__ import annotations

import ctypes
import os
import random
import sys
from pathlib import Path

import numpy as np
import torch

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


def figure_dir() -> Path:
    """Folder where ``plots.save_figure`` writes PNGs (``COURSE_FIGURE_DIR``, default ``figures/``)."""
    return _env_path("COURSE_FIGURE_DIR", REPO_ROOT / "figures")


def is_fast() -> bool:
    """True when ``COURSE_FAST`` is set to 1/true/yes: small subsets and few epochs."""
    return os.environ.get("COURSE_FAST", "").strip().lower() in {"1", "true", "yes", "on"}


def is_offline() -> bool:
    """True when ``COURSE_OFFLINE`` is set: the data loader never tries to download."""
    return os.environ.get("COURSE_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def fast_or_full(fast: int, full: int) -> int:
    """Pick the fast-mode size or the full-mode size, so one cell serves both modes."""
    return fast if is_fast() else full


def pick_device(preferred: str | None = None) -> torch.device:
    """Return CUDA if present, then Apple's MPS, then the CPU (or ``preferred`` if given)."""
    if preferred is not None:
        device = torch.device(preferred)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(
                "You asked for device 'cuda' but PyTorch sees no CUDA GPU. "
                "Use setup() without a device to fall back to the CPU."
            )
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and PyTorch's random generators."""
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}.")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device


#: glibc's mallopt parameter numbers (from malloc.h) and the values reuse_freed_memory sets.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_MMAP_THRESHOLD_BYTES = 32 * 2**20  # glibc's ceiling on 64-bit: blocks up to 32 MiB come from the heap
_TRIM_THRESHOLD_BYTES = 256 * 2**20  # keep up to 256 MiB of freed heap for the next batch
_freed_memory_reused = False


def reuse_freed_memory() -> bool:
    """Make glibc's malloc keep freed tensor memory for reuse; True once applied (Linux), else False.

    Each training step allocates and frees activations and gradients of 0.4-13 MB. With glibc's
    defaults that memory goes back to the operating system after the step, and the next step
    faults every page in again: on the course's 2-core machine a ReLU on a fresh 1.6 MB tensor
    then took 1.6 ms instead of 0.03 ms, a conv autoencoder's training step 17.4 ms instead of
    13.9 ms, and lesson 4's VAE epoch 12.6 s instead of 10.9 s. Other allocators (macOS, Windows,
    musl) are left as they are.
    """
    global _freed_memory_reused
    if _freed_memory_reused:
        return True
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc
        return False
    # mallopt returns 1 on success; the thresholds stop glibc from returning (trim) or
    # mmap-ing (and later unmapping) blocks the size of a batch's activations.
    applied = mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_BYTES) == 1
    applied = mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD_BYTES) == 1 and applied
    _freed_memory_reused = applied
    return applied


def reusing_freed_memory() -> bool:
    """True once ``reuse_freed_memory`` has taken effect in this process."""
    return _freed_memory_reused


def setup(seed: int = 0, device: str | None = None, verbose: bool = True) -> torch.device:
    """Seed everything, pick the device, let the allocator reuse freed memory, print what was chosen."""
    seed_everything(seed)
    reuse_freed_memory()
    chosen = pick_device(device)
    if verbose:
        mode = "fast" if is_fast() else "full"
        print(f"course_utils: device={chosen.type}, seed={seed}, mode={mode}, torch {torch.__version__}")
    return chosen
