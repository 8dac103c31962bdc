"""Exercise checkers: right, wrong, unfinished and broken answers."""

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
