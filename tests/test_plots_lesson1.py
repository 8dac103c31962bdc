"""plots added for lesson 1: thumbnails at their codes, and error against latent size."""

import numpy as np
import pytest
import torch
from matplotlib.offsetbox import AnnotationBbox

from course_utils import plots

RNG = np.random.default_rng(0)
CODES = RNG.normal(size=(300, 2)).astype(np.float32)
IMAGES = torch.rand(300, 1, 28, 28)
LABELS = torch.from_numpy(RNG.integers(0, 10, size=300))



def thumbnails(fig) -> list[AnnotationBbox]:
    """The thumbnail boxes drawn on the figure's main axes."""
    return [a for a in fig.axes[0].artists if isinstance(a, AnnotationBbox)]


def test_thumbnails_sit_at_their_codes_and_stay_within_the_limit():
    fig = plots.plot_thumbnails_on_latent(CODES, IMAGES, LABELS, n_thumbnails=25)
    boxes = thumbnails(fig)
    assert 5 <= len(boxes) <= 25
    for box in boxes:
        assert np.min(np.linalg.norm(CODES - np.asarray(box.xy, dtype=np.float32), axis=1)) < 1e-6, "not at a code"


def test_thumbnails_never_pile_on_one_spot():
    same_place = np.zeros((50, 2), dtype=np.float32)
    same_place[:3] = [[-1, -1], [1, 1], [1, -1]]  # give the view some size
    fig = plots.plot_thumbnails_on_latent(same_place, IMAGES[:50], n_thumbnails=40, quantile=0.0)
    at_origin = [box for box in thumbnails(fig) if np.allclose(box.xy, 0)]
    assert len(at_origin) == 1


def test_thumbnail_marks_are_labelled():
    fig = plots.plot_thumbnails_on_latent(CODES, IMAGES, marks={"empty spot": (0.5, 0.5)})
    assert "empty spot" in [t.get_text() for t in fig.axes[0].texts]


def test_thumbnails_refuse_bad_input():
    with pytest.raises(ValueError, match="2-D codes"):
        plots.plot_thumbnails_on_latent(np.zeros((300, 3)), IMAGES)
    with pytest.raises(ValueError, match="300 codes but 10 images"):
        plots.plot_thumbnails_on_latent(CODES, IMAGES[:10])
    with pytest.raises(ValueError, match="labels"):
        plots.plot_thumbnails_on_latent(CODES, IMAGES, LABELS[:5])
    with pytest.raises(ValueError, match="n_thumbnails"):
        plots.plot_thumbnails_on_latent(CODES, IMAGES, n_thumbnails=0)
    with pytest.raises(ValueError, match="mark"):
        plots.plot_thumbnails_on_latent(CODES, IMAGES, marks={"bad": (1.0, 2.0, 3.0)})


def test_error_by_latent_size_plots_sorted_sizes_and_baselines():
    fig = plots.plot_error_by_latent_size({8: 0.02, 2: 0.04, 32: 0.018}, baselines={"average": 0.08})
    ax = fig.axes[0]
    curve, baseline = ax.lines
    assert list(curve.get_xdata()) == [2, 8, 32]
    assert list(curve.get_ydata()) == [0.04, 0.02, 0.018]
    assert baseline.get_ydata()[0] == pytest.approx(0.08)
    assert ax.get_xscale() == "log"


def test_error_by_latent_size_refuses_bad_input():
    with pytest.raises(ValueError, match="empty"):
        plots.plot_error_by_latent_size({})
    with pytest.raises(ValueError, match="positive integers"):
        plots.plot_error_by_latent_size({0: 0.1, 2: 0.05})
