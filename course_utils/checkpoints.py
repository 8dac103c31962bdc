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


def _settings_json(settings: dict) -> str:
    """The settings as JSON text (keys sorted), or a clear error naming a value JSON cannot store."""
    if not isinstance(settings, dict):
        raise TypeError(f"settings must be a dict such as {{'epochs': 5, 'seed': 0}}, got {type(settings).__name__}.")
    for key, value in settings.items():
        try:
            json.dumps(value)
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"settings[{key!r}] = {value!r} (type {type(value).__name__}) cannot be stored in a checkpoint: "
                "pass plain numbers, strings, lists and dicts (int(x), float(x) or str(x) convert most values)."
            ) from error
    return json.dumps(settings, sort_keys=True)


def settings_digest(settings: dict) -> str:
    """Eight hex digits that change whenever the settings do (key order does not matter)."""
    return hashlib.sha256(_settings_json(settings).encode("utf-8")).hexdigest()[:8]


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
    """Write model weights, history and settings atomically: a temp file, then a rename.

    Refuses (ValueError) a model whose weights are NaN or infinite, or whose training was stopped early.
    """
    broken = [name for name, tensor in model.state_dict().items()
              if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all())]
    if broken:
        raise ValueError(f"The weights {', '.join(broken[:3])} are NaN or infinite: such a model is not worth keeping.")
    if history.interrupted:
        raise ValueError("Training was stopped before its last epoch: only a finished model is cached.")
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format_version": FORMAT_VERSION,
        "settings": _settings_json(settings),
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
    if settings is not None and not isinstance(settings, dict):
        raise TypeError(f"settings must be a dict such as {{'epochs': 5, 'seed': 0}}, got {type(settings).__name__}.")
    settings = dict(settings or {})
    path = checkpoint_path(name, directory, settings)  # checks the settings before any training
    if device is not None:
        device = config.pick_device(device)  # a clear error now, not a driver error after building
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
    try:
        save_checkpoint(path, model, history, settings)
    except (OSError, ValueError) as error:  # keep the trained model: only the cache is lost
        advice = (f" To cache models, point COURSE_CHECKPOINT_DIR at a folder you can write to (now {path.parent})."
                  if isinstance(error, OSError) else "")
        warnings.warn(f"The trained model was not cached ({type(error).__name__}: {error}). It is returned and "
                      f"works in this session, but will be trained again next time.{advice}", stacklevel=2)
    return model.eval(), history
