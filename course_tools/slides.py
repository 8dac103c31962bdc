"""Instructor decks: run each lesson, then turn it into reveal.js slides that need no network.

One command builds every deck (``python -m course_tools.slides``): it executes each lesson
(fast mode unless ``--full``), converts it with nbconvert's ``SlidesExporter`` into
``slides/build/NN_slug.slides.html``, copies reveal.js, require.js, jQuery and MathJax from
``slides/node_modules`` (``npm ci --prefix slides``) into ``slides/build/assets/``, and writes
``slides/build/index.html``. Cells whose slide type is ``notes`` become speaker notes (press S).
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Collection, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING

import nbformat
from nbformat import NotebookNode

from course_utils import config, quiz

if TYPE_CHECKING:  # nbconvert is imported only when a deck is built
    from nbconvert import SlidesExporter

SLIDES_DIR = config.REPO_ROOT / "slides"
NOTEBOOK_DIR = config.REPO_ROOT / "notebooks"
NODE_MODULES = SLIDES_DIR / "node_modules"
TEMPLATE_DIR = SLIDES_DIR / "templates"
TEMPLATE_NAME = "course_reveal"
DEFAULT_OUTPUT = SLIDES_DIR / "build"
NPM_COMMAND = "npm ci --prefix slides"

#: Slide types that start a new reveal.js slide (a "slide" is horizontal, a "subslide" vertical).
SLIDE_STARTS = frozenset({"slide", "subslide"})
#: Slide types nbconvert leaves out of the deck body (notes go to the speaker view).
HIDDEN = frozenset({"notes", "skip"})
#: Debian's Chromium by default (never a browser that Playwright downloads); COURSE_CHROMIUM overrides it.
CHROMIUM = Path(os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]
#: The <meta> name under which a built deck records its number of slides.
SLIDE_COUNT_META = "course-slide-count"
#: What every lesson's deck must have, at least.
MIN_SLIDES = 8
MIN_NOTES = 1

#: Where the decks find their assets, relative to the deck's own folder.
ASSETS = "assets"
REVEAL_URL_PREFIX = f"{ASSETS}/reveal.js"
REVEAL_THEME = "white"  # ships its own font; most other themes import Google Fonts
MATHJAX_URL = f"{ASSETS}/mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe"
REQUIRE_JS_URL = f"{ASSETS}/require.js"
JQUERY_URL = f"{ASSETS}/jquery.min.js"

#: Widgets need a kernel; lessons pair each widget with a static fallback, which the deck shows.
DISPLAY_PRIORITY = [
    "text/html",
    "text/markdown",
    "image/svg+xml",
    "text/latex",
    "image/png",
    "image/jpeg",
    "text/plain",
]

#: The npm files each deck needs: (package, path inside the package, path under assets/).
_ASSET_FILES: tuple[tuple[str, str, str], ...] = (
    ("reveal.js", "dist/reveal.js", "reveal.js/dist/reveal.js"),
    ("reveal.js", "dist/reveal.css", "reveal.js/dist/reveal.css"),
    ("reveal.js", f"dist/theme/{REVEAL_THEME}.css", f"reveal.js/dist/theme/{REVEAL_THEME}.css"),
    ("reveal.js", "dist/theme/fonts/source-sans-pro", "reveal.js/dist/theme/fonts/source-sans-pro"),
    ("reveal.js", "plugin/notes/notes.js", "reveal.js/plugin/notes/notes.js"),
    ("reveal.js", "LICENSE", "reveal.js/LICENSE"),
    ("requirejs", "require.js", "require.js"),
    ("jquery", "dist/jquery.min.js", "jquery.min.js"),
    ("mathjax", ".", "mathjax"),  # filtered by _mathjax_ignore
)


class SlidesError(RuntimeError):
    """A deck cannot be built; the message says what to do."""


@dataclass
class Deck:
    """One built deck: where it is, its title, how many slides and how long it took."""

    name: str
    path: Path
    title: str
    slides: int
    notes: int
    seconds: float


class LessonsFailed(SlidesError):
    """Some lessons failed to run or convert; the others' decks were built all the same."""

    def __init__(self, failures: dict[str, str], decks: list[Deck]) -> None:
        self.failures = failures
        self.decks = decks
        details = "\n\n".join(f"{name}: {message}" for name, message in failures.items())
        super().__init__(f"{len(failures)} lesson(s) have no deck: {', '.join(failures)}\n\n{details}")


