"""Quiz cells: questions with instant feedback, as widgets or as plain code answers.

Each lesson's questions live in ``course_utils/quizzes/<lesson>.json``. The answer and its
explanation are stored encoded (``encode_key``), so they are not in plain sight in the notebook
or the bank. In JupyterLab ``Quiz.show()`` draws clickable widgets; anywhere else (nbval,
nbconvert HTML, a console) it shows readable text, and ``quiz.check("q1", "b")`` answers in code.
"""

from __future__ import annotations

import base64
import html
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BANK_DIR = Path(__file__).resolve().parent / "quizzes"
KINDS = ("choice", "truefalse", "number")
_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}
#: ipywidgets gives each radio option one fixed-height line; let long options wrap instead of overlapping.
_WIDGET_CSS = "<style>.course-quiz .widget-radio-box label {height: auto; line-height: 1.4; padding: 2px 0;}</style>"


#: The CSS class of one question in the static HTML (the decks put each on a slide of its own).
QUESTION_CLASS = "course-quiz-question"


def encode_key(answer: str | bool | float, why: str, tolerance: float | None = None) -> str:
    """Encode an answer and its one-line explanation for a quiz bank (authors use this)."""
    payload = {"answer": answer, "why": why, "tolerance": tolerance}
    return base64.b64encode(json.dumps(payload).encode("utf-8")).decode("ascii")[::-1]


def _decode_key(key: str) -> dict[str, Any]:
    """The answer, explanation and tolerance hidden in ``key``."""
    return json.loads(base64.b64decode(key[::-1].encode("ascii")).decode("utf-8"))


@dataclass(frozen=True)
class Question:
    """One quiz question: an id, its kind, the prompt, options (for 'choice') and the encoded key."""

    id: str
    kind: str
    prompt: str
    key: str
    options: dict[str, str] | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"Question {self.id!r}: kind must be one of {KINDS}, got {self.kind!r}.")
        if self.kind == "choice" and not self.options:
            raise ValueError(f"Question {self.id!r} is multiple choice but has no options.")

    def choices(self) -> list[tuple[str, str]]:
        """(value, label) pairs a student can pick from; empty for numeric questions."""
        if self.kind == "choice":
            return [(k, f"{k}) {v}") for k, v in (self.options or {}).items()]
        if self.kind == "truefalse":
            return [("true", "True"), ("false", "False")]
        return []


@dataclass(frozen=True)
class Feedback:
    """The verdict on one answer: right (True), wrong (False) or not understood (None)."""

    question_id: str
    correct: bool | None
    message: str

    def __repr__(self) -> str:
        return self.message

    def _repr_html_(self) -> str:
        colour = {True: "#1a7f37", False: "#b42318", None: "#9a6700"}[self.correct]
        return f'<div style="color:{colour};font-weight:600">{html.escape(self.message)}</div>'


