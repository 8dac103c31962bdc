"""metrics and exercises: separation scores, distances, and the exercise checkers."""

import numpy as np
import pytest
import torch

from course_utils import exercises, metrics


def test_knn_accuracy_separates_clusters_from_noise():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(3), 40)
    clustered = rng.normal(size=(120, 2)) * 0.1 + labels[:, None] * 5
    mixed = rng.normal(size=(120, 2))
    assert metrics.knn_accuracy(clustered, labels) > 0.95
    assert metrics.knn_accuracy(mixed, labels) < 0.6


def test_top_confusions_and_per_class_accuracy():
    true = np.array([0, 0, 0, 0, 1, 1])
    pred = np.array([0, 0, 1, 1, 1, 1])
    assert metrics.top_confusions(true, pred, ["zero", "one"], n=1) == [("zero", "one", 0.5)]
    assert metrics.per_class_accuracy(true, pred, ["zero", "one"]) == {"zero": 0.5, "one": 1.0}


def test_nearest_distances():
    d = metrics.nearest_distances(np.array([[0.0, 0.0], [3.0, 4.0]]), np.array([[0.0, 1.0], [3.0, 0.0]]))
    np.testing.assert_allclose(d, [1.0, 4.0])
    with pytest.raises(ValueError, match="dimensions"):
        metrics.nearest_distances(np.zeros((2, 2)), np.zeros((2, 3)))


def test_standard_normal_gap():
    rng = np.random.default_rng(0)
    assert metrics.standard_normal_gap(rng.standard_normal((2000, 2))) < 0.05
    assert metrics.standard_normal_gap(rng.uniform(5, 6, (2000, 2))) > 0.9


def test_centroid_distances_are_symmetric_with_zero_diagonal():
    d = metrics.centroid_distances(np.array([[0.0], [0.0], [2.0], [2.0]]), np.array([0, 0, 1, 1]))
    assert d.shape == (2, 2) and d[0, 0] == 0 and d[0, 1] == d[1, 0] > 0


def test_mismatched_labels_are_refused():
    with pytest.raises(ValueError, match="must match"):
        metrics.knn_accuracy(np.zeros((10, 2)), np.zeros(9))


def test_check_function_right_wrong_unfinished_and_broken(capsys):
    cases = [(torch.tensor([1.0, 2.0]),)]
    assert exercises.check_function(lambda x: x * 2, lambda x: x * 2, cases, "double")
    assert not exercises.check_function(lambda x: x * 3, lambda x: x * 2, cases, "double")
    assert not exercises.check_function(lambda x: None, lambda x: x * 2, cases, "double")
    assert not exercises.check_function(lambda x: 1 / 0, lambda x: x * 2, cases, "double")
    assert not exercises.check_function(lambda x: x.sum(), lambda x: x * 2, cases, "double")
    out = capsys.readouterr().out
    assert "not done yet" in out and "ZeroDivisionError" in out and "shape" in out


def test_check_function_wants_a_function():
    with pytest.raises(TypeError, match="function itself"):
        exercises.check_function(3, lambda x: x, [(1,)], "f")


def test_check_value():
    assert exercises.check_value(0.5, 0.5, "v", 0.01)
    assert not exercises.check_value("abc", 0.5, "v", 0.01)
    assert not exercises.check_value(None, 0.5, "v", 0.01)


def test_with_seed_gives_two_functions_the_same_noise_and_leaves_the_callers_state():
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    draw = exercises.with_seed(lambda n: torch.randn(n), seed=7)
    assert torch.equal(draw(3), draw(3))
    assert torch.equal(torch.random.get_rng_state(), before)
