"""Every lesson in real JupyterLab, driven by headless Chromium: it runs, its quiz answers, its sliders move.

A session-wide JupyterLab serves a temporary copy of ``notebooks/`` on 127.0.0.1 (fast mode, the test
session's model cache, no news or update checks). For each lesson, Playwright opens it, runs all cells from
the Run menu, saves it, and then the tests below click and slide as a student would; the next lesson is
already running beside it, in a page and kernel of its own. Screenshots
of each quiz and widget land in the pytest temporary folder (the path is printed). A notebook
written by the test, ``widget_gallery``, puts every course widget and a quiz through the same checks,
whether or not a lesson uses them yet.

Set ``COURSE_CHROMIUM`` to use another Chromium binary and ``COURSE_BROWSER_LESSON_TIMEOUT``
(seconds, default 1200: generous, for shared CI machines) to change how long Run All may take.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import pytest

from course_tools.slides import CHROMIUM
from course_utils import config, quiz

if not CHROMIUM.exists():
    pytest.skip(
        f"no Chromium at {CHROMIUM}: install it (apt-get install chromium chromium-driver) "
        "or point COURSE_CHROMIUM at a Chromium binary",
        allow_module_level=True,
    )
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is missing: pip install -e '.[dev]'")

LESSONS = sorted((config.REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
#: A notebook written for this test: every course widget and a quiz, whether or not a lesson uses them yet.
GALLERY = Path("widget_gallery.ipynb")
GALLERY_CELLS = [
    "import torch\nfrom course_utils import models, quiz, widgets\n\n"
    "torch.manual_seed(0)\nmodel = models.MLPAutoencoder(2)  # untrained: any decoder will do",
    "widgets.latent_explorer(model, [(-3, 3), (-3, 3)]);",
    'widgets.InterpolationSlider(model.decode, [-3.0, -3.0], [3.0, 3.0], labels=("one corner", "the other")).show()',
    "with torch.no_grad():\n"
    "    results = {beta: model.decode(torch.randn(8, 2) * (1 + beta)) for beta in (0.0, 1.0, 4.0)}\n"
    'widgets.BetaSlider(results, caption="eight decoded codes per beta").show()',
    "widgets.ThresholdSlider(torch.rand(200), torch.rand(100) + 0.5, start=0.9).show()",
    'quiz.Quiz.load(sorted(p.stem for p in quiz.BANK_DIR.glob("*.json"))[0]).show()',
]
LESSON_TIMEOUT_S = float(os.environ.get("COURSE_BROWSER_LESSON_TIMEOUT", "1200"))
#: CSS classes of the course's interactive widgets; every lesson must show at least one.
WIDGET_CLASSES = ("course-latent-explorer", "course-interpolation", "course-beta-slider",
                  "course-threshold-slider", "course-class-generator")
#: JupyterLab user settings: no news or update pop-ups, and every cell kept in the DOM.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                         "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}
#: True once the open notebook is loaded and its kernel is idle (needs --LabApp.expose_app_in_browser).
NOTEBOOK_READY_JS = """() => {
  const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const kernel = panel && panel.sessionContext && panel.sessionContext.session && panel.sessionContext.session.kernel;
  return Boolean(panel && panel.context && panel.context.isReady && kernel && kernel.status === 'idle');
}"""
#: The open notebook's code cells (execution count, queued or running), kernel status and error outputs.
NOTEBOOK_STATE_JS = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const cells = panel.content.widgets.filter(cell => cell.model.type === 'code');
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  const errors = [];
  cells.forEach((cell, i) => {
    for (const output of cell.model.outputs.toJSON()) {
      if (output.output_type === 'error') errors.push(`code cell ${i + 1}: ${output.ename}: ${output.evalue}`);
    }
  });
  return {counts: cells.map(cell => cell.model.executionCount),
          running: cells.map(cell => cell.model.executionState === 'running'),
          status: kernel ? kernel.status : null, errors};
}"""
#: Text of outputs a student would read as a failure: tracebacks on stderr, widgets that cannot draw.
TRACEBACKS_JS = """() => {
  const panel = window.jupyterapp.shell.currentWidget.node;
  return [
    ...[...panel.querySelectorAll('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')]
      .map(e => e.textContent).filter(text => text.includes('Traceback')),
    ...[...panel.querySelectorAll('.jp-OutputArea-output')]
      .map(e => e.textContent).filter(text => text.includes('Error displaying widget')),
  ];
}"""
#: The bytes behind an <img> (a blob: or data: URL), base64-encoded; null while the URL is being swapped.
IMAGE_BYTES_JS = """async (img) => {
  try {
    const buffer = new Uint8Array(await (await fetch(img.src)).arrayBuffer());
    let text = '';
    for (let i = 0; i < buffer.length; i++) text += String.fromCharCode(buffer[i]);
    return btoa(text);
  } catch (e) { return null; }
}"""


