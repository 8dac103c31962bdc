"""Instructor decks: every lesson has slides, the build works offline, and Chromium shows them."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from course_tools import slides

#: The deck's reveal.js object: loaded through require.js (AMD), so it is not a global.
REVEAL = f"require('{slides.REVEAL_URL_PREFIX}/dist/reveal.js')"

LESSONS = sorted(slides.NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def _cell(source: str, cell_type: str = "markdown", slide_type: str | None = None) -> dict:
    metadata = {"slideshow": {"slide_type": slide_type}} if slide_type else {}
    return {"cell_type": cell_type, "source": source, "metadata": metadata}


def _notebook(*cells: dict) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    for cell in cells:
        maker = nbformat.v4.new_markdown_cell if cell["cell_type"] == "markdown" else nbformat.v4.new_code_cell
        nb.cells.append(maker(cell["source"], metadata=cell["metadata"]))
    return nb


# ---------------------------------------------------------------------------------------------
# (a) every lesson is marked up as a deck


def test_there_are_lessons_to_present():
    assert LESSONS, f"no NN_slug.ipynb lessons in {slides.NOTEBOOK_DIR}"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_lesson_has_slides_notes_and_no_empty_slide(path):
    nb = _read(path)
    types = [slides.slide_type(cell) for cell in nb.cells]
    starts = sum(t in slides.SLIDE_STARTS for t in types)
    assert starts >= slides.MIN_SLIDES, f"{path.name}: {starts} slide/subslide cells, want >= {slides.MIN_SLIDES}"
    assert types.count("notes") >= 1, f"{path.name}: no cell with slide type 'notes' (speaker notes)"
    empty = [i for i, (cell, t) in enumerate(zip(nb.cells, types))
             if t in slides.SLIDE_STARTS and cell.cell_type == "markdown" and not cell.source.strip()]
    assert not empty, f"{path.name}: empty Markdown cells start a slide: cells {empty}"
    assert slides.slide_problems(nb) == []


# ---------------------------------------------------------------------------------------------
# Unit tests of the helpers the build relies on


def test_slide_count_follows_nbconvert_grouping():
    nb = _notebook(
        _cell("hidden setup", "code", "skip"),
        _cell("said aloud", slide_type="notes"),
        _cell("# Title"),  # first visible cell: nbconvert makes it a slide whatever its type
        _cell("more of the title", slide_type="fragment"),
        _cell("## Part 1", slide_type="slide"),
        _cell("print(1)", "code"),
        _cell("### Detail", slide_type="subslide"),
        _cell("x = 1", "code", "skip"),
        _cell("## Part 2", slide_type="slide"),
    )
    assert slides.slide_count(nb) == 4
    assert slides.notes_count(nb) == 1
    assert slides.deck_title(nb, "fallback") == "Title"


def test_slide_problems_name_what_is_missing():
    nb = _notebook(_cell("# Only slide", slide_type="slide"), _cell("   ", slide_type="subslide"))
    problems = slides.slide_problems(nb)
    assert any("only 2 slides" in p for p in problems)
    assert any("speaker notes" in p for p in problems)
    assert any("cell 1 starts a subslide but is empty" in p for p in problems)


def test_remote_urls_finds_cdn_assets_but_not_links():
    page = """<html><head>
    <script src="https://cdnjs.cloudflare.com/ajax/libs/require.js/2.1.10/require.min.js"></script>
    <link rel="stylesheet" href="//unpkg.com/reveal.js@4.0.2/dist/reveal.css">
    <style>@import url(https://fonts.googleapis.com/css?family=Lato);</style>
    <script>require(["https://unpkg.com/reveal.js@4.0.2/dist/reveal.js"], function () {});
    // see https://revealjs.com for options (a comment, not a load)</script>
    </head><body><a href="https://pytorch.org">PyTorch</a><img src="data:image/png;base64,AAAA">
    <script src="assets/require.js"></script></body></html>"""
    found = slides.remote_urls(page)
    assert len(found) == 4, found
    assert not any("pytorch.org" in url or "revealjs.com" in url for url in found)


def test_lessons_are_picked_by_number_or_name(tmp_path):
    for name in ("01_first", "02_second", "10_tenth"):
        (tmp_path / f"{name}.ipynb").write_text("{}")
    (tmp_path / "scratch.ipynb").write_text("{}")
    assert [p.stem for p in slides.lesson_notebooks(None, tmp_path)] == ["01_first", "02_second", "10_tenth"]
    assert [p.stem for p in slides.lesson_notebooks(["2", "10_tenth", "first"], tmp_path)] == [
        "02_second", "10_tenth", "01_first"]
    with pytest.raises(slides.SlidesError, match="No lesson matches '7'"):
        slides.lesson_notebooks(["7"], tmp_path)


def test_missing_npm_gives_the_command_to_run(monkeypatch):
    monkeypatch.setattr(slides, "_installed_version", lambda package: None)
    monkeypatch.setattr(slides.shutil, "which", lambda name: None)
    with pytest.raises(slides.SlidesError, match=r"npm was not found.*npm ci --prefix slides"):
        slides.ensure_assets()


def test_a_failing_lesson_names_itself_and_its_error(tmp_path):
    path = tmp_path / "09_broken.ipynb"
    nbformat.write(_notebook(_cell("# Broken", slide_type="slide"), _cell("raise ValueError('boom')", "code")), path)
    with pytest.raises(slides.SlidesError, match=r"09_broken.ipynb failed while running") as caught:
        slides.build_deck(path, tmp_path, slides.execution_env(fast=True), timeout=120)
    assert "ValueError: boom" in str(caught.value)
    assert "\x1b[" not in str(caught.value), "terminal colour codes left in the message"
    assert not list(tmp_path.glob("*.slides.html"))


# ---------------------------------------------------------------------------------------------
# (b) the build, once per session, in fast mode


@pytest.fixture
def built(build_result, request) -> tuple[Path, dict[str, slides.Deck]]:
    """The build's folder and decks; fails a lesson's test with the reason it has no deck."""
    output, decks, failures = build_result
    path = getattr(request.node, "callspec", None) and request.node.callspec.params.get("path")
    if path is not None and path.stem in failures:
        pytest.fail(f"{path.stem} has no deck: {failures[path.stem]}", pytrace=False)
    return output, decks


def test_build_writes_every_deck_and_an_index(build_result):
    output, decks, failures = build_result
    assert not failures, "\n\n".join(f"{name}: {why}" for name, why in failures.items())
    assert sorted(decks) == [p.stem for p in LESSONS]
    index = (output / "index.html").read_text()
    for name, deck in decks.items():
        assert deck.path == output / f"{name}.slides.html" and deck.path.is_file()
        assert f'href="{name}.slides.html"' in index
    for asset in ("reveal.js/dist/reveal.js", "reveal.js/plugin/notes/notes.js", "require.js",
                  "jquery.min.js", "mathjax/MathJax.js", "mathjax/config/TeX-AMS_CHTML-full.js"):
        assert (output / slides.ASSETS / asset).is_file(), asset


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_deck_loads_nothing_from_the_network(built, path):
    output, _ = built
    page = (output / f"{path.stem}.slides.html").read_text()
    assert slides.remote_urls(page) == []
    for cdn in ("unpkg.com", "cdnjs.cloudflare.com", "cdn.jsdelivr.net", "fonts.googleapis.com"):
        assert cdn not in page, f"{cdn} is still named in {path.stem}.slides.html"
    assert slides.remote_urls((output / "index.html").read_text()) == []


# ---------------------------------------------------------------------------------------------
# (c) each deck in headless Chromium, with the network refused


def _open_deck(page, deck: Path) -> None:
    """Open a built deck and wait until reveal.js is ready and MathJax has typeset it."""
    page.goto(deck.as_uri())
    page.wait_for_function(f"() => {{ try {{ return {REVEAL}.isReady(); }} catch (e) {{ return false; }} }}",
                           timeout=30_000)
    page.wait_for_function("() => window.MathJax && MathJax.Hub && MathJax.Hub.queue.pending === 0", timeout=30_000)


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_deck_presents_offline_in_chromium(built, browser, path, tmp_path, refuse_network):
    _, decks = built
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    refused = refuse_network(context)
    missing: list[str] = []
    errors: list[str] = []
    page = context.new_page()
    page.on("request", lambda r: None if r.url.startswith(("file://", "data:")) else refused.append(r.url))
    page.on("requestfailed", lambda r: missing.append(r.url))
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        _open_deck(page, decks[path.stem].path)
        seen = page.evaluate(f"""() => {{
            const reveal = {REVEAL};
            return {{
                slides: reveal.getTotalSlides(),
                notesPlugin: reveal.hasPlugin('notes'),
                notes: document.querySelectorAll('aside.notes').length,
                formulas: document.querySelectorAll('.MathJax_CHTML, mjx-container').length,
                mathErrors: document.querySelectorAll('.MathJax_Error, .mjx-merror').length,
                figures: document.querySelectorAll('img[src^="data:image/png"]').length,
            }};
        }}""")
        page.screenshot(path=str(tmp_path / f"{path.stem}-first.png"))
        middle = page.evaluate(f"""() => {{
            const reveal = {REVEAL};
            reveal.configure({{ transition: 'none' }});
            const all = reveal.getSlides();
            const where = reveal.getIndices(all[Math.floor(all.length / 2)]);
            reveal.slide(where.h, where.v);
            return reveal.getSlidePastCount() + 1;
        }}""")
        page.wait_for_timeout(300)
        page.screenshot(path=str(tmp_path / f"{path.stem}-middle.png"))
    finally:
        context.close()

    # The deck's own counts were taken from the very notebook it was built from, by
    # slides.slide_count (nbconvert's grouping: slides plus subslides).
    deck = decks[path.stem]
    assert seen["slides"] == deck.slides >= slides.MIN_SLIDES
    assert seen["notesPlugin"] and seen["notes"] == deck.notes >= 1
    assert seen["formulas"] >= 1 and seen["mathErrors"] == 0, seen
    assert seen["figures"] >= 1, "no embedded PNG figure in the deck"
    assert middle == seen["slides"] // 2 + 1
    assert (tmp_path / f"{path.stem}-first.png").stat().st_size > 10_000
    assert (tmp_path / f"{path.stem}-middle.png").stat().st_size > 10_000
    assert not refused, f"requests to the network: {refused}"
    assert not missing, f"local files that failed to load: {missing}"
    assert not errors, f"JavaScript errors: {errors}"


def test_speaker_view_shows_the_notes_offline(built, browser, refuse_network):
    _, decks = built
    context = browser.new_context()
    refused = refuse_network(context)
    page = context.new_page()
    try:
        assert decks, "no deck was built"
        page.goto(decks[min(decks)].path.as_uri())
        page.wait_for_function(f"() => {{ try {{ return {REVEAL}.isReady(); }} catch (e) {{ return false; }} }}",
                               timeout=30_000)
        # Go to the slide that holds the first notes cell, then press S as an instructor would.
        written = page.evaluate(f"""() => {{
            const reveal = {REVEAL};
            const notes = document.querySelector('aside.notes');
            const where = reveal.getIndices(notes.closest('section'));
            reveal.slide(where.h, where.v);
            return notes.textContent;
        }}""")
        with page.expect_popup(timeout=10_000) as popup:
            page.keyboard.press("s")
        speaker = popup.value
        speaker.wait_for_function(
            "() => { const n = document.querySelector('.speaker-controls-notes');"
            " return n && n.innerText.trim().length > 'NOTES'.length; }", timeout=10_000)
        shown = speaker.inner_text(".speaker-controls-notes")
    finally:
        context.close()
    first_words = " ".join(written.split()[:6])
    assert first_words and first_words in " ".join(shown.split()), (first_words, shown)
    assert not refused, f"requests to the network: {refused}"


#: Steps through every slide (with every fragment shown), waits for the template to fit each, and records
#: how far its lowest visible element reaches (in the window's pixels), the scale it was fitted at, and its
#: title. It runs inside the page and leaves its result in ``window.courseFitMeasured``, so that two pages
#: (the two screen sizes) measure at the same time, one per core.
_MEASURE_DECK = f"""async () => {{
    const reveal = {REVEAL};
    // once, not per slide: configure() lays out the whole deck again
    reveal.configure({{ transition: 'none', backgroundTransition: 'none' }});
    const measured = [];
    for (const slide of reveal.getSlides()) {{
        const where = reveal.getIndices(slide);
        reveal.slide(where.h, where.v, 1e6);
        // The template queues its fitting behind MathJax's typesetting: wait until that queue has run.
        await new Promise(done => MathJax.Hub.Queue(done));
        let bottom = 0;
        for (const element of slide.querySelectorAll('*')) {{
            if (element.closest('aside.notes')) continue;
            const box = element.getBoundingClientRect();
            if (box.width > 0 && box.height > 0) bottom = Math.max(bottom, box.bottom);
        }}
        const heading = slide.querySelector('h1, h2, h3, h4, p');
        measured.push({{ where: `${{where.h}}.${{where.v}}`, bottom: Math.round(bottom),
                         scale: slide.dataset.fitScale, title: heading ? heading.innerText.slice(0, 60) : '',
                         drawn: slide.querySelectorAll('.MathJax_CHTML').length,
                         formulas: slide.querySelectorAll('script[type^="math/tex"]').length }});
    }}
    window.courseFitMeasured = measured;
}}"""
SCREENS = {"1280x720": (1280, 720), "1920x1080": (1920, 1080)}


@pytest.fixture(scope="module")
def fit_measurements(build_result, browser, refuse_network) -> dict[tuple[str, str], list[dict]]:
    """Every slide of every deck measured at each screen size; keyed by (lesson, size)."""
    _, decks, _ = build_result
    results: dict[tuple[str, str], list[dict]] = {}
    for name, deck in decks.items():
        pages = {}
        contexts = []
        try:
            for size, (width, height) in SCREENS.items():
                context = browser.new_context(viewport={"width": width, "height": height})
                contexts.append(context)
                refuse_network(context)
                pages[size] = context.new_page()
                _open_deck(pages[size], deck.path)
                pages[size].evaluate(f"() => {{ ({_MEASURE_DECK})(); }}")  # starts it; does not wait
            for size, page in pages.items():
                page.wait_for_function("() => window.courseFitMeasured !== undefined", timeout=300_000)
                results[(name, size)] = page.evaluate("() => window.courseFitMeasured")
        finally:
            for context in contexts:
                context.close()
    return results


@pytest.mark.parametrize("size", list(SCREENS), ids=list(SCREENS))
@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_every_slide_fits_the_screen(built, fit_measurements, path, size):
    """At a projector's 1280x720 and at full HD, no slide's content runs past the bottom edge."""
    width, height = SCREENS[size]
    measured = fit_measurements[(path.stem, size)]
    count = len(measured)
    assert all(m["scale"] is not None for m in measured), "the template's fitting did not run"
    doubled = [m["where"] for m in measured if m["drawn"] > m["formulas"]]
    assert not doubled, f"slides whose formulas MathJax drew twice: {doubled}"
    cut = [m for m in measured if m["bottom"] > height]
    assert not cut, (f"{len(cut)} of {count} slides run past the bottom edge at {width}x{height} even after shrinking "
                     "(split them in the notebook): " + "; ".join(
                         f"slide {m['where']} '{m['title']}' reaches {m['bottom']} px at scale {m['scale']}"
                         for m in cut))


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_pdf_handout_has_one_page_per_slide(built, browser, path):
    from pypdf import PdfReader

    _, decks = built
    pdf = slides.write_pdf(decks[path.stem].path, browser)
    pages = PdfReader(pdf).pages
    assert len(pages) == decks[path.stem].slides
    assert pages[0].extract_text().strip(), "the first page has no text"
    width, height = float(pages[0].mediabox.width), float(pages[0].mediabox.height)
    assert width > height, "a slide page should be landscape"


def test_pdf_option_needs_chromium(monkeypatch, tmp_path):
    monkeypatch.setattr(slides, "CHROMIUM", tmp_path / "no-chromium")
    with pytest.raises(slides.SlidesError, match="PDF handouts need Chromium.*apt-get install chromium"):
        slides.write_pdfs([])
