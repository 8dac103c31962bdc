"""features: balanced label draws, linear probes, fine-tuning an encoder with a head, and bad input."""


import numpy as np
import torch

from course_utils import features, models

G = torch.Generator().manual_seed(0)
LABELS = torch.arange(200) % 4
# four classes that differ in brightness: easy for any method once it sees a few labels
IMAGES = (0.15 * LABELS.view(-1, 1, 1, 1).float() + 0.05 * torch.rand(200, 1, 28, 28, generator=G)).clamp(0, 1)


def test_balanced_draw_takes_the_same_number_of_each_class_and_repeats_with_a_seed():
    chosen = features.balanced_draw(LABELS, 8, seed=3)
    assert len(chosen) == 8 and np.bincount(LABELS[chosen].numpy()).tolist() == [2, 2, 2, 2]
    assert np.array_equal(chosen, features.balanced_draw(LABELS, 8, seed=3))
    assert not np.array_equal(chosen, features.balanced_draw(LABELS, 8, seed=4))


def test_probe_accuracy_learns_separable_features():
    flat = IMAGES.flatten(1)
    assert features.probe_accuracy(flat[:100], LABELS[:100], flat[100:], LABELS[100:]) > 0.95


def test_probe_curves_use_the_same_draws_for_every_feature_set():
    flat = IMAGES.flatten(1)
    curves = features.probe_curves({"a": (flat, flat), "b": (flat, flat)}, LABELS, LABELS, (4, 20), draws=2)
    assert curves["a"] == curves["b"] and set(curves["a"]) == {4, 20} and len(curves["a"][20]) == 2


def test_fine_tune_trains_the_encoder_too_and_leaves_the_source_untouched():
    torch.manual_seed(0)
    autoencoder = models.ConvAutoencoder(4)
    before = [p.clone() for p in autoencoder.encoder.parameters()]
    build = features.pretrained_encoder(autoencoder)
    classifier = models.EncoderClassifier(build(), 4, n_classes=4)
    start = [p.clone() for p in classifier.encoder.parameters()]
    features.fine_tune(classifier, IMAGES[:40], LABELS[:40], steps=30, lr=3e-3)
    assert any(not torch.equal(a, b) for a, b in zip(start, classifier.encoder.parameters()))
    assert all(torch.equal(a, b) for a, b in zip(before, autoencoder.encoder.parameters()))
    assert features.classifier_accuracy(classifier, IMAGES[100:], LABELS[100:]) > 0.9


def test_fine_tune_curves_and_summary_cover_every_count_and_draw():
    torch.manual_seed(0)
    results = features.fine_tune_curves({"fresh": lambda: models.ConvAutoencoder(4).encoder}, 4, IMAGES, LABELS,
                                        IMAGES[:50], LABELS[:50], (4, 8), draws=2, steps=3)
    assert set(results["fresh"]) == {4, 8} and all(len(v) == 2 for v in results["fresh"].values())
    mean, spread = features.summary(results)["fresh"][4]
    assert 0 <= mean <= 1 and spread >= 0


def test_the_classifier_outputs_one_logit_per_class():
    model = models.EncoderClassifier(models.ConvAutoencoder(4).encoder, 4, n_classes=3)
    assert model(IMAGES[:5]).shape == (5, 3)
