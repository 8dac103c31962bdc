"""Verdict lines: what a lesson prints when a prediction held, or did not."""

import numpy as np

from course_utils import claims


def test_a_held_prediction_prints_its_evidence_and_returns_nothing(capsys):
    assert claims.verdict("codes cluster by class", np.bool_(True), "k-NN 81%") is None
    assert capsys.readouterr().out == "Held here: codes cluster by class: k-NN 81%.\n"


def test_a_failed_prediction_says_why(capsys):
    claims.verdict("the grid has holes", False, "0 of 225 tiles", why_not="A short run spreads codes thinly.")
    assert capsys.readouterr().out == (
        "Did not hold here: the grid has holes: 0 of 225 tiles. A short run spreads codes thinly.\n"
    )
