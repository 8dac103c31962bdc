"""A lent GPU in one prepared command: what its machine lacks, packed here; the course's checks, run there.

The device tool's machine (an image with CUDA and PyTorch, Python 3.12, no network) has no Jupyter,
papermill or mlxtend and no datasets. ``prepare`` (here, where PyPI answers) downloads wheels of what it
lacks into ``.whl/`` and the Fashion-MNIST files into ``.devdata/``; git ignores both, and the device tool
carries them (about 50 MB together, under its 64 MiB). ``run`` (there) installs the wheels into a folder of
their own, unpacks the data into ``data/`` and runs the checks, each under a time limit, with their tables
written where the tool fetches them from (``$OUT``):

    python -m course_tools.device_kit prepare
    # then, with the device tool, one call per check (each under its 10-minute limit; a warm machine keeps
    # the installed wheels): carry [".whl", ".devdata"], timeout_s 600, command
    #   python3 -m course_tools.device_kit run bench          (time to quality and s/epoch on CUDA)
    #   python3 -m course_tools.device_kit run course_time    (every lesson, full mode, empty cache)
    #   python3 -m course_tools.device_kit run matrix         (the claims matrix, full mode)

This module imports neither torch nor ``course_utils``: ``run`` starts before the wheels are installed.
"""

from __future__ import annotations

import argparse
import gzip
import importlib.metadata as metadata
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
WHEELS = REPO_ROOT / ".whl"
DATA = REPO_ROOT / ".devdata"
#: What the lessons and tools need that the GPU image lacks; their own needs follow from the installed metadata.
ROOTS = ("papermill", "nbformat", "nbclient", "ipykernel", "ipywidgets", "mlxtend")
#: Packages the GPU image already holds (the device library's KINDS.md, read 2026-11-17): never carried.
ON_THE_IMAGE = frozenset("""
absl-py accelerate aiohttp aiosignal anyio attrs certifi charset-normalizer click cloudpickle colorama contourpy
cycler filelock fonttools frozenlist fsspec h11 httpcore httpx idna imageio jinja2 joblib kiwisolver lxml
markdown markdown-it-py markupsafe matplotlib mdurl multidict networkx numpy packaging pandas pillow pip pluggy
prometheus-client propcache protobuf psutil pygments pyparsing python-dateutil pyyaml requests rich
scikit-learn scipy setuptools six sympy threadpoolctl torch torchvision tqdm triton typing-extensions
urllib3 wheel yarl zipp
""".split())
#: The image's interpreter, for which the binary wheels are chosen.
DEVICE_PYTHON = "3.12"
#: pip matches manylinux tags exactly, so every tag a wheel may carry is named.
PLATFORMS = ("manylinux_2_17_x86_64", "manylinux2014_x86_64", "manylinux_2_24_x86_64", "manylinux_2_27_x86_64",
             "manylinux_2_28_x86_64", "manylinux_2_31_x86_64", "manylinux_2_34_x86_64", "manylinux1_x86_64")
FASHION_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                 "t10k-labels-idx1-ubyte")
#: Each check: its command (run with the repository as the working folder) and its time limit in seconds.
CHECKS = {
    "bench": (["-m", "course_tools.bench", "--device", "cuda"], 540),
    "course_time": (["-m", "course_tools.course_time", "--device", "cuda", "--output", "{out}/course_time.md"], 540),
    "matrix": (["-m", "course_tools.verify", "--modes", "full", "--device", "cuda", "--jobs", "4",
                "--output", "{out}/claims_matrix_cuda.md"], 540),
}


#: Where the wheels will run, for the requirements' environment markers.
DEVICE_MARKERS = {"python_version": DEVICE_PYTHON, "python_full_version": f"{DEVICE_PYTHON}.3", "sys_platform": "linux",
                  "platform_system": "Linux", "platform_machine": "x86_64", "os_name": "posix",
                  "implementation_name": "cpython", "platform_python_implementation": "CPython", "extra": ""}


def _needed_there(requirement: str) -> str | None:
    """The normalised name a requirement asks for on the GPU machine, or None (an extra, another platform)."""
    from packaging.requirements import Requirement  # here only: prepare runs where pip (and packaging) are
    from packaging.utils import canonicalize_name

    parsed = Requirement(requirement)
    if parsed.marker is not None and not parsed.marker.evaluate(DEVICE_MARKERS):
        return None
    return canonicalize_name(parsed.name)


def packages_to_carry(roots: Iterable[str] = ROOTS, skip: frozenset[str] = ON_THE_IMAGE,
                      distribution=metadata.distribution) -> dict[str, str]:
    """``roots`` and everything they need there, with the versions installed here, less what the image has."""
    found: dict[str, str] = {}
    todo = [name for name in map(_needed_there, roots) if name]
    while todo:
        name = todo.pop()
        if name in found or name in skip:
            continue
        try:
            dist = distribution(name)
        except metadata.PackageNotFoundError:
            raise SystemExit(f"device_kit: {name} is not installed here, and the GPU machine's Python "
                             f"{DEVICE_PYTHON} needs it; install it here (the course's dev extra: pip install -e "
                             "'.[dev]'), so that its version can be carried.") from None
        found[name] = dist.version
        todo += [n for n in map(_needed_there, dist.requires or []) if n]
    return dict(sorted(found.items()))


