"""Course time: every lesson in full mode from an empty model cache, what a student waits for on a first Run All.

Each lesson runs once with papermill in a fresh kernel (full mode, its own default parameters, the
exercise stubs as a student gets them), in order, sharing one model cache that starts empty, as a
student's does (lesson 4 loads lesson 2's model). The time spent training is read back from the
checkpoints each lesson added (each stores its epochs' seconds).
With ``--before REV`` the lessons of an older commit run as well, from that commit's own
``course_utils`` and a cache of their own, empty at the start, alternating lesson by lesson (before 1, now 1,
before 2, ...) so that the machine's drift within the run falls on both sides alike.

    python -m course_tools.course_time                                # every lesson of this checkout
    python -m course_tools.course_time --lessons 01 02 03 04 --before 81afbc2
    python -m course_tools.course_time --device cuda --output course_time.md
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import platform
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import torch

from course_tools import verify
from course_utils import config

#: The two folders an older commit needs to run its own lessons.
EXPORTED = ("course_utils", "notebooks")


@dataclass
class LessonTime:
    """One lesson's run: wall time, the training inside it, its slowest cells, and the first error."""

    lesson: str
    side: str  # "now", or the older commit's name
    seconds: float
    training_seconds: float
    slowest_cells: list[tuple[float, int, str]] = field(default_factory=list)
    failure: str = ""

    @property
    def passed(self) -> bool:
        """Whether every cell ran."""
        return not self.failure


def export_commit(rev: str, destination: Path, repo: Path = config.REPO_ROOT) -> Path:
    """Write ``rev``'s ``course_utils`` and ``notebooks`` into ``destination`` (git archive) and return it."""
    try:
        archived = subprocess.run(["git", "-C", str(repo), "archive", "--format=tar", rev, *EXPORTED],
                                  capture_output=True, check=False)
    except FileNotFoundError as error:
        raise SystemExit("course_time: --before needs git on PATH to read the older commit.") from error
    if archived.returncode != 0:
        reason = archived.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        raise SystemExit(f"course_time: git cannot export {rev!r} from {repo} ({reason[0]}). Give a commit of this "
                         "repository that has course_utils/ and notebooks/ (see `git log --oneline`).")
    destination.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(archived.stdout)) as archive:
        # the "data" filter refuses paths outside destination; Pythons older than 3.10.12 lack it
        safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
        archive.extractall(destination, **safe)
    return destination


def training_seconds(checkpoints: Sequence[Path]) -> float:
    """Seconds of training stored in these checkpoint files (the sum of their epoch times)."""
    total = 0.0
    for path in checkpoints:
        try:
            payload = torch.load(path, map_location="cpu", weights_only=True)
            total += sum(payload["history"]["seconds"])
        except Exception as error:  # a checkpoint from another course version: name it, do not guess
            raise ValueError(f"course_time: cannot read the training time in {path} ({error}).") from error
    return total


def _lesson_cells(executed: nbformat.NotebookNode) -> list[tuple[int, nbformat.NotebookNode]]:
    """The lesson's own cells with their index in the lesson (papermill adds error-anchor cells of its own)."""
    own = [c for c in executed.cells if "papermill-error-cell-tag" not in c.get("metadata", {}).get("tags", [])]
    return list(enumerate(own))


def slowest_cells(executed: nbformat.NotebookNode, n: int = 5) -> list[tuple[float, int, str]]:
    """The ``n`` slowest code cells of a papermill run: (seconds, cell index in the lesson, first line)."""
    timed = []
    for index, cell in _lesson_cells(executed):
        seconds = cell.get("metadata", {}).get("papermill", {}).get("duration")
        if cell.cell_type == "code" and seconds is not None:
            timed.append((float(seconds), index, (cell.source.strip().splitlines() or [""])[0][:80]))
    return sorted(timed, reverse=True)[:n]


