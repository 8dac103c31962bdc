"""The course as a static website: every lesson executed, rendered by Sphinx with MyST-NB, offline.

    python -m course_tools.site                  # full mode if the model cache holds full models, else fast
    python -m course_tools.site --mode fast      # or --mode full; --lessons 01 03; --output DIR
    python -m http.server -d site/build/html     # then open http://localhost:8000 (or open index.html)

Each lesson runs once in a fresh kernel (as for the decks, ``course_tools.slides``), and its page says
in which mode it ran and links a clean copy of the notebook (no outputs) to download. The landing page
lists the lessons. The theme (sphinx-book-theme), Sphinx's search and MathJax (copied from
``slides/node_modules``) are all local files: the build refuses to finish if a page would load
anything from the network. Install the tools with ``pip install -e ".[site]"``.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from course_tools import slides
from course_utils import config

SITE_DIR = config.REPO_ROOT / "site"
CONF = SITE_DIR / "conf.py"
DEFAULT_OUTPUT = SITE_DIR / "build"
INSTALL_COMMAND = 'pip install -e ".[site]"'
#: What each mode means, in the banner at the top of every lesson page.
MODE_TEXT = {
    "fast": "fast mode (`COURSE_FAST=1`: small subsets and short training, so numbers and figures are rougher "
            "than in a full run)",
    "full": "full mode (the whole datasets and the lessons' full training budgets)",
}


class SiteError(RuntimeError):
    """The site cannot be built; the message says what to do."""


def has_full_models(folder: Path | None = None) -> bool:
    """Whether the model cache holds models trained in full mode (fast ones end in ``-fast.pt``)."""
    folder = config.checkpoint_dir() if folder is None else folder
    return any(not p.name.endswith("-fast.pt") for p in Path(folder).glob("*.pt"))


def lesson_subtitle(nb: NotebookNode) -> str:
    """The lesson's one-line summary: the italic line under its title, or ''."""
    first = next((c for c in nb.cells if c.cell_type == "markdown"), None)
    for paragraph in (first.source.split("\n\n") if first else []):
        text = " ".join(paragraph.split())  # an italic line may be wrapped over several lines
        if len(text) > 2 and text[0] == text[-1] == "*" and not text.startswith("**"):
            return text.strip("*").strip()
    return ""


def lesson_page(executed: NotebookNode, name: str, mode: str) -> NotebookNode:
    """The executed lesson as a web page: no widget state, a banner with its mode and a download link."""
    page = nbformat.from_dict(executed)
    page.metadata.pop("widgets", None)  # no live widgets on a static page: their fallbacks are shown
    banner = (
        f"```{{note}}\nThis page shows the lesson as it ran in **{MODE_TEXT[mode]}** on "
        f"{time.strftime('%Y-%m-%d')}. Quizzes and sliders need a running kernel: "
        f"{{download}}`download this notebook <../downloads/{name}.ipynb>` (no outputs) and open it in "
        "JupyterLab to work through it.\n```"
    )
    title = 1 if page.cells and page.cells[0].cell_type == "markdown" else 0
    page.cells.insert(title, nbformat.v4.new_markdown_cell(banner))  # under the title, which names the page
    return page


def write_index(source: Path, lessons: list[tuple[str, str, str]], mode: str) -> Path:
    """The landing page: what the course is, the lesson table, how the pages were made."""
    rows = "\n".join(f"| {n + 1} | [{title}](lessons/{name}) | {subtitle} |"
                     for n, (name, title, subtitle) in enumerate(lessons))
    toctree = "\n".join(f"lessons/{name}" for name, _, _ in lessons)
    page = f"""# Autoencoders, hands-on

A hands-on course on autoencoders in Python and PyTorch: Jupyter notebooks that run on a laptop CPU
in minutes, offline if need be. Each lesson shows pictures rather than numbers, checks its own claims
with self-check cells, and ends with a quiz. These pages show every lesson as it ran; download a
lesson (link at the top of its page) to move its sliders and answer its quiz.

| # | Lesson | What you build and see |
|---|--------|------------------------|
{rows}

Every page was executed in {MODE_TEXT[mode]}, on {time.strftime("%Y-%m-%d")}, by
`python -m course_tools.site`.

```{{toctree}}
:hidden:
:maxdepth: 1

{toctree}
```
"""
    path = source / "index.md"
    path.write_text(page, encoding="utf-8")
    return path


def _check_tools() -> None:
    """Sphinx, MyST-NB and the theme must be installed; say how if they are not."""
    missing = [m for m in ("sphinx", "myst_nb", "sphinx_book_theme") if _missing(m)]
    if missing:
        raise SiteError(f"The site needs {', '.join(missing)}: run `{INSTALL_COMMAND}` in the repository root.")


def _missing(module: str) -> bool:
    """Whether ``module`` cannot be imported."""
    import importlib.util

    return importlib.util.find_spec(module) is None


def _executed_lesson(path: Path, folder: Path) -> NotebookNode:
    """The lesson at ``path`` as already executed into ``folder``."""
    done = Path(folder) / path.name
    if not done.is_file():
        raise slides.SlidesError(f"{done} is missing: run the lesson first, or build without `executed`.")
    return nbformat.read(done, as_version=4)


