"""checkpoints: train once then load, atomic writes, and retraining on a bad file."""

import pytest
import torch

from course_utils import checkpoints, models, train


class Trainer:
    """A stand-in training function that counts its calls and can fail on demand."""

    def __init__(self, fail: bool = False):
        self.calls, self.fail = 0, fail

    def __call__(self, model):
        self.calls += 1
        if self.fail:
            raise KeyboardInterrupt("training interrupted")
        with torch.no_grad():
            for p in model.parameters():
                p.add_(1.0)
        return train.History(train={"total": [1.0]}, val={}, seconds=[0.1])


def _build():
    torch.manual_seed(0)
    return models.MLPAutoencoder(2, hidden=(8,))


def test_trains_when_missing_and_loads_when_present(tmp_path):
    trainer = Trainer()
    first, _ = checkpoints.load_or_train("m", _build, trainer, {"a": 1}, directory=tmp_path)
    second, history = checkpoints.load_or_train("m", _build, trainer, {"a": 1}, directory=tmp_path)
    assert trainer.calls == 1
    assert history.train["total"] == [1.0]
    for p, q in zip(first.parameters(), second.parameters()):
        assert torch.equal(p, q)


def test_other_settings_train_a_model_of_their_own_and_overwrite_nothing(tmp_path):
    trainer = Trainer()
    checkpoints.load_or_train("m", _build, trainer, {"epochs": 1}, directory=tmp_path)
    checkpoints.load_or_train("m", _build, trainer, {"epochs": 2}, directory=tmp_path)
    assert trainer.calls == 2
    assert len(list(tmp_path.glob("m-*.pt"))) == 2  # both models kept, side by side
    checkpoints.load_or_train("m", _build, trainer, {"epochs": 1}, directory=tmp_path)
    assert trainer.calls == 2  # the first one is still there to load


def test_settings_name_the_file_whatever_their_order(tmp_path):
    first = checkpoints.checkpoint_path("m", tmp_path, {"a": 1, "b": 2})
    assert first == checkpoints.checkpoint_path("m", tmp_path, {"b": 2, "a": 1})
    assert first != checkpoints.checkpoint_path("m", tmp_path, {"a": 1, "b": 3})
    assert first.name.startswith("m-") and len(first.stem.split("-")[1]) == 8


def test_a_file_whose_stored_settings_differ_is_retrained_with_a_warning(tmp_path):
    trainer = Trainer()
    checkpoints.load_or_train("m", _build, trainer, {"epochs": 1}, directory=tmp_path)
    copied = checkpoints.checkpoint_path("m", tmp_path, {"epochs": 2})  # e.g. a file copied by hand
    checkpoints.checkpoint_path("m", tmp_path, {"epochs": 1}).rename(copied)
    with pytest.warns(UserWarning, match="retraining"):
        checkpoints.load_or_train("m", _build, trainer, {"epochs": 2}, directory=tmp_path)
    assert trainer.calls == 2


def test_corrupt_file_is_retrained_not_a_crash(tmp_path):
    trainer = Trainer()
    path = checkpoints.checkpoint_path("m", tmp_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"this is not a checkpoint")
    with pytest.warns(UserWarning, match="retraining"):
        model, _ = checkpoints.load_or_train("m", _build, trainer, {}, directory=tmp_path)
    assert trainer.calls == 1
    assert torch.load(path, weights_only=True)["format_version"] == checkpoints.FORMAT_VERSION


def test_truncated_file_is_retrained(tmp_path):
    trainer = Trainer()
    checkpoints.load_or_train("m", _build, trainer, {}, directory=tmp_path)
    path = checkpoints.checkpoint_path("m", tmp_path)
    path.write_bytes(path.read_bytes()[:100])
    with pytest.warns(UserWarning):
        checkpoints.load_or_train("m", _build, trainer, {}, directory=tmp_path)
    assert trainer.calls == 2


