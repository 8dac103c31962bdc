"""anomaly: per-image scores, complexity corrections, thresholds and reports, and bad input."""


import numpy as np
import torch

from course_utils import anomaly, losses, models

IMAGES = torch.rand(6, 1, 28, 28, generator=torch.Generator().manual_seed(0))


def test_reconstruction_errors_are_one_mse_per_image():
    torch.manual_seed(0)
    model = models.ConvAutoencoder(4)
    errors = anomaly.reconstruction_errors(model, IMAGES)
    with torch.no_grad():
        expected = (model(IMAGES) - IMAGES).pow(2).mean(dim=(1, 2, 3))
    assert errors.shape == (6,) and np.allclose(errors, expected.numpy(), atol=1e-6)


def test_negative_elbo_averages_to_the_lessons_loss_and_repeats_with_a_seed():
    torch.manual_seed(0)
    vae = models.ConvVAE(4)
    scores = anomaly.negative_elbo(vae, IMAGES, samples=64, seed=1)
    assert scores.shape == (6,) and np.array_equal(scores, anomaly.negative_elbo(vae, IMAGES, samples=64, seed=1))
    torch.manual_seed(2)
    with torch.no_grad():  # many one-sample estimates of the batch loss: their mean is the same quantity
        batch = np.mean([losses.vae_objective(1.0)(vae, IMAGES)["total"].item() for _ in range(64)])
    assert abs(scores.mean() - batch) < 0.01 * batch


def test_brightness_is_the_mean_pixel():
    assert np.allclose(anomaly.brightness(IMAGES), IMAGES.mean(dim=(1, 2, 3)).numpy())


def test_complexity_correction_is_model_bits_minus_compressor_bits():
    corrected = anomaly.complexity_corrected(np.array([np.log(2) * 800.0]), np.array([50]))
    assert np.allclose(corrected, [800.0 - 400.0])


def test_entropy_correction_is_zero_for_a_perfect_model():
    floor = losses.reconstruction_floor(IMAGES).numpy()
    assert np.allclose(anomaly.entropy_corrected(floor, IMAGES), 0.0, atol=1e-4)


def test_threshold_and_report_match_their_definitions():
    normal, odd = np.arange(100.0), np.array([50.0, 95.0, 99.5, 120.0])
    threshold = anomaly.threshold_at(normal, 0.9)
    assert abs(threshold - np.quantile(normal, 0.9)) < 1e-12
    report = anomaly.detection_report(normal, odd, threshold)
    flagged_normal, flagged_odd = np.sum(normal > threshold), np.sum(odd > threshold)
    assert report["recall"] == flagged_odd / len(odd)
    assert report["precision"] == flagged_odd / (flagged_odd + flagged_normal)
    assert report["false_alarms"] == flagged_normal / len(normal)
    assert 0.5 < report["auc"] < 1.0


def test_a_threshold_above_everything_flags_nothing_without_dividing_by_zero():
    report = anomaly.detection_report([0.1, 0.2], [0.3], threshold=1.0)
    assert report["precision"] == 0.0 and report["recall"] == 0.0 and report["false_alarms"] == 0.0


def test_extremes_are_the_highest_and_lowest_scores_in_order():
    most, least = anomaly.extremes(np.array([0.3, 0.9, 0.1, 0.5]), n=2)
    assert list(most) == [1, 3] and list(least) == [2, 0]


def test_pixel_background_matches_each_pixels_mean_for_both_likelihoods():
    for likelihood in ("bernoulli", "continuous-bernoulli"):
        background = anomaly.pixel_background(IMAGES, likelihood)
        # torch computes the continuous Bernoulli's mean by a Taylor series near 0.5, hence the tolerance
        assert torch.allclose(background.base_dist.mean, IMAGES.mean(dim=0), atol=2e-3)
        assert background.log_prob(IMAGES).shape == (6,)


def test_likelihood_ratio_is_zero_against_itself_and_subtracts_the_background():
    background = anomaly.pixel_background(IMAGES)
    own_nll = -background.log_prob(IMAGES).numpy()
    assert np.allclose(anomaly.likelihood_ratio(own_nll, background, IMAGES), 0.0, atol=1e-3)
    assert np.allclose(anomaly.likelihood_ratio(own_nll + 5.0, background, IMAGES), 5.0, atol=1e-3)


def test_continuous_bernoulli_elbo_averages_to_its_training_loss():
    torch.manual_seed(0)
    vae = models.ConvVAE(4)
    scores = anomaly.negative_elbo(vae, IMAGES, samples=64, seed=1, likelihood="continuous-bernoulli")
    torch.manual_seed(2)
    objective = losses.vae_objective(1.0, kind="continuous-bernoulli")
    with torch.no_grad():
        batch = np.mean([objective(vae, IMAGES)["total"].item() for _ in range(64)])
    assert abs(scores.mean() - batch) < 0.05 * abs(batch) + 0.5