def remote_assets(html_dir: Path) -> dict[str, list[str]]:
    """Every page of the built site that would load something from the network, with what it loads."""
    found = {}
    for page in sorted(html_dir.rglob("*.html")):
        remote = slides.remote_urls(page.read_text(encoding="utf-8", errors="replace"))
        if remote:
            found[str(page.relative_to(html_dir))] = remote
    return found


def build(lessons: Sequence[str] | None = None, output: Path = DEFAULT_OUTPUT, mode: str | None = None,
          timeout: int = 600, install: bool = True, executed: Path | None = None) -> Path:
    """Execute the chosen lessons (all by default) and build the site into ``output/html``; return its index.

    ``executed``: a folder of lessons already executed in ``mode`` (as ``slides.build(keep_executed=...)``
    leaves them), used instead of running them again.
    """
    _check_tools()
    if executed is not None and mode is None:
        raise SiteError("Say in which mode the lessons in `executed` ran: mode='fast' or mode='full'.")
    mode = mode or ("full" if has_full_models() else "fast")
    if mode not in MODE_TEXT:
        raise SiteError(f"mode must be 'fast' or 'full', got {mode!r}.")
    paths = slides.lesson_notebooks(lessons)
    slides.ensure_assets(install=install)  # MathJax comes from the decks' npm folder
    output = Path(output)
    source, html_dir = output / "source", output / "html"
    shutil.rmtree(source, ignore_errors=True)
    for folder in ("lessons", "downloads", "_static"):
        (source / folder).mkdir(parents=True)
    shutil.copy2(CONF, source / "conf.py")
    mathjax = slides.copy_assets(source / "_static", packages={"mathjax"}) / "mathjax"
    shutil.move(str(mathjax), source / "_static" / "mathjax")  # conf.py's mathjax_path: _static/mathjax/
    mathjax.parent.rmdir()
    table, failures = [], {}
    with slides.temporary_checkpoints(fast=mode == "fast") as checkpoints:
        env = slides.execution_env(fast=mode == "fast", checkpoint_dir=checkpoints)
        for path in paths:
            started = time.perf_counter()
            try:
                run = _executed_lesson(path, executed) if executed else slides.execute_lesson(path, env, timeout)
            except slides.SlidesError as error:  # one broken lesson must not cost the others their pages
                failures[path.stem] = str(error)
                print(f"site: error: {path.name}: no page (details at the end)", file=sys.stderr)
                continue
            nbformat.write(lesson_page(run, path.stem, mode), source / "lessons" / path.name)
            shutil.copy2(path, source / "downloads" / path.name)  # committed lessons carry no outputs
            table.append((path.stem, slides.deck_title(run, path.stem), lesson_subtitle(run)))
            print(f"site: {path.stem} ({mode} mode) ready in {time.perf_counter() - started:.0f} s", flush=True)
    write_index(source, table, mode)
    shutil.rmtree(html_dir, ignore_errors=True)
    result = subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-q", str(source), str(html_dir)],
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SiteError(f"Sphinx failed (exit {result.returncode}):\n{(result.stderr or result.stdout)[-3000:]}")
    remote = remote_assets(html_dir)
    if remote:
        raise SiteError(f"These pages would load from the network: {dict(list(remote.items())[:5])}")
    if failures:
        details = "\n\n".join(f"{name}: {why}" for name, why in failures.items())
        raise SiteError(f"{len(failures)} lesson(s) have no page: {', '.join(failures)}\n\n{details}")
    return html_dir / "index.html"


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m course_tools.site [--mode fast|full] [--lessons 01 02] [--output DIR]``."""
    parser = argparse.ArgumentParser(prog="python -m course_tools.site",
                                     description="Build the course website (static HTML, offline) from the lessons.")
    parser.add_argument("--mode", choices=sorted(MODE_TEXT),
                        help="run the lessons in this mode (default: full if checkpoints/ holds full-mode models)")
    parser.add_argument("--lessons", nargs="+", metavar="LESSON", help="only these lessons, by number or name")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT,
                        help=f"where the site goes (default {DEFAULT_OUTPUT.relative_to(config.REPO_ROOT)}); "
                             "the pages are in its html/ folder")
    parser.add_argument("--timeout", type=int, default=600, help="seconds allowed per cell (default 600)")
    parser.add_argument("--executed", type=Path, metavar="DIR",
                        help="use the lessons already executed in DIR (needs --mode), e.g. by "
                             "`python -m course_tools.slides`' keep_executed")
    args = parser.parse_args(argv)
    if args.executed is not None and args.mode is None:
        parser.error("--executed needs --mode: in which mode did those lessons run?")
    if args.timeout < 1:
        parser.error("--timeout must be at least 1 second")
    started = time.perf_counter()
    try:
        index = build(args.lessons, args.output, args.mode, args.timeout, executed=args.executed)
    except SiteError as error:
        print(f"site: error: {error}", file=sys.stderr)
        return 1
    print(f"site: built in {time.perf_counter() - started:.0f} s; open {index}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