class Quiz:
    """A lesson's quiz: check answers, keep a score, and show the questions."""

    def __init__(self, title: str, questions: list[Question]) -> None:
        ids = [q.id for q in questions]
        if len(set(ids)) != len(ids):
            raise ValueError(f"Question ids must be unique, got {ids}.")
        self.title = title
        self.questions = {q.id: q for q in questions}
        self.results: dict[str, bool] = {}

    @classmethod
    def load(cls, lesson: str, bank_dir: Path | None = None) -> Quiz:
        """Load ``quizzes/<lesson>.json``, e.g. ``Quiz.load("02_vanilla_autoencoder")``."""
        folder = bank_dir or BANK_DIR
        path = folder / f"{lesson}.json"
        if not path.exists():
            known = sorted(p.stem for p in folder.glob("*.json"))
            raise FileNotFoundError(f"No quiz called {lesson!r}. Available quizzes: {known}.")
        bank = json.loads(path.read_text(encoding="utf-8"))
        return cls(bank["title"], [Question(**q) for q in bank["questions"]])

    # --- answering ------------------------------------------------------------------------

    def question(self, question_id: str) -> Question:
        """The question with this id, or a clear error listing the valid ids."""
        if not isinstance(question_id, str):
            raise TypeError(f"Name one question by its id, a string such as 'q1', got {_shorten(repr(question_id))}: "
                            'check one answer per call, e.g. quiz.check("q1", "b").')
        if question_id not in self.questions:
            raise KeyError(
                f"There is no question {question_id!r} in this quiz; its questions are "
                f"{', '.join(self.questions)}."
            )
        return self.questions[question_id]

    def check(self, question_id: str, answer: Any) -> Feedback:
        """Mark one answer and say why; malformed answers get a hint, not a mark."""
        question = self.question(question_id)
        key = _decode_key(question.key)
        parsed, problem = _parse(question, answer)
        if problem:
            return Feedback(question_id, None, f"{question_id}: {problem} Try again.")
        if question.kind == "number":
            tolerance = key.get("tolerance") or 0.0
            right = math.isclose(parsed, float(key["answer"]), abs_tol=tolerance, rel_tol=1e-9)
        else:
            right = parsed == _parse(question, key["answer"])[0]
        self.results[question_id] = right
        verdict = "Right!" if right else "Not quite."
        hint = key["why"] if right else "Think again, then retry (the explanation comes with the right answer)."
        return Feedback(question_id, right, f"{question_id}: {verdict} {hint}  [{self.score()}]")

    def score(self) -> str:
        """A progress line: how many questions are right, out of how many."""
        right = sum(self.results.values())
        return f"score {right}/{len(self.questions)}, {len(self.results)} answered"

    # --- showing ------------------------------------------------------------------------

    def as_text(self) -> str:
        """The questions as plain text, with how to answer them in code."""
        lines = [self.title, ""]
        for q in self.questions.values():
            lines.append(f"[{q.id}] {q.prompt}")
            for value, label in q.choices():
                lines.append(f"    {label}" if q.kind == "choice" else f"    {value}")
            if q.kind == "number":
                lines.append("    (answer with a number)")
            lines.append("")
        lines.append('Answer in code: quiz.check("q1", "b")')
        return "\n".join(lines)

    def as_html(self) -> str:
        """The questions as static HTML, each answer folded away in a collapsed element."""
        parts = [f"<h4>{html.escape(self.title)}</h4>"]
        for q in self.questions.values():
            key = _decode_key(q.key)
            options = "".join(f"<li>{html.escape(label)}</li>" for _, label in q.choices())
            parts.append(
                f"<div class='{QUESTION_CLASS}'><p><b>{html.escape(q.id)}.</b> {html.escape(q.prompt)}</p>"
                f"<ul>{options}</ul><details><summary>Show the answer</summary>"
                f"<p>{html.escape(str(key['answer']))}: {html.escape(key['why'])}</p></details></div>"
            )
        parts.append('<p>Answer in code: <code>quiz.check("q1", "b")</code></p>')
        return "\n".join(parts)

    def widget(self) -> Any:
        """An ipywidgets form: pick or type an answer, click Check, read the feedback."""
        import ipywidgets as w

        score = w.HTML(value=f"<b>{html.escape(self.score())}</b>")
        rows = [w.HTML(_WIDGET_CSS), w.HTML(f"<h4>{html.escape(self.title)}</h4>")]
        for q in self.questions.values():
            if q.kind == "number":
                entry = w.Text(placeholder="type a number", layout=w.Layout(width="160px"))
            else:
                # width auto: options use the whole cell width, so most fit on one line
                entry = w.RadioButtons(options=[(label, value) for value, label in q.choices()], value=None,
                                       layout=w.Layout(width="auto"))
            button = w.Button(description="Check", button_style="primary", layout=w.Layout(width="90px"))
            feedback = w.HTML()
            feedback.add_class("course-quiz-feedback")

            def on_click(_: Any, q: Question = q, entry: Any = entry, feedback: Any = feedback) -> None:
                result = self.check(q.id, entry.value)
                feedback.value = result._repr_html_()
                score.value = f"<b>{html.escape(self.score())}</b>"

            button.on_click(on_click)
            rows += [w.HTML(f"<p><b>{html.escape(q.id)}.</b> {html.escape(q.prompt)}</p>"), entry, button, feedback]
        rows.append(score)
        box = w.VBox(rows)
        box.add_class("course-quiz")
        return box

    def show(self) -> None:
        """Display the quiz: widgets where a frontend can draw them, readable text elsewhere."""
        from course_utils.display import display_with_fallback

        display_with_fallback(self.widget(), {"text/plain": self.as_text(), "text/html": self.as_html()})


def _shorten(text: str, limit: int = 60) -> str:
    """``text`` cut to ``limit`` characters, so a pasted essay is not echoed back in full."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _parse(question: Question, answer: Any) -> tuple[Any, str | None]:
    """Normalise an answer for comparison; return (value, problem) where problem explains a bad one."""
    if answer is None or (isinstance(answer, str) and not answer.strip()):
        return None, "No answer given."
    if question.kind == "number":
        try:
            if isinstance(answer, str):
                value = float(answer.strip().replace(",", "."))
            else:
                value = float(answer)  # ints, floats, NumPy numbers and one-number tensors such as tensor(392.)
        except (TypeError, ValueError, RuntimeError):
            return None, f"{_shorten(repr(answer))} is not a number."
        if math.isnan(value):
            return None, "NaN is not an answer."
        return value, None
    if question.kind == "truefalse":
        if isinstance(answer, bool):
            return answer, None
        text = str(answer).strip().lower()
        if text in _TRUE:
            return True, None
        if text in _FALSE:
            return False, None
        return None, f"{_shorten(repr(answer))} is not True or False."
    text = str(answer).strip().lower().strip("()")
    options = [k.lower() for k in (question.options or {})]
    if text not in options:
        return None, f"{_shorten(repr(answer))} is not an option; choose one of {', '.join(options)}."
    return text, None
