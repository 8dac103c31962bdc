"""The course-time tool: older commits exported, training time read from checkpoints, sides alternating."""

from pathlib import Path

import nbformat
import pytest
import torch

from course_tools import course_time
from course_utils import checkpoints, models
from course_utils.train import History


def _checkpoint(directory: Path, name: str, seconds: list[float]) -> Path:
    history = History({"total": [0.5] * len(seconds)}, {}, list(seconds))
    path = directory / f"{name}.pt"
    checkpoints.save_checkpoint(path, models.MLPAutoencoder(2), history, {"seed": 0})
    return path


def test_training_time_is_the_sum_of_the_epoch_times_in_the_new_checkpoints(tmp_path):
    files = [_checkpoint(tmp_path, "a", [1.5, 2.0]), _checkpoint(tmp_path, "b", [0.25])]
    assert course_time.training_seconds(files) == pytest.approx(3.75)
    broken = tmp_path / "c.pt"
    broken.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="c.pt"):
        course_time.training_seconds([broken])


def test_an_unknown_commit_is_refused_with_what_to_give_instead(tmp_path):
    with pytest.raises(SystemExit, match="git log --oneline"):
        course_time.export_commit("no-such-commit-anywhere", tmp_path / "before")


def test_a_commit_is_exported_with_its_own_course_utils_and_lessons(tmp_path):
    root = course_time.export_commit("HEAD", tmp_path / "before")
    assert (root / "course_utils" / "zoo.py").is_file()
    assert any((root / "notebooks").glob("01_*.ipynb"))


def test_before_and_now_alternate_lesson_by_lesson_and_the_table_gives_the_ratio(tmp_path, monkeypatch):
    old_root = tmp_path / "old"
    (old_root / "notebooks").mkdir(parents=True)
    (old_root / "notebooks" / "01_first.ipynb").write_text("{}")  # lesson 2 did not exist back then
    monkeypatch.setattr(course_time, "export_commit", lambda rev, destination: old_root)
    calls = []

    def fake_time(notebook, workdir, side, cache, python_path=None, device=None):
        calls.append((side, notebook.stem, cache.name, python_path))
        seconds = {"now": 30.0}.get(side, 60.0)
        return course_time.LessonTime(notebook.stem, side, seconds, seconds / 2)

    monkeypatch.setattr(course_time, "time_lesson", fake_time)
    lessons = [tmp_path / "01_first.ipynb", tmp_path / "02_second.ipynb"]
    results = course_time.run(lessons, tmp_path / "work", before="abc1234", echo=False)
    assert calls == [("abc1234", "01_first", "checkpoints-before", old_root),
                     ("now", "01_first", "checkpoints-now", None), ("now", "02_second", "checkpoints-now", None)]
    table = course_time.markdown_table(results, "abc1234", "cpu")
    assert "| lessons in both (1) | **60.0 s** | **30.0 s (0.50)** | 30.0 s | 15.0 s (0.50) |" in table
    assert "| all lessons now |  | **60.0 s** |  | 30.0 s |" in table


def test_a_run_refuses_a_folder_that_already_holds_checkpoints(tmp_path):
    (tmp_path / "checkpoints-now").mkdir()
    _checkpoint(tmp_path / "checkpoints-now", "left_over", [1.0])
    with pytest.raises(SystemExit, match="empty model caches"):
        course_time.run([tmp_path / "01_first.ipynb"], tmp_path, echo=False)
    with pytest.raises(SystemExit):
        course_time.main(["--keep", str(tmp_path), "--lessons", "01"])


def _notebook(path: Path, *sources: str) -> Path:
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources]), path)
    return path


def test_a_lesson_is_timed_with_its_training_read_back_and_an_error_named(tmp_path):
    trains = _notebook(tmp_path / "01_trains.ipynb",
                       "import torch\nfrom course_utils import checkpoints, models, train",
                       "images = torch.rand(64, 1, 28, 28)\n"
                       "model, history = checkpoints.load_or_train('tiny', build=lambda: models.MLPAutoencoder(2),\n"
                       "    train=lambda m: train.fit(m, images, epochs=2, progress=False), settings={'seed': 0})")
    cache = tmp_path / "cache"
    result = course_time.time_lesson(trains, tmp_path, "now", cache, device="cpu")
    assert result.passed, result.failure
    stored = torch.load(next(cache.glob("tiny-*.pt")), weights_only=True)["history"]["seconds"]
    assert len(stored) == 2 and result.training_seconds == pytest.approx(sum(stored))
    assert result.seconds > result.training_seconds and result.slowest_cells[0][1] in (0, 1)

    fails = _notebook(tmp_path / "02_fails.ipynb", "x = 1", "raise ValueError('the data folder is empty')")
    result = course_time.time_lesson(fails, tmp_path, "now", cache, device="cpu")
    assert not result.passed and "cell 1: ValueError: the data folder is empty" in result.failure
    assert result.training_seconds == 0  # the checkpoint lesson 1 left in the shared cache is not counted again
