"""The claims-matrix tool (``course_tools.verify``): settings, reading outputs, tables, reruns."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from course_tools import verify

LESSONS = verify.lessons()


def test_the_matrix_covers_modes_datasets_seeds_and_a_code_size():
    labels = {s.label for s in verify.settings_for("03_conv_autoencoder_tsne")}
    assert {"fast/mnist/s0", "fast/fashion-mnist/s1", "full/mnist/s1", "full/fashion-mnist/s0"} <= labels
    assert any(s.latent_dim == 8 for s in verify.settings_for("03_conv_autoencoder_tsne"))
    assert all(s.latent_dim is None for s in verify.settings_for("01_magic_wardrobe"))  # 2-D only
    assert len(verify.settings_for("01_magic_wardrobe", modes=("fast",))) == 4


def _executed(*cells: tuple[str, list[dict]]) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    for number, (source, outputs) in enumerate(cells, start=1):
        cell = nbformat.v4.new_code_cell(source)
        cell.execution_count, cell.outputs = number, [nbformat.from_dict(o) for o in outputs]
        nb.cells.append(cell)
    return nb


def _stream(text: str) -> dict:
    return {"output_type": "stream", "name": "stdout", "text": text}


def test_a_failed_assert_is_reported_by_its_message():
    nb = _executed(("assert 1 < 2, 'one is less than two'", []),
                   ("assert 3 < 2, 'three is less than two'",
                    [{"output_type": "error", "ename": "AssertionError", "evalue": "three is less than two",
                      "traceback": []}]))
    checks, held, not_held, failure = verify._checks_and_verdicts(nb)
    assert checks == ["one is less than two"]
    assert failure == "cell 1: AssertionError: three is less than two"


def test_verdicts_stubs_and_small_figure_text_are_read_from_the_outputs():
    nb = _executed(("claims.verdict(...)", [_stream("Held here: a (1).\nDid not hold here: b (2). Why.\n")]),
                   ("def f():\n    # YOUR CODE HERE\n    return None\ncheck(f);", [_stream("f: not done yet.\n")]))
    checks, held, not_held, failure = verify._checks_and_verdicts(nb)
    assert (held, not_held, failure) == (["a (1)."], ["b (2). Why."], "")
    touched = _executed(("# YOUR CODE HERE\ncheck(f);", [_stream("f: correct. Well done!\n")]))
    assert "did not say 'not done yet'" in verify._checks_and_verdicts(touched)[3]
    small = _executed(("plot()", [_stream(f"{verify.UNREADABLE} a figure 2000 px wide shows 'x' at 4.2 pt\n")]))
    assert "figure text too small" in verify._checks_and_verdicts(small)[3]


def test_solutions_become_code_only_in_the_copy_the_matrix_runs():
    lesson = nbformat.read(LESSONS[0], as_version=4)
    ran = verify.with_solutions_run(lesson)
    solutions = [c for c in lesson.cells if "solution" in c.metadata.get("tags", [])]
    assert solutions and all(c.cell_type == "markdown" for c in solutions)
    assert [c.cell_type for c in ran.cells if "solution" in c.metadata.get("tags", [])] == ["code"] * len(solutions)
    assert "```" not in ran.cells[lesson.cells.index(solutions[0])].source


def test_the_table_names_each_failure():
    passed = verify.Result("01_x", verify.Setting("fast", "mnist", 0), True, 3.0, ["a"], ["p"], [])
    failed = verify.Result("01_x", verify.Setting("fast", "mnist", 1), False, 4.0, [], [], [], "cell 3: boom")
    table = verify.markdown_table([passed, failed], "cpu", 7.0)
    assert "| 01_x | ok 1/1/1 (3 s) | **FAIL** |" in table
    assert "- 01_x, fast/mnist/s1: cell 3: boom" in table


def test_the_command_line_refuses_bad_options_before_running_anything(capsys):
    with pytest.raises(SystemExit):
        verify.main(["--jobs", "0"])
    assert "--jobs must be 1 or more" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="no lesson matches"):
        verify.main(["--lessons", "99"])


@pytest.mark.parametrize("lesson", ["01_magic_wardrobe", "02_vanilla_autoencoder"])
def test_a_2d_lesson_refuses_another_code_size_in_its_first_cells(lesson: str, tmp_path: Path) -> None:
    path = next(p for p in LESSONS if p.stem == lesson)
    result = verify.run_lesson(path, verify.Setting("fast", "mnist", 0, latent_dim=8), tmp_path, device="cpu")
    assert not result.passed and "ValueError: This lesson supports LATENT_DIM = 2, not 8" in result.failure
    executed = nbformat.read(next(tmp_path.glob(f"{lesson}__*z8.ipynb")), as_version=4)
    failing = int(result.failure.split(":")[0].split()[-1])
    assert "config.require_supported" in executed.cells[failing].source, "it should stop in its setup cell"
    assert "load_splits" not in "".join(c.source for c in executed.cells[:failing]), "before loading any data"


def test_a_partial_rerun_replaces_only_its_own_runs(tmp_path: Path) -> None:
    old = [verify.Result("01_x", verify.Setting("full", "mnist", s), s == 0, 5.0, ["a"], [], [], "" if s == 0 else "x")
           for s in (0, 1)]
    stored = tmp_path / "matrix.json"
    verify.save_results(old, stored)
    rerun = verify.Result("01_x", verify.Setting("full", "mnist", 1), True, 6.0, ["a"], ["p"], [])
    merged = verify.merge_results(verify.load_results(stored), [rerun])
    assert [(r.setting.seed, r.passed) for r in merged] == [(0, True), (1, True)]
    assert merged[1].held == ["p"]


def test_pytest_runs_the_other_dataset_and_the_second_seed_but_not_what_jupyterlab_runs():
    for path in LESSONS:
        own = verify.default_dataset(path)
        other = next(d for d in verify.DATASETS if d != own)
        labels = [s.label for s in verify.pytest_settings_for(path)]
        assert {f"fast/{other}/s0", f"fast/{own}/s1"} <= set(labels), labels
        assert f"fast/{own}/s0" not in labels, "the browser test already runs the default settings"
        assert all(label.startswith("fast/") for label in labels)


def test_a_lesson_without_a_dataset_parameter_is_named(tmp_path):
    path = tmp_path / "09_plain.ipynb"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("SEED = 0", metadata={"tags": ["parameters"]})])
    nbformat.write(nb, path)
    with pytest.raises(ValueError, match="09_plain.ipynb has no DATASET"):
        verify.default_dataset(path)
