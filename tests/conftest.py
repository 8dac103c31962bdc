"""Fixtures shared by the tests: closed matplotlib figures, and one browser for the slide and JupyterLab tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import matplotlib
import pytest
import torch

# Figures drawn by the unit tests go nowhere (this sets the test process only; the notebook kernels
# keep JupyterLab's inline backend, since they must show their figures).
matplotlib.use("Agg")

from course_tools.slides import CHROMIUM, CHROMIUM_ARGS  # noqa: E402 (after matplotlib.use)


@pytest.fixture(autouse=True)
def close_figures() -> Iterator[None]:
    """Close every figure a test drew, so that none piles up across the session."""
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the whole session.

    Playwright's sync API allows one running instance per thread, so the slide and JupyterLab
    tests must share this fixture rather than each start their own.
    """
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: install it (apt-get install chromium chromium-driver) "
                    "or point COURSE_CHROMIUM at a Chromium binary")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is missing: pip install -e '.[dev]'")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def images() -> torch.Tensor:
    """256 images of a white square at different places: something an autoencoder can learn in seconds."""
    torch.manual_seed(0)
    base = torch.zeros(256, 1, 28, 28)
    for i in range(256):
        r, c = 4 + (i * 7) % 18, 4 + (i * 11) % 18
        base[i, 0, r : r + 6, c : c + 6] = 1.0
    return base
