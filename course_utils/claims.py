"""Predictions a lesson makes and what happened where the student ran it.

A self-check (an ``assert``) guards a claim that must hold in every setting the lesson offers.
Some results depend on the data, the seed or the training budget; the lesson states those as a
prediction and prints, from the numbers just computed, whether it held here. The claims matrix
(``python -m course_tools.verify``) collects these verdict lines from every run.
"""

from __future__ import annotations

#: Every verdict line starts with one of these, so that tools can find them in a cell's output.
HELD, NOT_HELD = "Held here:", "Did not hold here:"


def verdict(prediction: str, held: bool, evidence: str, why_not: str = "") -> None:
    """Print whether ``prediction`` held in this run, with the measured ``evidence`` (and why, if not).

    It returns nothing, so a verdict as a cell's last line leaves no stray ``True`` under it.
    """
    if not isinstance(held, bool):
        held = bool(held)  # numpy booleans and 0-d tensors read naturally as predictions
    if held:
        print(f"{HELD} {prediction}: {evidence}.")
    else:
        reason = f" {why_not}" if why_not else ""
        print(f"{NOT_HELD} {prediction}: {evidence}.{reason}")
