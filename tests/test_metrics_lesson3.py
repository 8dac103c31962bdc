"""metrics (lesson 3): silhouette, clustering agreement, per-image errors, detection AUC."""

import numpy as np
import pytest
import torch

from course_utils import metrics

RNG = np.random.default_rng(0)
LABELS = np.repeat(np.arange(3), 40)
CLUSTERED = RNG.normal(size=(120, 2)) * 0.1 + LABELS[:, None] * 5
MIXED = RNG.normal(size=(120, 2))


def test_silhouette_is_high_for_clusters_and_near_zero_for_noise():
    assert metrics.silhouette(CLUSTERED, LABELS) > 0.9
    assert abs(metrics.silhouette(MIXED, LABELS)) < 0.1


def test_cluster_agreement_finds_clusters_but_not_noise():
    assert metrics.cluster_agreement(CLUSTERED, LABELS) > 0.95
    assert metrics.cluster_agreement(MIXED, LABELS) < 0.2


def test_separation_scores_refuse_bad_labels():
    with pytest.raises(ValueError, match="must match"):
        metrics.silhouette(CLUSTERED, LABELS[:-1])
    with pytest.raises(ValueError, match="two classes"):
        metrics.cluster_agreement(CLUSTERED, np.zeros(120))


def test_per_image_mse_is_one_number_per_image():
    images = torch.zeros(3, 1, 28, 28)
    recon = images.clone()
    recon[1] = 0.5
    errors = metrics.per_image_mse(recon, images)
    assert errors.shape == (3,)
    torch.testing.assert_close(errors, torch.tensor([0.0, 0.25, 0.0]))
    with pytest.raises(ValueError, match="same shape"):
        metrics.per_image_mse(recon[:2], images)


def test_detection_auc_perfect_random_and_reversed():
    assert metrics.detection_auc([0.1, 0.2], [0.5, 0.9]) == 1.0
    assert metrics.detection_auc([0.5, 0.9], [0.1, 0.2]) == 0.0
    assert metrics.detection_auc([0.1, 0.5], [0.1, 0.5]) == 0.5
    with pytest.raises(ValueError, match="at least one"):
        metrics.detection_auc([], [0.5])