def first_error(executed: nbformat.NotebookNode) -> str:
    """The first error an executed notebook shows, as 'cell N: Name: message' (N counts the lesson's cells), or ''."""
    for index, cell in _lesson_cells(executed):
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if output.get("output_type") == "error":
                return f"cell {index}: {output.get('ename')}: {str(output.get('evalue', ''))[:300]}"
    return ""


def time_lesson(notebook: Path, workdir: Path, side: str, checkpoint_dir: Path, python_path: Path | None = None,
                device: str | None = None, cell_timeout: int = 1800) -> LessonTime:
    """Run one lesson in full mode with ``checkpoint_dir`` as its model cache; time it and its new checkpoints."""
    checkpoint_dir.mkdir(parents=True, exist_ok=True)
    cached = set(checkpoint_dir.glob("*.pt"))
    env = verify.lesson_environment("full", device)
    env["COURSE_CHECKPOINT_DIR"] = str(checkpoint_dir)
    env["COURSE_DATA_DIR"] = str(config.data_dir())  # both sides read the same data files
    if python_path is not None:  # the older commit's course_utils comes first
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(python_path), env.get("PYTHONPATH", "")]))
    output = workdir / f"{notebook.stem}__{side.replace('/', '_')}.ipynb"
    returncode, seconds, stderr = verify.papermill(notebook, output, notebook.parent, env, None, cell_timeout)
    trained = training_seconds(sorted(set(checkpoint_dir.glob("*.pt")) - cached))
    if not output.exists():
        tail = " | ".join(stderr.strip().splitlines()[-3:])
        return LessonTime(notebook.stem, side, seconds, trained, failure=f"papermill did not run: {tail}")
    executed = nbformat.read(output, as_version=4)
    failure = first_error(executed) or (f"papermill exited with {returncode}" if returncode else "")
    return LessonTime(notebook.stem, side, seconds, trained, slowest_cells(executed), failure)


def run(lessons: Sequence[Path], workdir: Path, before: str | None = None, device: str | None = None,
        echo: bool = True) -> list[LessonTime]:
    """Time every lesson now and, with ``before``, the same lessons of that commit, alternating."""
    if any(workdir.glob("checkpoints-*/*.pt")):
        raise SystemExit(f"course_time: {workdir} already holds checkpoints; the run needs empty model caches.")
    old_root = export_commit(before, workdir / "before") if before else None
    results = []
    for lesson in lessons:
        sides: list[tuple[str, Path, Path | None]] = []
        if old_root is not None:
            old_lesson = old_root / "notebooks" / lesson.name
            if old_lesson.exists():
                sides.append((before, old_lesson, old_root))
            elif echo:
                print(f"{lesson.stem}: not in {before}; timed now only", flush=True)
        sides.append(("now", lesson, None))
        for side, notebook, python_path in sides:
            cache = workdir / ("checkpoints-now" if side == "now" else "checkpoints-before")
            result = time_lesson(notebook, workdir, side, cache, python_path, device)
            results.append(result)
            if echo:
                state = "ok" if result.passed else f"FAILED ({result.failure})"
                print(f"{result.lesson:28s} {side:10s} {result.seconds:7.1f} s, "
                      f"training {result.training_seconds:6.1f} s  {state}", flush=True)
    return results


