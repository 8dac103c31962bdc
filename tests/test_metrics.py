"""metrics added for the claims matrix: saturation, holes, and a pixel reader."""

import numpy as np
import pytest
import torch

from course_utils import metrics


def test_saturation_counts_pixels_near_black_or_white():
    images = torch.tensor([[[[0.0, 1.0], [0.5, 0.97]]]])
    assert metrics.saturation(images) == pytest.approx(0.75)
    assert metrics.saturation(torch.full((2, 1, 4, 4), 0.5)) == 0.0
    with pytest.raises(ValueError, match="margin must be between 0 and 0.5"):
        metrics.saturation(images, margin=0.6)


def test_hole_share_is_about_five_percent_for_real_codes_and_high_far_away():
    codes = torch.randn(4000, 2, generator=torch.Generator().manual_seed(0))
    fresh = torch.randn(2000, 2, generator=torch.Generator().manual_seed(1))
    share, radius = metrics.hole_share(fresh, codes)
    assert 0.02 < share < 0.09 and radius > 0  # 5% by construction, up to sampling noise
    far, _ = metrics.hole_share(fresh * 10, codes)
    assert far > 0.7
    with pytest.raises(ValueError, match=r"shape \(N, latent_dim\) with N >= 4"):
        metrics.hole_share(fresh, codes[:3])


def test_pixel_reader_reads_images_like_their_nearest_neighbours():
    dark, bright = torch.zeros(5, 1, 28, 28), torch.ones(5, 1, 28, 28)
    reader = metrics.pixel_reader(torch.cat([dark, bright]), np.array([0] * 5 + [1] * 5))
    assert reader.predict(torch.full((2, 784), 0.9).numpy()).tolist() == [1, 1]
    with pytest.raises(ValueError, match="10 points but 3 labels"):
        metrics.pixel_reader(torch.cat([dark, bright]), np.array([0, 1, 0]))


def test_classes_reached_counts_classes_with_a_fair_share():
    predictions = np.array([0] * 97 + [1] * 2 + [2])
    assert metrics.classes_reached(predictions) == 2  # class 2 has 1%, below the 2% bar
    assert metrics.classes_reached(predictions, share=0.01) == 3
    with pytest.raises(ValueError, match="class indices"):
        metrics.classes_reached(np.array([], dtype=int))
