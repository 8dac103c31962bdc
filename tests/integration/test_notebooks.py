"""What a student opens: committed lessons without outputs, and a Run All that leaves their work alone.

The lessons themselves run in the claims matrix (tests/integration/test_claims_matrix.py) and in JupyterLab
(tests/integration/test_browser_lab.py); these checks read the committed notebooks.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from course_tools import verify

LESSONS = verify.lessons()
#: How every speaker-notes cell starts, so that a student reading the notebook knows it is not for them.
INSTRUCTOR_MARK = "**Instructor notes**"


def _cells(path: Path) -> list[nbformat.NotebookNode]:
    return nbformat.read(path, as_version=4).cells


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_committed_without_outputs(path: Path) -> None:
    dirty = [i for i, c in enumerate(_cells(path)) if c.cell_type == "code" and (c.outputs or c.execution_count)]
    assert not dirty, f"{path.name}: cells {dirty} have outputs; clear them (Edit > Clear Outputs of All Cells)"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_no_private_names_and_no_quiz_answered_in_code(path: Path) -> None:
    code = [c.source for c in _cells(path) if c.cell_type == "code"]
    private = [line for source in code for line in source.splitlines()
               if re.search(r"from course_utils\S* import .*\b_\w+|\b[a-z]+\._[a-z]\w*\(", line)]
    assert not private, f"{path.name} reaches into private names: {private}"
    answered = [s for s in code if re.search(r"\bquiz\.check\(", s)]
    assert not answered, f"{path.name} answers its own quiz in code, so Run All starts the score above 0: {answered}"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_every_exercise_has_a_folded_solution_that_run_all_skips(path: Path) -> None:
    cells = _cells(path)
    stubs = [i for i, c in enumerate(cells) if c.cell_type == "code" and "# YOUR CODE HERE" in c.source]
    assert stubs, f"{path.name} has no exercise"
    for i in stubs:
        assert cells[i].source.rstrip().endswith(";"), f"{path.name} cell {i}: end the check with ';' (no stray output)"
        following = cells[i + 1]
        assert "solution" in following.metadata.get("tags", []), f"{path.name}: no solution right after cell {i}"
        assert following.cell_type == "markdown", f"{path.name} cell {i + 1}: Run All would run the solution"
        assert "<details>" in following.source and verify.solution_code(following).strip()


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_speaker_notes_say_they_are_for_instructors(path: Path) -> None:
    notes = [c.source for c in _cells(path) if c.metadata.get("slideshow", {}).get("slide_type") == "notes"]
    assert notes, f"{path.name} has no speaker notes"
    unmarked = [n[:60] for n in notes if not n.startswith(INSTRUCTOR_MARK)]
    assert not unmarked, f"{path.name}: notes cells must start with {INSTRUCTOR_MARK!r}: {unmarked}"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_the_parameters_cell_says_what_it_supports_and_the_lesson_refuses_the_rest(path: Path) -> None:
    cells = _cells(path)
    tagged = [i for i, c in enumerate(cells) if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{path.name}: exactly one cell must be tagged 'parameters' (papermill injects after it)"
    parameters = cells[tagged[0]].source
    assert "DATASET" in parameters and "SEED" in parameters and "LATENT_DIM" in parameters
    first_code = next(c.source for c in cells[tagged[0] + 1:] if c.cell_type == "code")
    assert 'config.require_supported("DATASET"' in first_code, f"{path.name}: refuse an unknown DATASET at once"


def _parameters(path: Path, mode: str) -> dict:
    """The values a lesson's parameters cell sets in ``mode`` ('fast' or 'full'), by running that cell alone."""
    import os
    from unittest import mock

    cell = next(c for c in _cells(path) if "parameters" in c.metadata.get("tags", []))
    values: dict = {}
    with mock.patch.dict(os.environ, {"COURSE_FAST": "1" if mode == "fast" else ""}):
        exec(cell.source, values)  # noqa: S102 - our own committed cell: imports config and assigns constants
    return values


@pytest.mark.parametrize("mode", ["fast", "full"])
def test_lesson_6_asks_for_lesson_4s_vae_with_lesson_4s_settings(mode: str) -> None:
    """Lesson 6 retypes lesson 4's VAE settings to find its checkpoint; they must match lesson 4's defaults."""
    from course_utils import zoo

    lesson_4 = _parameters(next(p for p in LESSONS if p.stem.startswith("04_")), mode)
    assert lesson_4["CONV_LR"] == zoo.CONV_RECIPE["lr"] and tuple(lesson_4["CONV_BETAS"]) == zoo.CONV_RECIPE["betas"]
    source = "\n".join(c.source for c in _cells(next(p for p in LESSONS if p.stem.startswith("06_"))))
    call = re.search(r"l4_batch, l4_min_steps = .*config\.fast_or_full\((\d+), (\d+)\)", source)
    assert call, "lesson 6 should set l4_min_steps from config.fast_or_full(fast, full)"
    assert int(call.group(1 if mode == "fast" else 2)) == lesson_4["CONV_MIN_STEPS"]
    assert "**zoo.CONV_RECIPE" in source and "channels=(16, 32, 32)" in source and "latent_dim=128" in source
    assert lesson_4["CONV_CHANNELS"] == (16, 32, 32) and lesson_4["LATENT_DIM"] == 128
    assert lesson_4["CONV_EPOCHS"] == 2 and "epochs_for(len(splits.train), 2, l4_min_steps" in source


#: A citation in a lesson's prose, across line breaks too: "Kingma & Welling, 2014", "(Sohn et al., 2015)".
_CITATION = re.compile(
    r"\b([A-Z][\w'\-]+)(?:\s+et\s+al\.|\s+(?:&|and)\s+[A-Z][\w'\-]+)?,?\s+\(?((?:19|20)\d\d)[a-z]?\b"
)


def _references(cells: list[nbformat.NotebookNode]) -> tuple[str, str]:
    """The lesson's prose before its References section, and the section itself."""
    markdown = [c.source for c in cells if c.cell_type == "markdown"]
    starts = [i for i, s in enumerate(markdown) if re.match(r"#+\s*References\b", s.lstrip())]
    if not starts:
        return "\n".join(markdown), ""
    return "\n".join(markdown[: starts[0]]), "\n".join(markdown[starts[0]:])


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_every_lesson_ends_with_references_that_say_what_each_source_showed(path: Path) -> None:
    prose, references = _references(_cells(path))
    assert references, f"{path.name}: end the lesson with a '## References' section (the papers its claims rest on)"
    entries = [line for line in references.splitlines() if line.lstrip().startswith(("- ", "* ", "1. "))]
    assert len(entries) >= 3, f"{path.name}: its References list {len(entries)} source(s)"
    bare = [e[:70] for e in entries if not re.search(r"(19|20)\d\d", e) or len(e.split()) < 10]
    assert not bare, f"{path.name}: each reference needs its year and one line on what it showed: {bare}"
    listed = {(author.lower(), year) for author, year in _CITATION.findall(references)}
    cited = {(author.lower(), year) for author, year in _CITATION.findall(prose)}
    missing = sorted(f"{a} {y}" for a, y in cited - listed if a not in {"in", "since", "until", "from", "of"})
    assert not missing, f"{path.name} cites in its text but not in its References: {missing}"
