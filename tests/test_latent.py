"""latent.far_ring: points where the decoder never saw a code."""

import pytest
import torch

from course_utils import latent, metrics


def test_far_ring_lies_outside_every_code():
    codes = torch.randn(500, 2, generator=torch.Generator().manual_seed(0)) * torch.tensor([3.0, 1.0]) + 5
    ring = latent.far_ring(codes, n=16, factor=2.0)
    assert ring.shape == (16, 2)
    reach = (codes - codes.median(dim=0).values).norm(dim=1).max()
    assert metrics.nearest_distances(ring, codes).min() >= reach * 0.99  # at least one code radius away


def test_far_ring_refuses_codes_it_cannot_draw_around():
    with pytest.raises(ValueError, match=r"needs 2-D codes of shape \(N, 2\)"):
        latent.far_ring(torch.zeros(10, 16))
    with pytest.raises(ValueError, match="factor above 1"):
        latent.far_ring(torch.zeros(10, 2), factor=1.0)
