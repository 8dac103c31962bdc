"""The claims matrix, fast part: every lesson on both datasets and both seeds, every check holding.

Each lesson runs on the other dataset at seed 0 and on its own at seed 1; its own at seed 0 (the default) is
the JupyterLab run of test_browser_lab.py (see ``verify.pytest_settings_for``).

The whole fast matrix runs once per session (two lessons at a time, sharing the cores), then each
(lesson, setting) is its own test, so a failure names the lesson, the setting and the failing check.
The full part runs on demand: ``python -m course_tools.verify --modes full``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from course_tools import verify

LESSONS = verify.lessons()
SETTINGS = {path.stem: verify.pytest_settings_for(path) for path in LESSONS}
CELLS = [(path, setting) for path in LESSONS for setting in SETTINGS[path.stem]]


@pytest.fixture(scope="session")
def fast_matrix(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], verify.Result]:
    """Run the fast matrix once and print its table; keyed by (lesson, setting label)."""
    workdir = tmp_path_factory.mktemp("claims-matrix")
    jobs = int(os.environ.get("COURSE_MATRIX_JOBS", "2"))
    results = verify.run_matrix(LESSONS, SETTINGS.__getitem__, workdir, device="cpu", jobs=jobs, echo=False)
    print("\n" + verify.markdown_table(results, "cpu", sum(r.seconds for r in results) / jobs))
    return {(r.lesson, r.setting.label): r for r in results}


@pytest.mark.parametrize("path, setting", CELLS, ids=[f"{p.stem[:2]}-{s.label}" for p, s in CELLS])
def test_every_claim_holds(fast_matrix: dict, path: Path, setting: verify.Setting) -> None:
    result = fast_matrix[(path.stem, setting.label)]
    assert result.passed, f"{path.stem} in {setting.label}: {result.failure}"
    assert result.checks, f"{path.stem} in {setting.label} ran no self-check at all"
