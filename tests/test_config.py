"""config: paths, fast mode, seeding, device choice, the allocator setting, and an import with no side effects."""

import json
import platform
import random
import subprocess
import sys

import numpy as np
import pytest
import torch

from course_utils import config


def test_paths_are_anchored_at_the_repository_root():
    assert (config.REPO_ROOT / "course_utils" / "config.py").exists()
    assert (config.REPO_ROOT / "notebooks").is_dir()


def test_data_dir_follows_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    assert config.data_dir() == config.REPO_ROOT / "data"
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    assert config.data_dir() == tmp_path


@pytest.mark.parametrize("value, expected", [("1", True), ("true", True), ("0", False), ("", False)])
def test_fast_mode_switch(monkeypatch, value, expected):
    monkeypatch.setenv("COURSE_FAST", value)
    assert config.is_fast() is expected
    assert config.fast_or_full(1, 2) == (1 if expected else 2)


def test_setup_seeds_every_generator():
    config.setup(7, verbose=False)
    first = (random.random(), np.random.rand(), torch.rand(1).item())
    config.setup(7, verbose=False)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == first


def test_setup_returns_cpu_without_a_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert config.setup(0, verbose=False) == torch.device("cpu")


def test_setup_prefers_cuda_when_present(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert config.pick_device() == torch.device("cuda")


@pytest.mark.parametrize("bad", [-1, 1.5, "0", True])
def test_bad_seed_is_refused(bad):
    with pytest.raises(ValueError, match="seed"):
        config.setup(bad, verbose=False)


def test_asking_for_missing_cuda_says_what_to_do(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="no CUDA GPU"):
        config.pick_device("cuda")


def test_import_has_no_side_effects():
    code = (
        "import random, numpy, torch, matplotlib; state = random.getstate();"
        "rc = dict(matplotlib.rcParams); import course_utils, course_utils.config, course_utils.plots;"
        "assert random.getstate() == state; assert dict(matplotlib.rcParams) == rc; print('clean')"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=config.REPO_ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "clean"


_HEAP_PROBE = """
import ctypes, json, sys, torch
from course_utils import config
class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd",
                                                      "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]
libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype = MallInfo2
if sys.argv[1] == "setup":
    config.setup(verbose=False)
block = torch.ones(5 * 2**20)  # 20 MiB, the size of a big evaluation batch's activations
mapped = libc.mallinfo2().hblkhd  # bytes in blocks that glibc mmap-ed (and unmaps on free)
del block
print(json.dumps({"tuned": config.reusing_freed_memory(), "mapped": mapped, "free_in_heap": libc.mallinfo2().fordblks}))
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt and mallinfo2 are glibc's")
def test_setup_makes_malloc_keep_freed_memory_for_the_next_batch():
    def probe(mode: str) -> dict:
        result = subprocess.run([sys.executable, "-c", _HEAP_PROBE, mode], capture_output=True, text=True,
                                cwd=config.REPO_ROOT)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    default, tuned = probe("default"), probe("setup")
    block = 20 * 2**20
    assert default["mapped"] >= block  # glibc's default: a fresh mapping, handed back on free
    assert tuned["tuned"] and tuned["mapped"] < block and tuned["free_in_heap"] >= block  # kept for reuse


def test_reuse_freed_memory_is_skipped_without_glibc(monkeypatch):
    monkeypatch.setattr(config, "_freed_memory_reused", False)

    def no_glibc(name: str):
        raise OSError(f"{name}: cannot open shared object file")

    monkeypatch.setattr(config.ctypes, "CDLL", no_glibc)
    assert config.reuse_freed_memory() is False and config.reusing_freed_memory() is False
