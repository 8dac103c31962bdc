"""The course website: built offline from the lessons, and read in Chromium with the network refused."""

from __future__ import annotations

import functools
import http.server
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest

from course_tools import site, slides

LESSONS = sorted(slides.NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))

pytestmark = pytest.mark.skipif(site._missing("myst_nb") or site._missing("sphinx_book_theme"),
                                reason=f"the site tools are not installed: {site.INSTALL_COMMAND}")


# ---------------------------------------------------------------------------------------------
# (a) the pieces, without a build


def test_full_mode_is_chosen_only_when_full_models_are_cached(tmp_path):
    assert not site.has_full_models(tmp_path)
    (tmp_path / "mlp-2d-abc123-fast.pt").write_bytes(b"")
    assert not site.has_full_models(tmp_path)
    (tmp_path / "mlp-2d-abc123.pt").write_bytes(b"")
    assert site.has_full_models(tmp_path)


def test_a_lesson_page_says_its_mode_links_its_notebook_and_drops_widget_state():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Lesson 9 · Tests\n\n*A one-line summary.*"),
                nbformat.v4.new_code_cell("1 + 1")]
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {}}
    page = site.lesson_page(nb, "09_tests", "fast")
    assert "widgets" not in page.metadata and "widgets" in nb.metadata  # the original is left alone
    assert page.cells[0].source.startswith("# Lesson 9")  # the title stays first: it names the page
    banner = page.cells[1].source
    assert "**fast mode" in banner and "{download}`" in banner and "../downloads/09_tests.ipynb" in banner
    assert site.lesson_subtitle(nb) == "A one-line summary."
    nb.cells[0].source = "# Lesson 9\n\n*A summary wrapped\nover two lines.*\n\nMore text."
    assert site.lesson_subtitle(nb) == "A summary wrapped over two lines."


def test_missing_tools_name_the_install_command(monkeypatch):
    monkeypatch.setattr(site, "_missing", lambda module: module == "myst_nb")
    with pytest.raises(site.SiteError, match=r"myst_nb.*pip install -e \"\.\[site\]\""):
        site.build()


def test_executed_lessons_need_their_mode(tmp_path):
    with pytest.raises(site.SiteError, match="mode='fast' or mode='full'"):
        site.build(executed=tmp_path)


def test_remote_assets_are_found_in_built_pages(tmp_path):
    (tmp_path / "a.html").write_text('<script src="https://cdn.jsdelivr.net/x.js"></script><a href="https://x.org">x</a>')
    (tmp_path / "b.html").write_text('<script src="_static/x.js"></script>')
    found = site.remote_assets(tmp_path)
    assert list(found) == ["a.html"] and "https://cdn.jsdelivr.net/x.js" in found["a.html"][0]


# ---------------------------------------------------------------------------------------------
# (b) the build, from the lessons the decks' build ran in fast mode, with the network switched off


