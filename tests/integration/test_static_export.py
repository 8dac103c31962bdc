"""Static copies of a run notebook (nbconvert HTML) show each quiz and widget's fallback, answers folded.

Executing a notebook saves its widget state, and nbconvert then draws the widget view instead of
any other format in the same output; so the fallback must be an output of its own. This test runs
a small notebook that shows a quiz and every course widget, exports it to HTML with and without
the saved widget state, and reads the page.
"""

import html
import re

import nbformat
import pytest
from nbclient import NotebookClient
from nbconvert import HTMLExporter

from course_utils import display
from course_utils.quiz import Quiz, _decode_key

SOURCE = """
import torch
from course_utils import models, widgets
from course_utils.quiz import Quiz

quiz = Quiz.load("02_vanilla_autoencoder")
quiz.show()
torch.manual_seed(0)
model = models.MLPAutoencoder(2)
widgets.latent_explorer(model, [(-1, 1), (-1, 1)])
widgets.InterpolationSlider(model.decode, [-1.0, -1.0], [1.0, 1.0]).show()
widgets.BetaSlider({0.0: torch.rand(4, 1, 28, 28), 1.0: torch.rand(4, 1, 28, 28)}).show()
"""


@pytest.fixture(scope="module")
def executed() -> nbformat.NotebookNode:
    """The notebook above, executed by nbclient (which saves the widget state, as nbconvert --execute does)."""
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(SOURCE)]
    NotebookClient(notebook, timeout=300, kernel_name="python3").execute()
    return notebook


def _page(notebook: nbformat.NotebookNode) -> str:
    """The notebook as nbconvert's default (lab) HTML page, with script tags (widget state) removed."""
    body, _ = HTMLExporter().from_notebook_node(notebook)
    return re.sub(r"<script\b.*?</script>", "", body, flags=re.S)


@pytest.mark.parametrize("with_state", [True, False], ids=["widget-state-saved", "no-widget-state"])
def test_exported_html_shows_the_fallbacks_with_answers_folded(executed, with_state):
    notebook = nbformat.from_dict(executed)
    assert "widgets" in executed.metadata, "nbclient should have saved the widget state (the hard case)"
    if not with_state:
        notebook.metadata.pop("widgets")
    page = _page(notebook)
    quiz = Quiz.load("02_vanilla_autoencoder")
    assert page.count(f'class="{display.FALLBACK_CLASS}"') == 4, "one static fallback per quiz and widget"
    text = html.unescape(page)  # nbconvert re-serialises the HTML, so compare text, not escapes
    outside_details = html.unescape(re.sub(r"<details>.*?</details>", "", page, flags=re.S))
    assert page.count("<details>") == len(quiz.questions)
    for question in quiz.questions.values():
        assert question.prompt in text, f"question {question.id} missing from the HTML"
        why = _decode_key(question.key)["why"]
        assert why in text and why not in outside_details, f"answer {question.id} is not folded away"
    fallback_images = re.findall(
        rf'class="{display.FALLBACK_CLASS}"><style>[^<]*</style><img [^>]*src="data:image/png;base64,', page
    )
    assert len(fallback_images) == 3, "the explorer, interpolation and beta sliders each show a static figure"
