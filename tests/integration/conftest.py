"""Fixtures shared by the integration tests: the lessons run once, in fast mode, for the decks and the site."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from course_tools import slides

LESSONS = sorted(slides.NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))


@pytest.fixture(scope="session")
def build_result(tmp_path_factory) -> tuple[Path, dict[str, slides.Deck], dict[str, str]]:
    """Every deck, built once into a temporary folder the way the CLI builds them.

    The executed lessons are kept in ``<output>/executed`` for the course website's test.
    """
    output = tmp_path_factory.mktemp("slides-build")
    failures: dict[str, str] = {}
    # The model cache conftest sets for the session is kept: the lessons' models are trained once,
    # by whichever of nbval, this build or the browser tests runs a lesson first.
    try:
        # two lessons at a time: by now the claims matrix has cached their models, so they mostly draw
        decks = slides.build([p.stem for p in LESSONS], output=output, fast=True, keep_executed=output / "executed",
                             jobs=2)
    except slides.LessonsFailed as error:  # the other lessons' decks are still tested
        decks, failures = error.decks, error.failures
    return output, {deck.name: deck for deck in decks}, failures


@pytest.fixture(scope="session")
def refuse_network() -> Callable[..., list[str]]:
    """``refuse_network(context, allowed)``: the browser context loads only URLs starting with ``allowed``."""
    return _refuse_network


def _refuse_network(context, allowed: tuple[str, ...] = ("file://", "data:")) -> list[str]:
    """Let a browser context load only URLs starting with ``allowed``; abort and list every other request."""
    refused: list[str] = []

    def route_request(route):
        if route.request.url.startswith(allowed):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    context.route("**/*", route_request)
    return refused
