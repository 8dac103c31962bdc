"""estimators: both gradient estimators are unbiased; the score function's variance is the larger one."""

import pytest
import torch

from course_utils import estimators


def square(z: torch.Tensor) -> torch.Tensor:
    return z**2  # d/dmu E[z^2] = d/dmu (mu^2 + sigma^2) = 2 mu


@pytest.mark.parametrize("method", estimators.METHODS)
def test_estimators_are_unbiased(method):
    g = torch.Generator().manual_seed(0)
    estimates = estimators.gradient_estimates(square, 2.0, 0.5, 10, 20_000, method, generator=g)
    assert estimates.shape == (20_000,)
    standard_error = estimates.std() / len(estimates) ** 0.5
    assert abs(estimates.mean().item() - 4.0) < 5 * standard_error.item()


def test_reparameterization_variance_matches_its_closed_form_and_beats_the_score_function():
    g = torch.Generator().manual_seed(1)
    # one draw: the reparameterized gradient is 2 z = 2 (mu + sigma eps), of variance 4 sigma^2 = 1 here
    rep = estimators.gradient_estimates(square, 2.0, 0.5, 1, 20_000, "reparameterization", generator=g)
    score = estimators.gradient_estimates(square, 2.0, 0.5, 1, 20_000, "score_function", generator=g)
    assert rep.var().item() == pytest.approx(1.0, rel=0.05)
    assert score.var().item() > 20 * rep.var().item()  # exactly 123.75 times larger for this f, mu and sigma


def test_more_samples_shrink_the_variance():
    g = torch.Generator().manual_seed(2)
    few = estimators.gradient_estimates(square, 1.0, 1.0, 1, 5_000, "score_function", generator=g)
    many = estimators.gradient_estimates(square, 1.0, 1.0, 100, 5_000, "score_function", generator=g)
    assert many.var() < 0.05 * few.var()  # variance falls as 1 / n_samples


def test_bad_inputs_get_clear_errors():
    with pytest.raises(ValueError, match="method"):
        estimators.gradient_estimates(square, 0.0, 1.0, 1, 1, "finite_differences")
    with pytest.raises(ValueError, match="sigma"):
        estimators.gradient_estimates(square, 0.0, 0.0, 1, 1, "score_function")
    with pytest.raises(ValueError, match="at least 1"):
        estimators.gradient_estimates(square, 0.0, 1.0, 0, 1, "score_function")
