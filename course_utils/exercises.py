"""Checkers for the lessons' exercises: compare a student's function with the course's own.

The reference implementations live in ``course_utils`` (not in the notebook), so a lesson can
say "write the KL term" and check the answer without showing it. Checkers print feedback and
return True or False; they never raise on a wrong, unfinished, slow or broken answer.
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import signal
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import torch

from course_utils.checks import positive_int, to_numpy

#: Seconds a student's function may spend on one test case before the checker stops it.
TIME_LIMIT_S = 10.0


@contextlib.contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """Raise TimeoutError in the code inside after ``seconds``.

    It needs a timer signal, which Unix and macOS offer in a notebook's main thread; elsewhere
    (Windows) the code runs without a limit.
    """
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: Any) -> None:
        raise TimeoutError

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _numbers(value: Any) -> np.ndarray | str:
    """``value`` as a float array, or a sentence saying what it is instead."""
    if value is None or isinstance(value, (str, bytes, dict, set)) or inspect.isgenerator(value) or callable(value):
        return f"returned a {type(value).__name__}, not a number, an array or a tensor"
    try:
        return to_numpy(value).astype(np.float64)
    except (TypeError, ValueError, RuntimeError):
        return f"returned a {type(value).__name__} that is not made of numbers"


def check_function(
    candidate: Callable[..., Any],
    reference: Callable[..., Any],
    cases: Sequence[tuple],
    name: str,
    atol: float = 1e-5,
    rtol: float = 1e-4,
    time_limit: float = TIME_LIMIT_S,
) -> bool:
    """Call ``candidate`` and ``reference`` on every case of arguments; say whether they agree.

    Each function gets its own copies of the arguments, the reference first, so a function that
    changes its inputs in place (``mu **= 2``) can neither fool the check nor spoil the next case.
    """
    if not callable(candidate):
        raise TypeError(f"Pass your function itself (e.g. my_{name}), not {type(candidate).__name__}.")
    for number, args in enumerate(cases, start=1):
        expected = _numbers(reference(*copy.deepcopy(args)))
        try:
            with _time_limit(time_limit):
                got = candidate(*copy.deepcopy(args))
        except NotImplementedError:
            print(f"{name}: not done yet. Fill in the function, then run this cell again.")
            return False
        except TimeoutError:
            print(f"{name}: case {number} ran for more than {time_limit:g} s, so it was stopped. "
                  "Look for a loop that never ends.")
            return False
        except Exception as error:  # a student's bug: report it, do not crash the lesson
            print(f"{name}: your function raised {type(error).__name__}: {error}")
            return False
        if got is None:
            print(f"{name}: not done yet (your function returned None).")
            return False
        got_array = _numbers(got)
        if isinstance(got_array, str):
            print(f"{name}: case {number}: your function {got_array}.")
            return False
        if got_array.shape != expected.shape:
            print(f"{name}: case {number} has shape {got_array.shape}, expected {expected.shape}.")
            return False
        if np.isnan(got_array).any() and not np.isnan(expected).any():
            print(f"{name}: case {number} gives NaN (not a number). Look for 0 / 0, the log or square root "
                  "of a negative number, or exp of a huge one.")
            return False
        if not np.allclose(got_array, expected, atol=atol, rtol=rtol, equal_nan=True):
            worst = float(np.nanmax(np.abs(got_array - expected)))
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


def check_prediction(
    prediction: object, outcome: str | Mapping[Any, str], choices: Sequence[str]
) -> bool | None:
    """Say whether a "predict, then run" guess matches what the run measured; None while nothing is predicted.

    ``prediction`` and ``outcome`` are one answer (a string from ``choices``) or a dict of answers with the
    same keys, e.g. ``{2: "AE", 32: "PCA"}``. The measured outcome is always printed, guess or not.
    """
    outcomes = dict(outcome) if isinstance(outcome, Mapping) else {None: outcome}
    guesses = dict(prediction) if isinstance(prediction, Mapping) else {None: prediction}
    allowed = {str(c).strip().lower(): str(c) for c in choices}
    verdicts = []
    for key, measured in outcomes.items():
        where = "" if key is None else f"{key}: "
        guess = guesses.get(key)
        if guess is None:
            print(f"{where}measured {measured!r} (you wrote no prediction: next time commit to a guess first)")
            continue
        if str(guess).strip().lower() not in allowed:
            print(f"{where}your prediction {guess!r} is not one of {list(choices)}; measured {measured!r}")
            verdicts.append(False)
            continue
        right = str(guess).strip().lower() == str(measured).strip().lower()
        verdicts.append(right)
        print(f"{where}you predicted {guess!r}, measured {measured!r}: "
              + ("right!" if right else "not this time: read on for why"))
    return None if not verdicts else all(verdicts)


def check_and_train_vae_loss(
    loss_fn: Callable[..., torch.Tensor],
    train_images: torch.Tensor,
    val_images: torch.Tensor,
    steps: int,
    seed: int = 0,
    lr: float = 1e-2,
    device: torch.device | str = "cpu",
) -> tuple[dict[str, list[float]], float, float] | None:
    """Check a student's ``loss_fn(logits, x, mu, logvar)`` against ``losses.vae_loss``, then train with it.

    Once the values match, a small 2-D VAE trains for about ``steps`` Adam steps driven by ``loss_fn`` alone,
    with the course's loss logged on the same batches beside it. Returns (per-epoch losses, validation
    negative ELBO before, after), or None while the function is not right yet.
    """
    from course_utils import losses, models, train  # training needs the layers below this one

    steps = positive_int("steps", steps)
    generator = torch.Generator().manual_seed(seed)
    cases = [(torch.randn(4, 1, 28, 28, generator=generator), torch.rand(4, 1, 28, 28, generator=generator),
              torch.randn(4, d, generator=generator), torch.randn(4, d, generator=generator)) for d in (2, 16)]
    if not check_function(loss_fn, lambda *args: losses.vae_loss(*args)["total"], cases, name="vae_loss"):
        return None

    def objective(model: torch.nn.Module, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        logits, mu, logvar = model.forward_parts(batch)
        return {"total": loss_fn(logits, batch, mu, logvar),  # the student's loss drives the training
                "course": losses.vae_loss(logits, batch, mu, logvar)["total"].detach()}

    epochs, batch_size = 3, 32
    images = train_images[: steps * batch_size // epochs]
    torch.manual_seed(seed)
    model = models.ConvVAE(latent_dim=2).to(device)
    before = train.evaluate(model, val_images, losses.vae_objective(1.0))["total"]
    history = train.fit(model, images, epochs=epochs, objective=objective, lr=lr, batch_size=batch_size, seed=seed,
                        schedule="one-cycle", progress=False)
    after = train.evaluate(model, val_images, losses.vae_objective(1.0))["total"]
    print("training loss per epoch, your function: ", ", ".join(f"{v:.2f}" for v in history.train["total"]))
    print("the same batches, losses.vae_loss:      ", ", ".join(f"{v:.2f}" for v in history.train["course"]))
    print(f"validation negative ELBO: {before:.1f} untrained, {after:.1f} after "
          f"{epochs * -(-len(images) // batch_size)} steps")
    return history.train, before, after
