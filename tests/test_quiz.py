"""quiz: right, wrong and malformed answers, unknown ids, hidden answers, every bank loads."""

import json
import re

import pytest

from course_utils import quiz
from course_utils.quiz import Question, Quiz, encode_key


@pytest.fixture
def small_quiz():
    return Quiz("Test quiz", [
        Question("q1", "choice", "Pick b", encode_key("b", "because b"), {"a": "A", "b": "B", "c": "C"}),
        Question("q2", "truefalse", "Is it true?", encode_key(True, "it is")),
        Question("q3", "number", "How many?", encode_key(392, "784 / 2", 0.5)),
    ])


def test_right_answers_are_marked_right_with_the_explanation(small_quiz):
    feedback = small_quiz.check("q1", "b")
    assert feedback.correct is True and "because b" in feedback.message
    assert small_quiz.check("q2", True).correct
    assert small_quiz.check("q2", "yes").correct
    assert small_quiz.check("q3", "392.3").correct
    assert small_quiz.score() == "score 3/3, 3 answered"


def test_wrong_answers_are_marked_wrong_without_giving_the_answer_away(small_quiz):
    feedback = small_quiz.check("q1", "a")
    assert feedback.correct is False and "because b" not in feedback.message
    assert small_quiz.check("q3", 400).correct is False
    assert small_quiz.check("q2", "false").correct is False


def test_a_retry_replaces_the_earlier_mark(small_quiz):
    small_quiz.check("q1", "a")
    small_quiz.check("q1", "B")
    assert small_quiz.score().startswith("score 1/3")


@pytest.mark.parametrize("qid, answer, hint", [
    ("q1", "z", "not an option"),
    ("q1", "", "No answer"),
    ("q2", "maybe", "True or False"),
    ("q3", "many", "not a number"),
    ("q3", None, "No answer"),
    ("q3", "nan", "NaN"),
    ("q2", 2, "True or False"),
])
def test_malformed_answers_get_a_hint_and_no_mark(small_quiz, qid, answer, hint):
    feedback = small_quiz.check(qid, answer)
    assert feedback.correct is None and hint in feedback.message
    assert qid not in small_quiz.results


def test_unknown_question_lists_the_valid_ids(small_quiz):
    with pytest.raises(KeyError, match="q1, q2, q3"):
        small_quiz.check("q9", "a")


def test_text_and_html_show_questions_but_html_folds_the_answers(small_quiz):
    text = small_quiz.as_text()
    assert "Pick b" in text and "because b" not in text and 'quiz.check("q1", "b")' in text
    assert "<details>" in small_quiz.as_html()


def test_widget_click_gives_feedback(small_quiz):
    box = small_quiz.widget()
    radios = [c for c in box.children if c.__class__.__name__ == "RadioButtons"]
    buttons = [c for c in box.children if c.__class__.__name__ == "Button"]
    radios[0].value = "b"
    buttons[0].click()
    feedback = box.children[box.children.index(buttons[0]) + 1]
    assert "Right!" in feedback.value


def test_unknown_quiz_lists_the_available_ones():
    with pytest.raises(FileNotFoundError, match="Available quizzes"):
        Quiz.load("99_nope")


def test_bad_question_kind_is_refused():
    with pytest.raises(ValueError, match="kind"):
        Question("q1", "essay", "Write", encode_key("x", "y"))


@pytest.mark.parametrize("bank", sorted(quiz.BANK_DIR.glob("*.json")), ids=lambda p: p.stem)
def test_every_bank_loads_and_hides_its_answers(bank):
    loaded = Quiz.load(bank.stem)
    assert len(loaded.questions) >= 5
    raw = bank.read_text()
    for question in json.loads(raw)["questions"]:
        answer = quiz._decode_key(question["key"])
        assert answer["why"] not in raw  # explanations (which state the answer) are encoded
        assert loaded.check(question["id"], answer["answer"]).correct