# ---------------------------------------------------------------------------------------------
# Reading lessons


def lesson_notebooks(selection: Sequence[str] | None = None, folder: Path = NOTEBOOK_DIR) -> list[Path]:
    """The lessons ``NN_slug.ipynb`` in order, or those picked by number, slug or file name."""
    lessons = sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb") if p.is_file())
    if not selection:
        if not lessons:
            raise SlidesError(f"No lessons (NN_slug.ipynb) found in {folder}.")
        return lessons
    picked: list[Path] = []
    for wanted in selection:
        matches = [p for p in lessons if _matches(p, wanted)]
        if not matches:
            known = ", ".join(p.stem for p in lessons) or "none"
            raise SlidesError(f"No lesson matches {wanted!r}; lessons are: {known}.")
        picked += [p for p in matches if p not in picked]
    return picked


def _matches(path: Path, wanted: str) -> bool:
    """True if ``wanted`` names this lesson: '2', '02', '02_vanilla_autoencoder' or its file."""
    wanted = Path(wanted.strip()).name
    if wanted.isdigit():
        return int(path.stem[:2]) == int(wanted)
    return wanted in {path.name, path.stem, path.stem[3:]}


def slide_type(cell: NotebookNode) -> str:
    """A cell's slide type as nbconvert reads it ('-' when the cell has none)."""
    return cell.get("metadata", {}).get("slideshow", {}).get("slide_type", "-") or "-"


def slide_count(nb: NotebookNode) -> int:
    """How many reveal.js slides nbconvert makes of a notebook: its slides plus subslides."""
    types = [slide_type(cell) for cell in nb.cells]
    visible = [t for t in types if t not in HIDDEN]
    if not visible:
        return 0
    # nbconvert turns the first visible cell into a slide, whatever its type.
    return sum(t in SLIDE_STARTS for t in visible[1:]) + 1


def notes_count(nb: NotebookNode) -> int:
    """How many cells are speaker notes."""
    return sum(slide_type(cell) == "notes" for cell in nb.cells)


