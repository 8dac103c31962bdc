"""Monte Carlo estimators of the gradient of an expectation, d/dmu E_{z ~ N(mu, sigma^2)}[f(z)].

Two unbiased ways to push a gradient through a random draw: the **reparameterization** trick (differentiate f
along z = mu + sigma * eps; Kingma & Welling, 2014) and the **score function** or REINFORCE estimator
(f(z) * d/dmu log q(z); Williams, 1992), which needs no gradient of f at all. Survey: Mohamed et al. (2020).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import torch

Method = Literal["reparameterization", "score_function"]
METHODS: tuple[Method, ...] = ("reparameterization", "score_function")


def gradient_estimates(
    f: Callable[[torch.Tensor], torch.Tensor],
    mu: float,
    sigma: float,
    n_samples: int,
    n_estimates: int,
    method: Method,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """``n_estimates`` independent estimates of d/dmu E_{N(mu, sigma^2)}[f(z)], each averaging ``n_samples`` draws."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}.")
    if not sigma > 0:
        raise ValueError(f"sigma must be positive (a standard deviation), got {sigma!r}.")
    if n_samples < 1 or n_estimates < 1:
        raise ValueError(f"n_samples and n_estimates must be at least 1, got {n_samples} and {n_estimates}.")
    # one copy of mu per estimate, so that one backward pass returns every estimate separately
    mus = torch.full((n_estimates, 1), float(mu), dtype=torch.float64, requires_grad=True)
    eps = torch.randn(n_estimates, n_samples, generator=generator, dtype=torch.float64)
    if method == "reparameterization":
        surrogate = f(mus + sigma * eps)  # z is a differentiable function of mu: the gradient flows through f
    else:
        z = (float(mu) + sigma * eps).detach()  # a plain draw: no gradient path through z or f
        log_q = torch.distributions.Normal(mus, sigma).log_prob(z)
        surrogate = f(z).detach() * log_q  # its gradient is f(z) * d/dmu log q(z), the score function
    (grad,) = torch.autograd.grad(surrogate.mean(dim=1).sum(), mus)
    return grad.squeeze(1)