def markdown_table(results: Sequence[LessonTime], before: str | None, device: str) -> str:
    """The course time as Markdown: one row per lesson, totals, and the ratio to ``before`` where both ran."""
    now = {r.lesson: r for r in results if r.side == "now"}
    old = {r.lesson: r for r in results if r.side != "now"}
    lines = [f"- Date: {dt.date.today().isoformat()}; machine: {platform.node()} ({platform.machine()}, "
             f"{os.cpu_count()} cores), device: {device}; torch {torch.__version__}.",
             "- Full mode, every lesson's default parameters, in order; each side shares one model cache that "
             "starts empty; 'training' sums the epoch times stored in the checkpoints each lesson added.", ""]

    def seconds(result: LessonTime | None, training: bool = False) -> str:
        if result is None:
            return ""
        value = result.training_seconds if training else result.seconds
        return f"{value:.1f} s" + ("" if result.passed or training else " (FAILED)")

    def row(*cells: str) -> str:
        return "| " + " | ".join(cells) + " |"

    if before:
        lines += [row("lesson", f"before ({before})", "now", "training before", "training now"), "|---" * 5 + "|"]
        lines += [row(lesson, seconds(old.get(lesson)), seconds(result), seconds(old.get(lesson), True),
                      seconds(result, True)) for lesson, result in now.items()]
        both = [lesson for lesson in now if lesson in old]
        if both:
            totals = [sum(old[x].seconds for x in both), sum(now[x].seconds for x in both),
                      sum(old[x].training_seconds for x in both), sum(now[x].training_seconds for x in both)]
            lines.append(row(f"lessons in both ({len(both)})", f"**{totals[0]:.1f} s**",
                             f"**{totals[1]:.1f} s ({totals[1] / totals[0]:.2f})**", f"{totals[2]:.1f} s",
                             f"{totals[3]:.1f} s ({totals[3] / max(totals[2], 1e-9):.2f})"))
    else:
        lines += [row("lesson", "time", "training"), "|---|---|---|"]
        lines += [row(lesson, seconds(result), seconds(result, True)) for lesson, result in now.items()]
    all_now = [sum(r.seconds for r in now.values()), sum(r.training_seconds for r in now.values())]
    lines.append(row("all lessons now", *([""] if before else []), f"**{all_now[0]:.1f} s**",
                     *([""] if before else []), f"{all_now[1]:.1f} s"))
    lines += ["", "Slowest cells now:", ""]
    for lesson, result in now.items():
        slowest = result.slowest_cells[:3]
        lines.append(f"- {lesson}: " + "; ".join(f"{s:.1f} s cell {i} `{text}`" for s, i, text in slowest))
    failures = [r for r in results if not r.passed]
    if failures:
        lines += ["", "## Failures", ""] + [f"- {r.lesson} ({r.side}): {r.failure}" for r in failures]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: pick lessons (and an older commit), run them, print (and optionally write) the table."""
    parser = argparse.ArgumentParser(prog="python -m course_tools.course_time", description=__doc__.splitlines()[0])
    parser.add_argument("--lessons", nargs="*", help="lesson prefixes, e.g. 01 03 (default: all)")
    parser.add_argument("--before", help="an older commit to time alongside, lesson by lesson (e.g. 81afbc2)")
    parser.add_argument("--device", choices=("cpu", "cuda"), default=None, help="default: what config.setup picks")
    parser.add_argument("--output", type=Path, help="also write the table as Markdown here")
    parser.add_argument("--keep", type=Path, help="keep the executed notebooks and checkpoints in this (empty) folder")
    args = parser.parse_args(argv)
    if args.output is not None and not args.output.parent.is_dir():
        parser.error(f"--output: folder {args.output.parent} does not exist; create it or pick another path")
    if args.keep is not None and args.keep.exists() and any(args.keep.iterdir()):
        parser.error(f"--keep: {args.keep} is not empty; every run needs empty model caches")
    paths = verify.lessons(args.lessons)
    device = args.device or config.pick_device().type
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="course-time-") as scratch:
        workdir = args.keep or Path(scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        results = run(paths, workdir, args.before, args.device)
    table = markdown_table(results, args.before, device)
    print(f"\n{table}\n(wall time {time.perf_counter() - started:.0f} s)")
    if args.output is not None:
        args.output.write_text(table, encoding="utf-8")
        args.output.with_suffix(".json").write_text(
            json.dumps([r.__dict__ for r in results], indent=1), encoding="utf-8")
        print(f"course_time: wrote {args.output}")
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