# --- JupyterLab and the browser -------------------------------------------------------------


@dataclass
class Lab:
    """A running JupyterLab: its address, token, served folder and log."""

    url: str
    token: str
    root: Path
    log: Path
    process: subprocess.Popen

    def api(self, method: str, path: str) -> Any:
        """Call the server's REST API with the token; the decoded JSON reply (None if empty)."""
        request = urllib.request.Request(f"{self.url}{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=10) as reply:
            body = reply.read()
        return json.loads(body) if body else None

    def log_tail(self, lines: int = 40) -> str:
        """The end of the server log, for failure messages."""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def _free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """JupyterLab serving a temporary copy of the lessons, stopped (with its kernels) at the end."""
    base = tmp_path_factory.mktemp("jupyterlab")
    root = base / "repo"
    shutil.copytree(config.REPO_ROOT / "notebooks", root / "notebooks",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    settings = base / "settings"
    for name, values in LAB_SETTINGS.items():
        (settings / name).parent.mkdir(parents=True, exist_ok=True)
        (settings / name).write_text(json.dumps(values))
    gallery = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in GALLERY_CELLS])
    gallery.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(gallery, root / "notebooks" / GALLERY.name)
    for folder in ("checkpoints", "figures", "jupyter-config", "runtime", "workspaces"):
        (base / folder).mkdir()
    # conftest's session model cache is shared, so a lesson's models are trained once per test run.
    checkpoints = os.environ.get("COURSE_CHECKPOINT_DIR", str(base / "checkpoints"))
    # Two lessons run at a time (see ``lesson``): each kernel gets its share of the cores, since two kernels
    # with a thread per core each spin-wait against each other and both run several times slower.
    threads = str(max(1, (os.cpu_count() or 1) // 2))
    env = dict(os.environ, COURSE_FAST="1", CUDA_VISIBLE_DEVICES="",
               OMP_NUM_THREADS=threads, MKL_NUM_THREADS=threads,
               COURSE_CHECKPOINT_DIR=checkpoints,
               JUPYTER_CONFIG_DIR=str(base / "jupyter-config"), JUPYTER_RUNTIME_DIR=str(base / "runtime"))
    port, token = _free_port(), secrets.token_hex(16)
    command = [
        sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
        "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly", "--LabApp.expose_app_in_browser=True",
        f"--LabApp.user_settings_dir={settings}", f"--LabApp.workspaces_dir={base / 'workspaces'}",
    ]
    log = base / "jupyterlab.log"
    with log.open("w") as sink:
        process = subprocess.Popen(command, cwd=root, env=env, stdout=sink, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    server = Lab(f"http://127.0.0.1:{port}", token, root, log, process)
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                pytest.fail(f"JupyterLab exited with status {process.returncode}:\n{server.log_tail()}")
            try:
                server.api("GET", "/api/status")
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not answer /api/status within 120 s:\n{server.log_tail()}")
                time.sleep(0.5)
        yield server
    finally:
        process.terminate()  # SIGTERM: the server shuts its kernels down, then exits
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # its own session: the server and its kernels
            process.wait()


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Folder for the screenshots of quizzes and widgets (debugging aid)."""
    folder = tmp_path_factory.mktemp("browser-screenshots")
    print(f"\nbrowser screenshots: {folder}")
    return folder


# --- one lesson, run in the browser ---------------------------------------------------------


@dataclass
class RanLesson:
    """A lesson opened in JupyterLab after Run All, and what was recorded on the way."""

    name: str
    page: Any
    saved: nbformat.NotebookNode
    seconds: dict[str, float]
    page_errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)


def _click_menu(page: Any, menu: str, item: str) -> None:
    """Click a top menu, then one of its items (both by their exact labels)."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{re.escape(menu)}$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(item)}$")).first.click()


def _wait_for_run_all(page: Any, name: str, timeout: float) -> None:
    """Wait until Run All has given every code cell an execution count and the kernel is idle."""
    deadline, stopped_polls = time.monotonic() + timeout, 0
    while True:
        state = page.evaluate(NOTEBOOK_STATE_JS)
        unrun = [i + 1 for i, count in enumerate(state["counts"]) if count is None]
        busy = any(state["running"]) or state["status"] != "idle"
        if not unrun and not busy:
            return
        # Run All stops at the first error: nothing queued, kernel idle, cells left unrun.
        stopped_polls = 0 if busy else stopped_polls + 1
        if stopped_polls >= 5:
            errors = "\n".join(state["errors"]) or "(no error output)"
            pytest.fail(f"{name}: execution stopped; code cells {unrun[:10]} never ran:\n{errors}")
        if time.monotonic() > deadline:
            pytest.fail(f"{name}: code cells {unrun[:10]}... not run after {timeout:.0f} s (kernel {state['status']}).")
        time.sleep(1)


def _save_and_read(page: Any, path: Path) -> nbformat.NotebookNode:
    """Save the open notebook (Ctrl+S) and return the saved file once it holds the outputs."""
    before = path.stat().st_mtime_ns
    page.keyboard.press("Escape")
    page.keyboard.press("Control+s")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if path.stat().st_mtime_ns != before:
            try:
                notebook = nbformat.reads(path.read_text(encoding="utf-8"), as_version=4)
            except (json.JSONDecodeError, nbformat.reader.NotJSONError):  # caught mid-write
                notebook = None
            if notebook and any(c.get("outputs") for c in notebook.cells):
                return notebook
        time.sleep(0.5)
    pytest.fail(f"JupyterLab did not save {path.name} with its outputs within 60 s.")


@dataclass
class _Run:
    """A lesson opened in its own browser context, with Run All Cells clicked (maybe still running)."""

    path: Path
    context: Any
    ran: RanLesson
    started: float
    opened: float


def _start_run(path: Path, lab: Lab, browser: Any) -> _Run:
    """Open a lesson in a fresh browser context and click Run All Cells; do not wait for it."""
    context = browser.new_context(viewport={"width": 1280, "height": 2400})
    page = context.new_page()
    ran = RanLesson(path.stem, page, nbformat.v4.new_notebook(), {})
    page.on("pageerror", lambda error: ran.page_errors.append(str(error)))
    page.on("console", lambda m: ran.console_errors.append(m.text) if m.type == "error" else None)
    started = time.perf_counter()
    # A workspace of its own, so JupyterLab restores no earlier lesson (and starts no kernel for it).
    page.goto(f"{lab.url}/lab/workspaces/{path.stem}/tree/notebooks/{path.name}?token={lab.token}")
    page.wait_for_function(NOTEBOOK_READY_JS, timeout=120_000)
    opened = time.perf_counter()
    _click_menu(page, "Run", "Run All Cells")
    return _Run(path, context, ran, started, opened)


@pytest.fixture(scope="module")
def runs_ahead(lab: Lab, browser: Any) -> Iterator[dict[str, _Run]]:
    """Lessons already running in the background while the tests click through the one before them."""
    ahead: dict[str, _Run] = {}
    yield ahead
    for run in ahead.values():
        run.context.close()


@pytest.fixture(scope="module", params=[*LESSONS, GALLERY], ids=[p.stem for p in [*LESSONS, GALLERY]])
def lesson(request: pytest.FixtureRequest, lab: Lab, browser: Any, screenshots: Path,
           runs_ahead: dict[str, _Run]) -> Iterator[RanLesson]:
    """One lesson after Run All Cells in fast mode, saved; its kernel is shut down afterwards.

    The next lesson is opened and started as soon as this one is, so that two kernels share the cores
    (most of a lesson's time is single-threaded Python and drawing) and this lesson's clicks and slides
    overlap the next one's run.
    """
    path: Path = request.param
    # the lessons this session will run, in order (``-k`` may have deselected some)
    order = list(dict.fromkeys(item.callspec.params["lesson"] for item in request.session.items
                               if item.path == request.path  # other modules have "lesson" parameters too
                               and "lesson" in getattr(getattr(item, "callspec", None), "params", {})))
    run = runs_ahead.pop(path.stem, None) or _start_run(path, lab, browser)
    following = order[order.index(path) + 1:]
    if following and following[0].stem not in runs_ahead:
        runs_ahead[following[0].stem] = _start_run(following[0], lab, browser)
    ran, page = run.ran, run.ran.page
    try:
        try:
            _wait_for_run_all(page, path.stem, LESSON_TIMEOUT_S)
            finished = time.perf_counter()
            ran.saved = _save_and_read(page, lab.root / "notebooks" / path.name)
        except BaseException:  # pytest.fail too: keep a picture of the page
            page.screenshot(path=screenshots / f"{path.stem}-failed-run.png")
            raise
        ran.seconds = {"open": run.opened - run.started, "run_all": finished - run.opened}
        beside = f" ({following[0].stem} running beside it)" if following else ""
        print(f"\n{path.stem}: opened in {ran.seconds['open']:.1f} s, ran all cells in {ran.seconds['run_all']:.1f} s"
              + beside)
        yield ran
    finally:
        seconds = time.perf_counter() - run.started
        print(f"\n{path.stem}: {seconds:.1f} s in the browser in all (open, run, save, checks)")
        if ran.console_errors:
            print(f"{path.stem}: browser console errors (not failures): {ran.console_errors[:5]}")
        run.context.close()
        for session in lab.api("GET", "/api/sessions"):  # free the CPU for the lessons still running
            if session.get("path", "").endswith(path.name):
                lab.api("DELETE", f"/api/sessions/{session['id']}")


# --- what a student sees ----------------------------------------------------------------------


def test_every_cell_ran_without_an_error(lesson: RanLesson) -> None:
    """No error output in the page, and none in the saved notebook."""
    shown = lesson.page.evaluate(TRACEBACKS_JS)
    assert not shown, f"{lesson.name} shows errors:\n" + "\n".join(shown)[-3000:]
    errors = lesson.page.evaluate(NOTEBOOK_STATE_JS)["errors"]
    assert not errors, f"{lesson.name} has error outputs: {errors}"
    saved_errors = [f"{o.get('ename')}: {o.get('evalue')}" for cell in lesson.saved.cells
                    for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    assert not saved_errors, f"{lesson.name} saved error outputs: {saved_errors}"


#: Every drawn output image in the page, and how many of them the browser decoded.
DRAWN_IMAGES_JS = """() => {
  const images = [...window.jupyterapp.shell.currentWidget.node.querySelectorAll('.jp-RenderedImage img')];
  return {all: images.length, decoded: images.filter(i => i.complete && i.naturalWidth > 0).length};
}"""
#: Fewest figures a lesson shows (lesson 2 alone has a dozen); the widget gallery has none.
MIN_FIGURES = 5


def test_every_figure_is_drawn_in_the_page(lesson: RanLesson) -> None:
    """Each PNG figure the lesson produced is on the page, decoded by the browser."""
    produced = sum("image/png" in output.get("data", {}) for cell in lesson.saved.cells
                   for output in cell.get("outputs", []))
    drawn = lesson.page.evaluate(DRAWN_IMAGES_JS)
    assert drawn["all"] == produced, f"{lesson.name}: {produced} figures in the notebook, {drawn['all']} on the page"
    assert drawn["decoded"] == drawn["all"], f"{lesson.name}: some figures did not load: {drawn}"
    if lesson.name != GALLERY.stem:
        assert produced >= MIN_FIGURES, f"{lesson.name} shows only {produced} figures"


def _bank_for(title: str) -> dict[str, Any]:
    """The quiz bank whose title the widget shows."""
    banks = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(quiz.BANK_DIR.glob("*.json"))]
    matches = [bank for bank in banks if bank["title"] == title]
    assert matches, f"no bank in {quiz.BANK_DIR} has the title {title!r}"
    return matches[0]


def _right_and_wrong(question: quiz.Question) -> tuple[str, str]:
    """Labels of the right option and of one wrong option, from the decoded key."""
    answer = quiz._parse(question, quiz._decode_key(question.key)["answer"])[0]
    right_value = str(answer).lower()
    labels = dict(question.choices())
    wrong_value = next(value for value in labels if value != right_value)
    return labels[right_value], labels[wrong_value]


def _label(radio_box: Any, text: str) -> Any:
    """The radio label with exactly this text."""
    return radio_box.locator("label").filter(has_text=re.compile(f"^{re.escape(text)}$"))


def test_run_all_leaves_the_students_work_alone(lesson: RanLesson) -> None:
    """After Run All: the quiz reads 0 answered, every exercise still holds its stub, no stray outputs."""
    if lesson.name == GALLERY.stem:
        pytest.skip("the widget gallery has no quiz and no exercise")
    scores = [t.strip() for t in lesson.page.locator(".course-quiz .widget-html-content").all_inner_texts()
              if t.strip().startswith("score ")]
    assert scores and all(re.fullmatch(r"score 0/\d+, 0 answered", t) for t in scores), scores
    outputs = {i: "".join(o.get("text", "") + str(o.get("data", {}).get("text/plain", ""))
                          for o in cell.get("outputs", []))
               for i, cell in enumerate(lesson.saved.cells) if cell.cell_type == "code"}
    praised = [i for i, text in outputs.items() if "Well done!" in text]
    assert not praised, f"{lesson.name}: cells {praised} say 'Well done!' although the student wrote nothing"
    stubs = [i for i, cell in enumerate(lesson.saved.cells) if "# YOUR CODE HERE" in cell.source]
    assert stubs and all("not done yet" in outputs[i] for i in stubs), {i: outputs[i] for i in stubs}
    stray = [i for i, cell in enumerate(lesson.saved.cells) for o in cell.get("outputs", [])
             if o.get("output_type") == "execute_result" and o.get("data", {}).get("text/plain") in ("True", "False")]
    assert not stray, f"{lesson.name}: cells {stray} show a bare True/False"


def test_quiz_gives_feedback_at_once_and_allows_a_retry(lesson: RanLesson, screenshots: Path) -> None:
    """Right answer, then a wrong one: each click shows its verdict, and the score line moves."""
    page, expect = lesson.page, sync_api.expect
    boxes = page.locator(".course-quiz")
    assert boxes.count() >= 1, f"{lesson.name} shows no quiz widget (.course-quiz): add Quiz.load(...).show()"
    box = boxes.first
    box.scroll_into_view_if_needed()
    bank = _bank_for(box.locator("h4").first.inner_text().strip())
    questions = [quiz.Question(**q) for q in bank["questions"]]
    index = next(i for i, q in enumerate(questions) if q.kind in ("choice", "truefalse"))
    question = questions[index]
    radio_box = box.locator(".widget-radio-box").nth(sum(q.kind != "number" for q in questions[:index]))
    check = box.locator("button", has_text="Check").nth(index)
    feedback = box.locator(".course-quiz-feedback").nth(index)
    score = box.locator(".widget-html-content").filter(has_text=re.compile(r"^score \d+/\d+"))
    right, wrong = _right_and_wrong(question)

    _label(radio_box, right).click()
    check.click()
    expect(feedback).to_contain_text("Right!", timeout=30_000)
    assert quiz._decode_key(question.key)["why"] in feedback.inner_text(), "the explanation should come with it"
    score_after_right = score.inner_text()
    _label(radio_box, wrong).click()
    check.click()
    expect(feedback).to_contain_text("Not quite.", timeout=30_000)
    expect(score).not_to_have_text(score_after_right, timeout=30_000)

    numbers = [i for i, q in enumerate(questions) if q.kind == "number"]
    if numbers:
        i = numbers[0]
        entry = box.locator("input[type='text']").first
        entry.fill("not a number")
        box.locator("button", has_text="Check").nth(i).click()
        expect(box.locator(".course-quiz-feedback").nth(i)).to_contain_text("not a number", timeout=30_000)
        entry.fill(str(quiz._decode_key(questions[i].key)["answer"]))
        box.locator("button", has_text="Check").nth(i).click()
        expect(box.locator(".course-quiz-feedback").nth(i)).to_contain_text("Right!", timeout=30_000)
    for fallback in page.locator(".course-static-fallback").all():  # the static copy hides where widgets draw
        expect(fallback).to_be_hidden()
    box.screenshot(path=screenshots / f"{lesson.name}-quiz.png")


def _image_bytes(image: Any) -> bytes | None:
    """The PNG bytes an <img> shows right now (None while its URL is being replaced)."""
    encoded = image.evaluate(IMAGE_BYTES_JS)
    return base64.b64decode(encoded) if encoded else None


def test_widget_images_change_when_a_slider_moves(lesson: RanLesson, screenshots: Path) -> None:
    """For each kind of course widget: arrow keys on its slider handle change the decoded image."""
    page = lesson.page
    present = [name for name in WIDGET_CLASSES if page.locator(f".{name}").count()]
    assert present, f"{lesson.name} shows none of the course widgets ({', '.join(WIDGET_CLASSES)})"
    for name in present:
        widget = page.locator(f".{name}").first
        widget.scroll_into_view_if_needed()
        image = widget.locator("img").first
        before = _image_bytes(image)
        assert before and before.startswith(b"\x89PNG"), f"{name}: the image is not a PNG"
        handle = widget.locator(".noUi-handle").first
        at_max = handle.get_attribute("aria-valuenow") == handle.get_attribute("aria-valuemax")
        handle.focus()
        for _ in range(10):
            page.keyboard.press("ArrowLeft" if at_max else "ArrowRight")
        deadline, after = time.monotonic() + 30, before
        while after in (before, None) and time.monotonic() < deadline:
            time.sleep(0.25)
            after = _image_bytes(image)
        assert after not in (before, None), f"{lesson.name}: moving the {name} slider left its image as it was"
        assert after.startswith(b"\x89PNG"), f"{name}: the new image is not a PNG"
        widget.screenshot(path=screenshots / f"{lesson.name}-{name}.png")


def test_class_generator_draws_the_class_picked_in_its_dropdown(lesson: RanLesson, screenshots: Path) -> None:
    """Lesson 6's class generator: choosing another class in the dropdown changes the generated image."""
    page = lesson.page
    if not page.locator(".course-class-generator").count():
        pytest.skip(f"{lesson.name} shows no class generator")
    widget = page.locator(".course-class-generator").first
    widget.scroll_into_view_if_needed()
    image, dropdown = widget.locator("img").first, widget.locator("select").first
    before = _image_bytes(image)
    assert before and before.startswith(b"\x89PNG"), "the class generator's image is not a PNG"
    options = dropdown.locator("option").all_inner_texts()
    current = dropdown.evaluate("select => select.selectedIndex")
    dropdown.select_option(index=(current + 1) % len(options))
    deadline, after = time.monotonic() + 30, before
    while after in (before, None) and time.monotonic() < deadline:
        time.sleep(0.25)
        after = _image_bytes(image)
    assert after not in (before, None), f"{lesson.name}: picking another class left the image as it was"
    assert after.startswith(b"\x89PNG"), "the new image is not a PNG"
    widget.screenshot(path=screenshots / f"{lesson.name}-class-generator.png")


def test_saved_lesson_exports_to_html_with_the_answers_folded(lesson: RanLesson) -> None:
    """nbconvert's HTML of the run lesson shows every quiz question, each answer only inside <details>."""
    import html

    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_notebook_node(lesson.saved)
    page = re.sub(r"<script\b.*?</script>", "", body, flags=re.S)  # what a reader sees, not widget state
    text = html.unescape(page)  # nbconvert re-serialises the HTML, so compare text, not escapes
    outside_details = html.unescape(re.sub(r"<details>.*?</details>", "", page, flags=re.S))
    banks = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(quiz.BANK_DIR.glob("*.json"))]
    shown = [bank for bank in banks if f"<h4>{bank['title']}</h4>" in text]
    assert shown, f"{lesson.name}: the exported HTML shows no quiz"
    for question in shown[0]["questions"]:
        assert question["prompt"] in text, f"{lesson.name}: question {question['id']} is missing"
        why = quiz._decode_key(question["key"])["why"]
        assert why in text and why not in outside_details, f"{lesson.name}: answer {question['id']} is not folded"


def test_the_page_logged_no_javascript_error(lesson: RanLesson) -> None:
    """Nothing thrown in the page while the lesson ran and was clicked (runs after the other checks)."""
    assert not lesson.page_errors, f"{lesson.name}: uncaught JavaScript errors: {lesson.page_errors}"