def deck_title(nb: NotebookNode, fallback: str) -> str:
    """The lesson's title: the text of its first Markdown heading."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            match = re.search(r"^#+\s+(.+?)\s*#*\s*$", cell.source, flags=re.MULTILINE)
            if match:
                return re.sub(r"[*_`]", "", match.group(1)).strip()
    return fallback


def slide_problems(nb: NotebookNode) -> list[str]:
    """What keeps a lesson from making a good deck (empty list when nothing does)."""
    problems = []
    slides = slide_count(nb)
    if slides < MIN_SLIDES:
        problems.append(f"only {slides} slides (slide/subslide cells); a deck needs {MIN_SLIDES} or more")
    if notes_count(nb) < MIN_NOTES:
        problems.append("no speaker notes: mark at least one Markdown cell with slide type 'notes'")
    for index, cell in enumerate(nb.cells):
        if slide_type(cell) in SLIDE_STARTS and not cell.source.strip():
            problems.append(f"cell {index} starts a {slide_type(cell)} but is empty")
    return problems


# ---------------------------------------------------------------------------------------------
# Offline assets


def _locked_versions() -> dict[str, str]:
    """The npm packages and exact versions pinned in slides/package-lock.json."""
    lock_file = SLIDES_DIR / "package-lock.json"
    if not lock_file.is_file():
        raise SlidesError(f"{lock_file} is missing: it pins the slide assets (restore it from git).")
    packages = json.loads(lock_file.read_text())["packages"]
    return {
        key.removeprefix("node_modules/"): entry["version"]
        for key, entry in packages.items()
        if key.startswith("node_modules/")
    }


def _installed_version(package: str) -> str | None:
    """The version of an npm package in slides/node_modules, or None when it is not there."""
    manifest = NODE_MODULES / package / "package.json"
    if not manifest.is_file():
        return None
    return json.loads(manifest.read_text()).get("version")


def ensure_assets(install: bool = True) -> Path:
    """Make sure slides/node_modules holds the pinned assets, running ``npm ci`` if needed."""
    stale = {p: v for p, v in _locked_versions().items() if _installed_version(p) != v}
    if not stale:
        return NODE_MODULES
    wanted = ", ".join(f"{p}@{v}" for p, v in sorted(stale.items()))
    if not install:
        raise SlidesError(f"Slide assets missing or outdated ({wanted}): run `{NPM_COMMAND}`.")
    npm = shutil.which("npm")
    if npm is None:
        raise SlidesError(
            f"The decks need {wanted} from npm, and npm was not found. Install Node.js and npm "
            f"(Debian/Ubuntu: `apt-get install npm`), then run `{NPM_COMMAND}` in the repository root."
        )
    print(f"slides: installing {wanted} with `{NPM_COMMAND}`", flush=True)
    result = subprocess.run(
        [npm, "ci", "--prefix", str(SLIDES_DIR), "--no-audit", "--no-fund"],
        cwd=config.REPO_ROOT, capture_output=True, text=True, check=False,
    )
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip()[-2000:]
        raise SlidesError(f"`{NPM_COMMAND}` failed (exit {result.returncode}):\n{tail}")
    still = [p for p, v in _locked_versions().items() if _installed_version(p) != v]
    if still:
        raise SlidesError(f"`{NPM_COMMAND}` ran but {', '.join(still)} is still missing.")
    return NODE_MODULES


def _mathjax_ignore(folder: str, names: list[str]) -> set[str]:
    """MathJax 2 files a deck never loads (other fonts and outputs, sources, tests): 70 MB -> 8 MB."""
    here = Path(folder).relative_to(NODE_MODULES / "mathjax").as_posix()
    skip = {"unpacked", "test", "latest.js", "docs", "README.md", "CONTRIBUTING.md"}
    if here == ".":
        return {n for n in names if n in skip}
    if here == "config":  # the one configuration the decks load, and its 'local' hook
        return {n for n in names if n not in {"TeX-AMS_CHTML-full.js", "Safe.js", "local"}}
    if here == "localization":
        return {n for n in names if n != "en"}
    if here in {"fonts/HTML-CSS", "jax/output/CommonHTML/fonts", "jax/output/HTML-CSS/fonts",
                "jax/output/SVG/fonts"}:
        return {n for n in names if n != "TeX"}
    if here == "fonts/HTML-CSS/TeX":
        return {n for n in names if n != "woff"}
    if here == "jax/output":
        return {n for n in names if n not in {"CommonHTML", "PreviewHTML"}}
    return set()


def copy_assets(output: Path, packages: Collection[str] | None = None) -> Path:
    """Copy what the decks load (reveal.js, require.js, jQuery, MathJax), or only ``packages``, to ``output/assets``."""
    target = output / ASSETS
    for package, source, destination in _ASSET_FILES:
        if packages is not None and package not in packages:
            continue
        origin = (NODE_MODULES / package / source).resolve()
        if not origin.exists():
            raise SlidesError(f"{origin} is missing: run `{NPM_COMMAND}`.")
        dest = target / destination
        dest.parent.mkdir(parents=True, exist_ok=True)
        if origin.is_dir():
            ignore = _mathjax_ignore if package == "mathjax" else None
            shutil.copytree(origin, dest, ignore=ignore, dirs_exist_ok=True)
        else:
            shutil.copy2(origin, dest)
    return target


class _AssetParser(HTMLParser):
    """Collects every URL a page would fetch by itself (not links a reader may click)."""

    _URL_IN_SCRIPT = re.compile(r"""["'`]((?:https?:)?//[^"'`\s]+)["'`]""")
    _URL_IN_CSS = re.compile(r"""(?:url\(\s*["']?|@import\s+["'])((?:https?:)?//[^"')\s]+)""")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        fetched = ["src", "data", "poster", "srcset"] + (["href"] if tag == "link" else [])
        for name in fetched:
            if _is_remote(values.get(name, "")):
                self.urls.append(f"<{tag} {name}={values[name]}>")
        self.urls += self._URL_IN_CSS.findall(values.get("style", ""))
        self._in = tag if tag in {"script", "style"} else None

    def handle_endtag(self, tag: str) -> None:
        self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "script":
            self.urls += self._URL_IN_SCRIPT.findall(data)
        elif self._in == "style":
            self.urls += self._URL_IN_CSS.findall(data)


def _is_remote(url: str) -> bool:
    """True for an absolute http(s) or protocol-relative URL."""
    return re.match(r"\s*(https?:)?//", url, flags=re.IGNORECASE) is not None


def remote_urls(page: str) -> list[str]:
    """The network URLs a built page would load by itself (scripts, styles, images, loaders)."""
    parser = _AssetParser()
    parser.feed(page)
    parser.close()
    return parser.urls


# ---------------------------------------------------------------------------------------------
# Executing and converting


def execution_env(fast: bool, checkpoint_dir: Path | None = None) -> dict[str, str]:
    """The environment a lesson runs in for a deck: fast or full mode, inline figures, a model cache."""
    env = dict(os.environ)
    env["COURSE_FAST"] = "1" if fast else "0"
    env["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"  # figures inline, as in Lab
    if checkpoint_dir is not None and "COURSE_CHECKPOINT_DIR" not in os.environ:
        env["COURSE_CHECKPOINT_DIR"] = str(checkpoint_dir)
    return env


def execute_lesson(path: Path, env: dict[str, str], timeout: int = 600) -> NotebookNode:
    """Run every cell of a lesson in a fresh kernel (as JupyterLab would) and return the result."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    nb = nbformat.read(path, as_version=4)
    kernel = nb.metadata.get("kernelspec", {}).get("name", "python3")
    client = NotebookClient(
        nb, timeout=timeout, kernel_name=kernel, store_widget_state=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    try:
        client.execute(env=env, cwd=str(path.parent))
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as error:
        plain = re.sub(r"\x1b\[[0-9;]*m", "", str(error))  # drop the traceback's terminal colours
        raise SlidesError(f"{path.name} failed while running:\n{plain}") from error
    return nb


def slides_exporter() -> SlidesExporter:
    """nbconvert's reveal.js exporter, set up to load every asset from ``assets/``."""
    from nbconvert import SlidesExporter
    from traitlets.config import Config

    c = Config()
    c.SlidesExporter.extra_template_basedirs = [str(TEMPLATE_DIR)]
    c.SlidesExporter.template_name = TEMPLATE_NAME
    c.SlidesExporter.reveal_url_prefix = REVEAL_URL_PREFIX
    c.SlidesExporter.reveal_theme = REVEAL_THEME
    c.SlidesExporter.reveal_transition = "slide"
    c.SlidesExporter.reveal_number = "c/t"
    # no reveal_scroll: the template shrinks a tall slide to fit instead (a projector cannot scroll)
    c.SlidesExporter.reveal_width = "1100"
    c.SlidesExporter.reveal_height = "760"
    c.SlidesExporter.mathjax_url = MATHJAX_URL
    c.SlidesExporter.require_js_url = REQUIRE_JS_URL
    c.SlidesExporter.jquery_url = JQUERY_URL
    c.SlidesExporter.font_awesome_url = ""
    c.SlidesExporter.exclude_input_prompt = True
    c.SlidesExporter.exclude_output_prompt = True
    c.NbConvertBase.display_data_priority = DISPLAY_PRIORITY
    return SlidesExporter(config=c)


def quiz_one_question_per_slide(nb: NotebookNode) -> NotebookNode:
    """A copy of ``nb`` whose static quiz shows its title on one slide and each question on a slide of its own.

    A whole quiz is two or three screens tall; on a projector it would be cut off or shrunk unreadably.
    """
    nb = nbformat.from_dict(nb)
    question = re.compile(rf"<div class='{quiz.QUESTION_CLASS}'>.*?</div>", re.S)
    cells = []
    for cell in nb.cells:
        cells.append(cell)
        for output in cell.get("outputs", []):
            page = output.get("data", {}).get("text/html")
            if not isinstance(page, str) or not question.search(page):
                continue
            questions = question.findall(page)
            output["data"]["text/html"] = question.sub("", page).replace(
                "\n\n", "\n") + f"<p><i>{len(questions)} questions follow, one per slide.</i></p>"
            for html_question in questions:
                extra = nbformat.v4.new_markdown_cell(html_question)
                extra.metadata["slideshow"] = {"slide_type": "subslide"}
                cells.append(extra)
    nb.cells = cells
    return nb


def export_deck(nb: NotebookNode, name: str, output: Path) -> Path:
    """Write one notebook as ``output/<name>.slides.html`` and check it loads nothing remote."""
    nb = quiz_one_question_per_slide(nb)
    nb.metadata["title"] = deck_title(nb, name)
    nb.metadata.pop("widgets", None)  # no live widgets in a deck: their fallbacks are shown
    body, _ = slides_exporter().from_notebook_node(nb, resources={"metadata": {"name": name}})
    # The deck's own slide count, for the index (the committed notebook has no quiz output to split).
    body = body.replace("<head>", f'<head>\n<meta name="{SLIDE_COUNT_META}" content="{slide_count(nb)}">', 1)
    remote = remote_urls(body)
    if remote:
        raise SlidesError(f"The deck for {name} would load from the network: {remote[:5]}")
    path = output / f"{name}.slides.html"
    path.write_text(body, encoding="utf-8")
    return path


def write_index(output: Path, mode: str) -> Path:
    """Write ``output/index.html``: a link to every deck in the folder, and how to present."""
    rows = []
    for deck in sorted(output.glob("[0-9][0-9]_*.slides.html")):
        name = deck.name.removesuffix(".slides.html")
        notebook = NOTEBOOK_DIR / f"{name}.ipynb"
        title, meta = name, ""
        if notebook.is_file():
            nb = nbformat.read(notebook, as_version=4)
            title = deck_title(nb, name)
            counted = re.search(rf'<meta name="{SLIDE_COUNT_META}" content="(\d+)">', deck.read_text(encoding="utf-8"))
            meta = f"{counted[1] if counted else slide_count(nb)} slides, {notes_count(nb)} speaker notes"
        rows.append(f'    <li><a href="{html.escape(deck.name)}">{html.escape(title)}</a>'
                    f' <span class="meta">{meta}</span></li>')
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Autoencoders, hands-on: instructor slides</title>
<style>
  body {{ font-family: system-ui, sans-serif; max-width: 44rem; margin: 3rem auto; line-height: 1.5; }}
  li {{ margin: 0.5rem 0; }}
  .meta, footer {{ color: #666; font-size: 0.9em; }}
  kbd {{ border: 1px solid #aaa; border-radius: 3px; padding: 0 4px; }}
</style>
</head>
<body>
<h1>Autoencoders, hands-on: instructor slides</h1>
<ol>
{chr(10).join(rows)}
</ol>
<p>Keys: <kbd>&rarr;</kbd>/<kbd>space</kbd> next, <kbd>S</kbd> speaker notes,
<kbd>F</kbd> full screen, <kbd>Esc</kbd> overview. Everything loads from this folder:
no network needed.</p>
<footer>Last built {time.strftime("%Y-%m-%d %H:%M")} by <code>python -m course_tools.slides</code>
({mode}).</footer>
</body>
</html>
"""
    path = output / "index.html"
    path.write_text(page, encoding="utf-8")
    return path


@contextmanager
def temporary_checkpoints(fast: bool) -> Iterator[Path | None]:
    """A temporary model cache for a fast build unless one is set; full builds reuse checkpoints/."""
    if not fast or "COURSE_CHECKPOINT_DIR" in os.environ:
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="course-slides-checkpoints-") as folder:
        yield Path(folder)


def build(
    lessons: Sequence[str] | None = None,
    output: Path = DEFAULT_OUTPUT,
    fast: bool = True,
    execute: bool = True,
    timeout: int = 600,
    install: bool = True,
    keep_executed: Path | None = None,
    jobs: int = 1,
) -> list[Deck]:
    """Build the decks of the chosen lessons (all by default) into ``output``, with index.html.

    ``keep_executed``: a folder to save each executed lesson in (the course website can reuse them).
    ``jobs``: lessons run at the same time, sharing the CPU cores (each kernel gets its share of threads).
    """
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1 (lessons run at the same time), got {jobs}.")
    paths = lesson_notebooks(lessons)
    ensure_assets(install=install)
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    copy_assets(output)
    decks: list[Deck] = []
    failures: dict[str, str] = {}
    with temporary_checkpoints(fast) as checkpoints:
        env = execution_env(fast, checkpoints)
        if jobs > 1:  # two kernels with every core each would only get in each other's way
            threads = str(max(1, (os.cpu_count() or 1) // jobs))
            env.update(OMP_NUM_THREADS=threads, MKL_NUM_THREADS=threads)

        def one(path: Path) -> Deck | None:
            try:
                return build_deck(path, output, env, execute, timeout, keep_executed)
            except SlidesError as error:  # one broken lesson must not cost the others their decks
                failures[path.stem] = str(error)
                print(f"slides: error: {path.name}: no deck (details at the end)", file=sys.stderr)
                return None

        with ThreadPoolExecutor(max_workers=jobs) as pool:
            decks = [deck for deck in pool.map(one, paths) if deck is not None]
    write_index(output, ("fast mode" if fast else "full mode") if execute else "not executed")
    if failures:
        raise LessonsFailed(failures, decks)
    return decks


def build_deck(path: Path, output: Path, env: dict[str, str], execute: bool = True,
               timeout: int = 600, keep_executed: Path | None = None) -> Deck:
    """Run one lesson (unless ``execute`` is False) and write its deck into ``output``."""
    started = time.perf_counter()
    nb = execute_lesson(path, env, timeout) if execute else nbformat.read(path, as_version=4)
    if keep_executed is not None:
        Path(keep_executed).mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, Path(keep_executed) / path.name)
    for problem in slide_problems(nb):
        print(f"slides: warning: {path.name}: {problem}", file=sys.stderr)
    deck_path = export_deck(nb, path.stem, output)
    deck = Deck(path.stem, deck_path, deck_title(nb, path.stem), slide_count(quiz_one_question_per_slide(nb)),
                notes_count(nb), time.perf_counter() - started)
    print(f"slides: {deck_path.name}: {deck.slides} slides in {deck.seconds:.0f} s", flush=True)
    return deck


# ---------------------------------------------------------------------------------------------
# PDF handouts


def write_pdf(deck: Path, browser: object) -> Path:
    """Print one built deck to ``<name>.pdf`` beside it: one page per slide, fragments shown, no network.

    ``browser`` is a Playwright Chromium; reveal.js lays the deck out for print with ``?print-pdf``.
    """
    context = browser.new_context()  # type: ignore[attr-defined]
    context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(("file:", "data:"))
                  else route.abort())
    page = context.new_page()
    try:
        page.goto(deck.as_uri() + "?print-pdf")
        page.wait_for_function("() => document.querySelector('.reveal .pdf-page') !== null", timeout=60_000)
        page.wait_for_function("() => !window.MathJax || !MathJax.Hub || MathJax.Hub.queue.pending === 0",
                               timeout=60_000)
        page.evaluate("() => window.courseFitSlides && window.courseFitSlides()")
        page.wait_for_timeout(500)  # let reveal.js lay out the fitted pages again
        pdf = deck.with_name(deck.name.removesuffix(".slides.html") + ".pdf")
        page.pdf(path=str(pdf), prefer_css_page_size=True, print_background=True)
    finally:
        context.close()
    return pdf


def write_pdfs(decks: Sequence[Deck]) -> list[Path]:
    """Print every deck to a PDF handout with headless Chromium (Debian's, or COURSE_CHROMIUM)."""
    if not CHROMIUM.exists():
        raise SlidesError(f"PDF handouts need Chromium at {CHROMIUM}: `apt-get install chromium`, "
                          "or point COURSE_CHROMIUM at a Chromium binary.")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as error:
        raise SlidesError('PDF handouts need Playwright: python -m pip install -e ".[dev]"') from error
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            pdfs = [write_pdf(deck.path, browser) for deck in decks]
        finally:
            browser.close()
    for pdf in pdfs:
        print(f"slides: {pdf.name}: PDF handout", flush=True)
    return pdfs


def _output_problem(output: Path) -> str | None:
    """Why the decks cannot be written to ``output``, or None if they can (the folder is made here)."""
    folder = Path(output).expanduser()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        return f"cannot write decks there ({error.strerror or error}): choose a folder you can write to"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m course_tools.slides [--full] [--lessons 01 02] [--output DIR]``."""
    parser = argparse.ArgumentParser(
        prog="python -m course_tools.slides",
        description="Build the instructor decks (reveal.js, offline) from the lessons.",
    )
    parser.add_argument("--full", action="store_true",
                        help="execute in full mode (COURSE_FAST=0); the default is fast mode")
    parser.add_argument("--lessons", nargs="+", metavar="LESSON",
                        help="only these lessons, by number or name (e.g. 02 or 02_vanilla_autoencoder)")
    parser.add_argument("--no-execute", action="store_true",
                        help="convert the notebooks as saved, without running them (no figures)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT,
                        help=f"where the decks go (default {DEFAULT_OUTPUT.relative_to(config.REPO_ROOT)})")
    parser.add_argument("--timeout", type=int, default=600, help="seconds allowed per cell (default 600)")
    parser.add_argument("--pdf", action="store_true",
                        help="also print each deck to a PDF handout (NN_slug.pdf), with headless Chromium")
    parser.add_argument("--jobs", type=int, default=1,
                        help="lessons run at the same time (default 1; 2 suits a 2-core machine when the "
                             "models are already cached)")
    parser.add_argument("--keep-executed", type=Path, metavar="DIR",
                        help="also save each executed lesson in DIR (for `python -m course_tools.site --executed DIR`)")
    args = parser.parse_args(argv)
    problem = _output_problem(args.output)
    if problem:  # checked before npm and nbconvert spend minutes
        parser.error(f"--output {args.output}: {problem}")
    if args.timeout < 1:
        parser.error("--timeout must be at least 1 second")
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    started = time.perf_counter()
    try:
        decks = build(args.lessons, args.output, fast=not args.full, execute=not args.no_execute,
                      timeout=args.timeout, keep_executed=args.keep_executed, jobs=args.jobs)
        if args.pdf:
            write_pdfs(decks)
    except SlidesError as error:
        print(f"slides: error: {error}", file=sys.stderr)
        return 1
    index = Path(args.output) / "index.html"
    print(f"slides: {len(decks)} decks in {time.perf_counter() - started:.0f} s; open {index}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
