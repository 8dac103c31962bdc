"""environment.yml and pyproject.toml name the same dependencies, so they cannot drift apart."""

import re

import tomllib
import yaml

from course_utils import config

# conda-forge names a few packages differently from PyPI.
CONDA_TO_PYPI = {"pytorch": "torch"}


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ;]", requirement.strip(), maxsplit=1)[0].lower()


def _pyproject() -> set[str]:
    project = tomllib.loads((config.REPO_ROOT / "pyproject.toml").read_text())["project"]
    return {_name(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"]}


def _environment() -> tuple[set[str], list[str]]:
    spec = yaml.safe_load((config.REPO_ROOT / "environment.yml").read_text())
    assert spec["channels"] == ["conda-forge"]
    names, pip_lines = set(), []
    for entry in spec["dependencies"]:
        if isinstance(entry, dict):
            pip_lines += entry["pip"]
        else:
            names.add(CONDA_TO_PYPI.get(_name(entry), _name(entry)))
    return names - {"python", "pip"}, pip_lines


def test_environment_and_pyproject_name_the_same_packages():
    conda, _ = _environment()
    pip = _pyproject()
    assert conda == pip, f"only in environment.yml: {conda - pip}; only in pyproject.toml: {pip - conda}"


def test_environment_installs_this_package_with_pip():
    _, pip_lines = _environment()
    assert any(line.startswith("-e") and ".[dev]" in line for line in pip_lines)