def test_answers_are_read_leniently(small_quiz):
    assert small_quiz.check("q1", " (B) ").correct
    assert small_quiz.check("q2", "T").correct and small_quiz.check("q2", False).correct is False
    assert small_quiz.check("q3", "392,2").correct  # a decimal comma is a number too


def test_html_folds_every_answer_inside_details(small_quiz):
    page = small_quiz.as_html()
    assert "Pick b" in page and "Is it true?" in page and "How many?" in page
    outside = re.sub(r"<details>.*?</details>", "", page, flags=re.S)
    for why in ("because b", "it is", "784 / 2"):
        assert why in page and why not in outside


def _widget_parts(box):
    """Each question's (entry, button, feedback) in a quiz widget, and its score line."""
    kids = list(box.children)
    buttons = [i for i, c in enumerate(kids) if c.__class__.__name__ == "Button"]
    return [(kids[i - 1], kids[i], kids[i + 1]) for i in buttons], kids[-1]


def test_widget_retry_after_a_wrong_click_updates_feedback_and_score(small_quiz):
    box = small_quiz.widget()
    assert "course-quiz" in box._dom_classes
    questions, score = _widget_parts(box)
    radio, button, feedback = questions[0]
    button.click()  # nothing picked yet
    assert "No answer" in feedback.value and "0 answered" in score.value
    radio.value = "a"
    button.click()
    assert "Not quite." in feedback.value and "score 0/3, 1 answered" in score.value
    radio.value = "b"
    button.click()
    assert "Right!" in feedback.value and "because b" in feedback.value and "score 1/3" in score.value


def test_widget_numeric_answers_are_typed(small_quiz):
    questions, score = _widget_parts(small_quiz.widget())
    entry, button, feedback = questions[2]
    entry.value = "four hundred"
    button.click()
    assert "not a number" in feedback.value
    entry.value = "392"
    button.click()
    assert "Right!" in feedback.value and "score 1/3" in score.value


def test_widget_holds_no_answer_in_plain_sight(small_quiz):
    box = small_quiz.widget()
    shown = " ".join(str(getattr(c, "value", "")) + str(getattr(c, "options", "")) for c in box.children)
    assert "because b" not in shown and "784 / 2" not in shown


def test_show_without_ipython_prints_the_questions_as_text(small_quiz, capsys):
    small_quiz.show()
    out = capsys.readouterr().out
    assert "[q1] Pick b" in out and "because b" not in out and 'quiz.check("q1", "b")' in out


#: Lesson 1's answers, written out once more by hand: a bank whose encoded key drifts from them fails here.
LESSON1_INTENDED = {"q1": "a", "q2": "b", "q3": "b", "q4": False, "q5": "c", "q6": 0.125, "q7": "b", "q8": False,
                    "q9": "b", "q10": "b", "q11": "c", "q12": False}


@pytest.mark.parametrize("bank", sorted(quiz.BANK_DIR.glob("*.json")), ids=lambda p: p.stem)
def test_every_question_accepts_its_own_answer_and_a_fresh_quiz_starts_unanswered(bank):
    loaded = Quiz.load(bank.stem)
    assert loaded.score() == f"score 0/{len(loaded.questions)}, 0 answered"
    for question in loaded.questions.values():
        answer = quiz._decode_key(question.key)["answer"]
        assert loaded.check(question.id, answer).correct, f"{bank.stem} {question.id} rejects its own answer"
    if bank.stem == "01_magic_wardrobe":
        assert set(LESSON1_INTENDED) == set(loaded.questions)
        for question_id, answer in LESSON1_INTENDED.items():
            assert loaded.check(question_id, answer).correct, f"{question_id} rejects its intended answer"


def test_a_number_can_be_a_tensor_or_a_numpy_scalar(small_quiz):
    import numpy as np
    import torch

    assert small_quiz.check("q3", torch.tensor(392.0)).correct
    assert small_quiz.check("q3", np.float32(392.0)).correct


def test_a_huge_answer_is_not_echoed_in_full(small_quiz):
    feedback = small_quiz.check("q1", "x" * 1_000_000)
    assert feedback.correct is None and len(feedback.message) < 300
