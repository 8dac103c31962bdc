"""Checkers for the lessons' exercises: compare a student's function with the course's own.

The reference implementations live in ``course_utils`` (not in the notebook), so a lesson can
say "write the KL term" and check the answer without showing it. Checkers print feedback and
return True or False; they never raise on a wrong or unfinished answer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from course_utils.checks import to_numpy


def check_function(
    candidate: Callable[..., Any],
    reference: Callable[..., Any],
    cases: Sequence[tuple],
    name: str,
    atol: float = 1e-5,
    rtol: float = 1e-4,
) -> bool:
    """Call ``candidate`` and ``reference`` on every case of arguments; say whether they agree."""
    if not callable(candidate):
        raise TypeError(f"Pass your function itself (e.g. my_{name}), not {type(candidate).__name__}.")
    for number, args in enumerate(cases, start=1):
        try:
            got = candidate(*args)
        except NotImplementedError:
            print(f"{name}: not done yet. Fill in the function, then run this cell again.")
            return False
        except Exception as error:  # a student's bug: report it, do not crash the lesson
            print(f"{name}: your function raised {type(error).__name__}: {error}")
            return False
        if got is None:
            print(f"{name}: not done yet (your function returned None).")
            return False
        expected = to_numpy(reference(*args))
        got_array = to_numpy(got)
        if got_array.shape != expected.shape:
            print(f"{name}: case {number} has shape {got_array.shape}, expected {expected.shape}.")
            return False
        if not np.allclose(got_array, expected, atol=atol, rtol=rtol):
            worst = float(np.max(np.abs(got_array - expected)))
            print(f"{name}: case {number} is off by up to {worst:.3g}. Check your formula.")
            return False
    print(f"{name}: correct on all {len(cases)} test cases. Well done!")
    return True


def with_seed(function: Callable[..., Any], seed: int) -> Callable[..., Any]:
    """``function`` run with PyTorch's generator seeded to ``seed`` each call, the caller's state untouched.

    So a student's random function and the course's draw the same noise and can be compared.
    """
    def run(*args: Any) -> Any:
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            return function(*args)

    return run
