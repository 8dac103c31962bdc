"""Exercise checkers: right, wrong, unfinished and broken answers."""

import numpy as np
import pytest
import torch

from course_utils import exercises


def test_check_function_right_wrong_unfinished_and_broken(capsys):
    cases = [(torch.tensor([1.0, 2.0]),)]
    assert exercises.check_function(lambda x: x * 2, lambda x: x * 2, cases, "double")
    assert not exercises.check_function(lambda x: x * 3, lambda x: x * 2, cases, "double")
    assert not exercises.check_function(lambda x: None, lambda x: x * 2, cases, "double")
    assert not exercises.check_function(lambda x: 1 / 0, lambda x: x * 2, cases, "double")
    assert not exercises.check_function(lambda x: x.sum(), lambda x: x * 2, cases, "double")
    out = capsys.readouterr().out
    assert "not done yet" in out and "ZeroDivisionError" in out and "shape" in out


def test_check_function_wants_a_function():
    with pytest.raises(TypeError, match="function itself"):
        exercises.check_function(3, lambda x: x, [(1,)], "f")


def test_with_seed_gives_two_functions_the_same_noise_and_leaves_the_callers_state():
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    draw = exercises.with_seed(lambda n: torch.randn(n), seed=7)
    assert torch.equal(draw(3), draw(3))
    assert torch.equal(torch.random.get_rng_state(), before)


# --- faults: functions that change their inputs, return odd things, or never stop ---------------------


def _kl(mu, logvar):
    return 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(dim=1)


KL_CASES = [(torch.tensor([[0.5, -1.0, 2.0]]), torch.tensor([[0.1, -0.3, 0.2]]))]


def test_a_correct_function_that_changes_its_inputs_in_place_is_still_right(capsys):
    def kl_in_place(mu, logvar):
        mu **= 2
        return 0.5 * (mu + logvar.exp() - 1 - logvar).sum(dim=1)

    before = [tuple(t.clone() for t in case) for case in KL_CASES]
    assert exercises.check_function(kl_in_place, _kl, KL_CASES, "kl")
    assert "Well done!" in capsys.readouterr().out
    assert all(torch.equal(a, b) for case, kept in zip(KL_CASES, before) for a, b in zip(case, kept))


def test_a_wrong_function_that_zeroes_its_inputs_is_not_praised(capsys):
    def zeroes(mu, logvar):
        mu.zero_()
        logvar.zero_()
        return _kl(mu, logvar)

    assert not exercises.check_function(zeroes, _kl, KL_CASES, "kl")
    assert "off by up to" in capsys.readouterr().out
    assert KL_CASES[0][0].abs().sum() > 0, "the shared test case was spoiled"


@pytest.mark.parametrize("result, said", [
    ("0.5", "returned a str"), ({"kl": 1.0}, "returned a dict"), ((x for x in [1.0]), "returned a generator"),
    ([[1.0], "x"], "not made of numbers"),
])
def test_a_function_returning_something_else_gets_a_sentence_not_a_crash(capsys, result, said):
    assert not exercises.check_function(lambda mu, logvar: result, _kl, KL_CASES, "kl")
    assert said in capsys.readouterr().out


def test_a_nan_result_is_called_nan_with_likely_causes(capsys):
    assert not exercises.check_function(lambda mu, logvar: _kl(mu, logvar) * float("nan"), _kl, KL_CASES, "kl")
    out = capsys.readouterr().out
    assert "NaN" in out and "log or square root" in out and "off by up to nan" not in out


def test_an_endless_loop_is_stopped_after_the_time_limit(capsys):
    def forever(mu, logvar):
        while True:
            pass

    assert not exercises.check_function(forever, _kl, KL_CASES, "kl", time_limit=0.3)
    assert "ran for more than 0.3 s, so it was stopped" in capsys.readouterr().out


def test_check_prediction_compares_guesses_and_always_shows_the_outcome(capsys):
    assert exercises.check_prediction(None, "PCA", ("AE", "PCA")) is None
    assert "measured 'PCA'" in capsys.readouterr().out
    assert exercises.check_prediction(" pca", "PCA", ("AE", "PCA")) is True
    assert exercises.check_prediction({2: "AE", 32: "AE"}, {2: "AE", 32: "PCA"}, ("AE", "PCA")) is False
    assert exercises.check_prediction({2: "AE", 32: None}, {2: "AE", 32: "PCA"}, ("AE", "PCA")) is True
    out = capsys.readouterr().out
    assert "2: you predicted 'AE', measured 'AE': right!" in out and "32: measured 'PCA'" in out
    assert exercises.check_prediction("maybe", "AE", ("AE", "PCA")) is False
    assert "not one of ['AE', 'PCA']" in capsys.readouterr().out


def test_vae_loss_exercise_refuses_a_wrong_loss_and_trains_with_a_right_one(capsys):
    from course_utils import losses

    images = torch.rand(96, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    assert exercises.check_and_train_vae_loss(lambda *args: None, images, images[:16], steps=6) is None
    assert "not done yet" in capsys.readouterr().out

    right = lambda logits, x, mu, logvar: losses.vae_loss(logits, x, mu, logvar)["total"]  # noqa: E731
    curves, before, after = exercises.check_and_train_vae_loss(right, images, images[:16], steps=6)
    assert np.allclose(curves["total"], curves["course"], rtol=1e-5)
    assert len(curves["total"]) == 3 and np.isfinite([before, after]).all()
    assert "validation negative ELBO" in capsys.readouterr().out
