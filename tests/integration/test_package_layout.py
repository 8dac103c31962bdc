"""The package's layering: every module imports only modules below it, so no two import each other.

Read from the bottom up: ``checks`` (shared guards) and ``config``, then data, models and losses,
then training, then scores and the latent space, then the trained-model zoo, then everything that
shows something (display, plots, widgets, quiz, exercises).
"""

from __future__ import annotations

import ast

import pytest

from course_utils import config

LAYERS = [
    "checks", "config", "claims", "data", "losses", "estimators", "models", "conditional", "scratch", "cuda_graph",
    "train",
    "discrete", "twostage", "checkpoints", "metrics", "compression", "anomaly", "latent", "projection", "features",
    "zoo", "display", "plots", "diagrams", "widgets", "quiz", "exercises",
]
PACKAGE = config.REPO_ROOT / "course_utils"


def _course_imports(module: str) -> set[str]:
    """The course_utils modules that ``module`` imports, at the top or inside a function."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("course_utils"):
            if node.module == "course_utils":
                found.update(alias.name for alias in node.names)
            else:
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names if a.name.startswith("course_utils."))
    return found


def test_every_module_has_a_place_in_the_layers():
    modules = {path.stem for path in PACKAGE.glob("*.py")} - {"__init__"}
    assert modules == set(LAYERS), f"add new modules to LAYERS: {sorted(modules ^ set(LAYERS))}"


@pytest.mark.parametrize("module", LAYERS)
def test_a_module_imports_only_modules_below_it(module: str):
    above = set(LAYERS[LAYERS.index(module):])
    assert not _course_imports(module) & above, f"{module} imports {sorted(_course_imports(module) & above)}"


def test_scores_draw_nothing():
    tree = ast.parse((PACKAGE / "metrics.py").read_text())
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} | {
        a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert not any(name and name.startswith("matplotlib") for name in imported)