def test_interrupted_training_leaves_no_file(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        checkpoints.load_or_train("m", _build, Trainer(fail=True), {}, directory=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_interrupted_write_keeps_the_old_checkpoint(tmp_path, monkeypatch):
    trainer = Trainer()
    checkpoints.load_or_train("m", _build, trainer, {}, directory=tmp_path)
    path = checkpoints.checkpoint_path("m", tmp_path)
    good = path.read_bytes()

    def crash_mid_write(obj, stream, *args, **kwargs):
        stream.write(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(checkpoints.torch, "save", crash_mid_write)
    with pytest.raises(OSError, match="disk full"):
        checkpoints.save_checkpoint(path, _build(), train.History(), {})
    assert path.read_bytes() == good  # the old file is untouched
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # and no temp file is left


def test_fast_mode_uses_its_own_file(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_FAST", "1")
    assert checkpoints.checkpoint_path("m", tmp_path).name == "m-fast.pt"
    monkeypatch.setenv("COURSE_FAST", "0")
    assert checkpoints.checkpoint_path("m", tmp_path).name == "m.pt"


@pytest.mark.parametrize("name", ["", "../escape", ".hidden", "a/b"])
def test_bad_names_are_refused(name, tmp_path):
    with pytest.raises(ValueError, match="plain file stems"):
        checkpoints.checkpoint_path(name, tmp_path)


def test_train_must_return_a_history(tmp_path):
    with pytest.raises(TypeError, match="History"):
        checkpoints.load_or_train("m", _build, lambda model: None, {}, directory=tmp_path)


# --- faults: a failed save never throws the trained model away ---------------------------------------


def _trained_and_warned(tmp_path, directory, match, monkeypatch=None):
    """Train through load_or_train into ``directory``; the model must come back trained, with a warning."""
    trainer = Trainer()
    with pytest.warns(UserWarning, match=match):
        model, history = checkpoints.load_or_train("m", _build, trainer, {"a": 1}, directory=directory)
    assert trainer.calls == 1 and history.train["total"] == [1.0]
    assert all(torch.equal(p, q + 1.0) for p, q in zip(model.parameters(), _build().parameters())), "weights lost"
    assert not model.training
    return model


def test_a_read_only_folder_keeps_the_trained_model(tmp_path, monkeypatch):
    # Root ignores folder permissions, so the refusal the OS would give a student is staged here.
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(checkpoints.tempfile, "mkstemp", refuse)
    _trained_and_warned(tmp_path, tmp_path, "not cached.*Permission denied.*COURSE_CHECKPOINT_DIR")
    assert list(tmp_path.iterdir()) == []


def test_a_checkpoint_folder_that_is_a_file_keeps_the_trained_model(tmp_path):
    blocker = tmp_path / "checkpoints"
    blocker.write_text("not a folder")
    _trained_and_warned(tmp_path, blocker, "not cached.*COURSE_CHECKPOINT_DIR")
    assert blocker.read_text() == "not a folder"


def test_a_checkpoint_path_that_is_a_folder_keeps_the_trained_model(tmp_path):
    checkpoints.checkpoint_path("m", tmp_path, {"a": 1}).mkdir()
    with pytest.warns(UserWarning, match="Ignoring checkpoint"):
        _trained_and_warned(tmp_path, tmp_path, "not cached")
    assert [p.name for p in tmp_path.iterdir()] == [checkpoints.checkpoint_path("m", tmp_path, {"a": 1}).name]


def test_settings_a_checkpoint_cannot_store_are_refused_before_training(tmp_path):
    trainer = Trainer()
    with pytest.raises(ValueError, match=r"settings\['device'\]"):
        checkpoints.load_or_train("m", _build, trainer, {"device": torch.device("cpu")}, directory=tmp_path)
    assert trainer.calls == 0


def test_a_model_with_nan_weights_is_returned_but_never_cached(tmp_path):
    def poisoned(model):
        with torch.no_grad():
            next(model.parameters()).fill_(float("nan"))
        return train.History(train={"total": [1.0]}, val={}, seconds=[0.1])

    with pytest.warns(UserWarning, match="NaN or infinite"):
        model, _ = checkpoints.load_or_train("m", _build, poisoned, {"a": 1}, directory=tmp_path)
    assert torch.isnan(next(model.parameters())).all()
    assert list(tmp_path.iterdir()) == []


def test_a_stopped_training_is_returned_but_never_cached(tmp_path):
    def stopped_early(model):
        return train.History(train={"total": [1.0]}, val={}, seconds=[0.1], interrupted=True)

    with pytest.warns(UserWarning, match="stopped before its last epoch"):
        checkpoints.load_or_train("m", _build, stopped_early, {"a": 1}, directory=tmp_path)
    assert list(tmp_path.iterdir()) == []
