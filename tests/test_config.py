"""config: paths, fast mode, seeding, device choice, and an import with no side effects."""

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


def test_an_unsupported_parameter_is_refused_in_one_sentence_naming_the_fix():
    config.require_supported("LATENT_DIM", 2, (2,), "the lesson draws codes on a page")  # supported: silent
    with pytest.raises(ValueError, match=r"supports LATENT_DIM = 2, not 8: the lesson draws.*parameters cell"):
        config.require_supported("LATENT_DIM", 8, (2,), "the lesson draws codes on a page")