def _offline_prefix() -> list[str]:
    """A command prefix that runs without any network (a fresh namespace, loopback up), or [] if impossible."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return []
    probe = subprocess.run([unshare, "-n", "true"], capture_output=True, check=False)
    return [unshare, "-n"] if probe.returncode == 0 else []


@pytest.fixture(scope="session")
def built_site(build_result, tmp_path_factory) -> tuple[Path, bool]:
    """The site, built by the CLI from the decks' executed lessons; and whether the build had no network."""
    output, _, failures = build_result
    if failures:
        pytest.fail(f"lessons failed to run, so the site cannot be built: {sorted(failures)}", pytrace=False)
    target = tmp_path_factory.mktemp("site")
    prefix = _offline_prefix()
    command = [sys.executable, "-m", "course_tools.site", "--mode", "fast", "--executed", str(output / "executed"),
               "--output", str(target)]
    result = subprocess.run(prefix + command, capture_output=True, text=True, check=False, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    return target / "html", bool(prefix)


def test_the_build_needs_no_network(built_site):
    html_dir, offline = built_site
    if not offline:
        pytest.skip("`unshare -n` is not available here, so the build ran with the network on")
    assert (html_dir / "index.html").is_file()


def test_every_lesson_has_a_page_a_row_and_a_clean_notebook_to_download(built_site):
    html_dir, _ = built_site
    index = (html_dir / "index.html").read_text()
    for lesson in LESSONS:
        page = html_dir / "lessons" / f"{lesson.stem}.html"
        assert page.is_file(), page
        assert f'href="lessons/{lesson.stem}.html"' in index
        text = page.read_text()
        assert "fast mode" in text
        downloads = list(html_dir.glob(f"_downloads/*/{lesson.name}"))
        assert len(downloads) == 1 and downloads[0].name in text
        nb = nbformat.read(downloads[0], as_version=4)
        assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code"), "the download has outputs"
    assert site.remote_assets(html_dir) == {}


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    """A static file server that does not log every request."""

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base class's name)
        """Log nothing."""


@pytest.fixture(scope="session")
def served_site(built_site) -> Iterator[str]:
    """The built site on a local web server (as GitHub Pages would serve it; search needs http)."""
    html_dir, _ = built_site
    handler = functools.partial(_QuietHandler, directory=str(html_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


#: Resolves once MathJax 2 has typeset the page: how many formulas it drew, and how many failed.
TYPESET = """() => new Promise(done => MathJax.Hub.Queue(() => done({
    formulas: document.querySelectorAll('.MathJax_CHTML').length,
    mathErrors: document.querySelectorAll('.MathJax_Error').length,
})))"""


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_lesson_page_renders_offline_with_figures_and_math(served_site, browser, lesson, refuse_network):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    refused = refuse_network(context, (served_site, "file://", "data:"))
    failed: list[str] = []
    errors: list[str] = []
    page = context.new_page()
    page.on("requestfailed", lambda r: failed.append(r.url))
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(f"{served_site}/lessons/{lesson.stem}.html")
        page.wait_for_function("() => window.MathJax && MathJax.Hub && MathJax.isReady", timeout=60_000)
        math = page.evaluate(TYPESET)
        seen = page.evaluate("""() => {
            const images = [...document.querySelectorAll('article img')];
            return {
                images: images.length,
                broken: images.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src.slice(0, 80)),
                folded: document.querySelectorAll('article details').length,
                mode: document.querySelector('article .admonition').innerText,
            };
        }""")
    finally:
        context.close()
    assert seen["images"] >= 3 and not seen["broken"], seen
    assert math["formulas"] >= 1 and math["mathErrors"] == 0, math
    assert seen["folded"] >= 1, "no folded quiz answers or solutions on the page"
    assert "fast mode" in seen["mode"], seen["mode"]
    assert not refused, f"requests to the network: {refused}"
    assert not failed, f"local files that failed to load: {failed}"
    assert not errors, f"JavaScript errors: {errors}"


def test_search_finds_a_word_from_lesson_3_offline(served_site, browser, refuse_network):
    lesson_3 = next(p.stem for p in LESSONS if p.stem.startswith("03_"))
    context = browser.new_context()
    refused = refuse_network(context, (served_site, "file://", "data:"))
    errors: list[str] = []
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(f"{served_site}/search.html?q=perplexity")
        page.wait_for_selector("ul.search li", timeout=30_000)
        links = page.eval_on_selector_all("ul.search li a", "links => links.map(a => a.getAttribute('href'))")
    finally:
        context.close()
    assert any(lesson_3 in link for link in links), links
    assert not refused, f"requests to the network: {refused}"
    assert not errors, f"JavaScript errors: {errors}"


def test_slides_build_keeps_the_executed_lessons(build_result):
    output, decks, _ = build_result
    assert sorted(p.stem for p in (output / "executed").glob("*.ipynb")) == sorted(decks)