def prepare(wheels: Path = WHEELS, data: Path = DATA) -> None:
    """Download the wheels and copy the (gzipped) Fashion-MNIST files: what a GPU run carries."""
    packages = packages_to_carry()
    shutil.rmtree(wheels, ignore_errors=True)
    command = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:", "--python-version",
               DEVICE_PYTHON, "--implementation", "cp", "-d", str(wheels)]
    for platform_tag in PLATFORMS:
        command += ["--platform", platform_tag]
    subprocess.run(command + [f"{name}=={version}" for name, version in packages.items()], check=True)
    data.mkdir(exist_ok=True)
    raw = REPO_ROOT / "data" / "FashionMNIST" / "raw"
    for stem in FASHION_FILES:
        if not (raw / stem).exists():
            raise SystemExit(f"device_kit: {raw / stem} is missing; run any lesson on Fashion-MNIST first "
                             "(the data chain unpacks it there).")
        with open(raw / stem, "rb") as source, gzip.open(data / f"{stem}.gz", "wb", compresslevel=6) as target:
            shutil.copyfileobj(source, target)
    exclude = REPO_ROOT / ".git" / "info" / "exclude"
    if exclude.parent.is_dir():
        listed = exclude.read_text().splitlines() if exclude.exists() else []
        missing = [f"/{p.name}/" for p in (wheels, data) if f"/{p.name}/" not in listed]
        exclude.write_text("\n".join(listed + missing) + "\n")
    size = sum(f.stat().st_size for folder in (wheels, data) for f in folder.iterdir()) / 2**20
    print(f"device_kit: {len(packages)} wheels in {wheels.name}/, Fashion-MNIST in {data.name}/: {size:.0f} MiB "
          f"to carry (the device tool takes 64 MiB with the working tree)")


def install(wheels: Path = WHEELS, target: Path = Path("/tmp/site")) -> dict[str, str]:
    """Install the carried wheels into ``target`` (once per machine); return the environment that finds them."""
    found = sorted(wheels.glob("*.whl"))
    if not found:
        raise SystemExit(f"device_kit: no wheels in {wheels}; run `python -m course_tools.device_kit prepare` "
                         "here first and name .whl in the device tool's carry.")
    stamp = target / ".device_kit"  # a warm machine keeps /tmp between calls: install once
    wanted = "\n".join(w.name for w in found)
    if not (stamp.exists() and stamp.read_text() == wanted):
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-index", "--no-deps", "--no-compile",
                        "--no-cache-dir", "--upgrade", "--target", str(target), *map(str, found)], check=True)
        stamp.write_text(wanted)
    path = os.pathsep.join(filter(None, [str(target), str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]))
    # the kernels papermill starts find ipykernel through PYTHONPATH, and the wheels' scripts through PATH
    return dict(os.environ, PYTHONPATH=path, PATH=f"{target / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}")


def unpack_data(data: Path = DATA, raw: Path = REPO_ROOT / "data" / "FashionMNIST" / "raw") -> None:
    """Unpack the carried Fashion-MNIST files into the data folder the lessons read first."""
    raw.mkdir(parents=True, exist_ok=True)
    for stem in FASHION_FILES:
        packed = data / f"{stem}.gz"
        if not packed.exists():
            raise SystemExit(f"device_kit: {packed} is missing; run `prepare` here and name .devdata in carry.")
        with gzip.open(packed, "rb") as source, open(raw / stem, "wb") as target:
            shutil.copyfileobj(source, target)


def run(checks: Sequence[str], out: Path, dry_run: bool = False) -> int:
    """Install, unpack, then run each check under its time limit; its output goes to ``out``/<check>.log."""
    unknown = [c for c in checks if c not in CHECKS]
    if unknown or not checks:
        raise SystemExit(f"device_kit: choose checks from {sorted(CHECKS)}, got {list(checks) or 'none'}.")
    env = dict(os.environ) if dry_run else install()
    if not dry_run:
        unpack_data()
    out.mkdir(parents=True, exist_ok=True)
    worst = 0
    for check in checks:
        arguments, limit = CHECKS[check]
        command = [sys.executable, *(a.format(out=out) for a in arguments)]
        print(f"device_kit: {check} (limit {limit} s): {' '.join(command)}", flush=True)
        if dry_run:
            continue
        with open(out / f"{check}.log", "w") as log:
            try:
                finished = subprocess.run(command, cwd=REPO_ROOT, env={**env, "PYTHONUNBUFFERED": "1"},
                                          stdout=log, stderr=subprocess.STDOUT, timeout=limit)
                code = finished.returncode
            except subprocess.TimeoutExpired:
                code = 124
        tail = (out / f"{check}.log").read_text(errors="replace").strip().splitlines()[-25:]
        print("\n".join(tail), f"\ndevice_kit: {check} ended with {code}", flush=True)
        worst = max(worst, code)
    return worst


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``prepare`` here, ``run CHECK...`` on the GPU machine."""
    parser = argparse.ArgumentParser(prog="python -m course_tools.device_kit", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("prepare", help="download the wheels and copy the data to carry (here, with PyPI)")
    runner = commands.add_parser("run", help="install, unpack and run checks (on the GPU machine)")
    runner.add_argument("checks", nargs="+", choices=sorted(CHECKS))
    runner.add_argument("--out", type=Path, default=Path(os.environ.get("OUT", "device-out")),
                        help="where the logs and tables go (default: $OUT, which the device tool fetches)")
    runner.add_argument("--dry-run", action="store_true", help="print the commands, install and run nothing")
    args = parser.parse_args(argv)
    if args.command == "prepare":
        prepare()
        return 0
    return run(args.checks, args.out, args.dry_run)


if __name__ == "__main__":
    raise SystemExit(main())
