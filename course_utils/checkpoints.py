"""Train-if-missing model cache: atomic writes, and a retrain (never a crash) on a bad file."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from course_utils import config
from course_utils.train import History

#: Bumped when the file layout changes, so old files are retrained instead of misread.
FORMAT_VERSION = 1


def settings_digest(settings: dict) -> str:
    """Eight hex digits that change whenever the settings do (key order does not matter)."""
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode("utf-8")).hexdigest()[:8]


def checkpoint_path(name: str, directory: Path | None = None, settings: dict | None = None) -> Path:
    """Where the checkpoint ``name`` trained with ``settings`` lives: ``<name>-<digest>[-fast].pt``.

    The digest of the settings is part of the file name, so models trained with other settings (another
    seed, another lesson's epochs) get files of their own and never overwrite each other.
    """
    if not name or any(c in name for c in "/\\") or name.startswith("."):
        raise ValueError(f"Checkpoint names are plain file stems like 'mlp_ae_mnist', got {name!r}.")
    digest = f"-{settings_digest(settings)}" if settings else ""
    suffix = "-fast" if config.is_fast() else ""
    return (directory or config.checkpoint_dir()) / f"{name}{digest}{suffix}.pt"


def save_checkpoint(path: Path, model: nn.Module, history: History, settings: dict) -> None:
    """Write model weights, history and settings atomically: a temp file, then a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format_version": FORMAT_VERSION,
        "settings": json.dumps(settings, sort_keys=True),
        "state_dict": model.state_dict(),
        "history": history.to_dict(),
    }
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            torch.save(payload, stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp_name, path)  # atomic on POSIX and Windows: readers see old or new, never half
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def _try_load(path: Path, model: nn.Module, settings: dict) -> History | None:
    """Load ``path`` into ``model``; return None (with a warning) if it is unusable."""
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
        if payload.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"format version {payload.get('format_version')} != {FORMAT_VERSION}")
        saved = json.loads(payload["settings"])
        if saved != json.loads(json.dumps(settings, sort_keys=True)):
            raise ValueError(f"it was trained with {saved}, not {settings}")
        model.load_state_dict(payload["state_dict"])
        return History.from_dict(payload["history"])
    except Exception as error:  # corrupt, truncated, old or mismatched: retrain instead
        warnings.warn(f"Ignoring checkpoint {path.name} and retraining: {error}", stacklevel=3)
        return None


def load_or_train(
    name: str,
    build: Callable[[], nn.Module],
    train: Callable[[nn.Module], History],
    settings: dict | None = None,
    device: torch.device | str | None = None,
    directory: Path | None = None,
) -> tuple[nn.Module, History]:
    """Load the model ``name`` if a matching checkpoint exists; otherwise train and save it.

    ``settings`` (JSON-able: dataset, sizes, epochs...) name the file together with ``name``, so
    changing a lesson's parameters trains a model of its own instead of loading or overwriting another;
    the file's stored settings are checked again on loading.
    """
    settings = dict(settings or {})
    path = checkpoint_path(name, directory, settings)
    model = build()
    if device is not None:
        model = model.to(device)
    if path.exists():
        history = _try_load(path, model, settings)
        if history is not None:
            print(f"loaded {path.name} (trained {history.epochs} epoch(s)); delete it to retrain")
            return model.eval(), history
        model = build()  # a failed load may have left some weights overwritten
        if device is not None:
            model = model.to(device)
    history = train(model)
    if not isinstance(history, History):
        raise TypeError("The train function must return the History from course_utils.train.fit.")
    save_checkpoint(path, model, history, settings)
    return model.eval(), history
