"""projection: t-SNE keeps well-separated clusters apart, and refuses impossible settings."""

import numpy as np
import pytest
import torch
from scipy.linalg import subspace_angles

from course_utils import metrics, projection


def test_tsne_of_separated_clusters_keeps_them_apart():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(3), 30)
    points = rng.normal(size=(90, 10)) + labels[:, None] * 10.0
    embedded = projection.tsne(points, perplexity=10, max_iter=250)
    assert embedded.shape == (90, 2)
    assert metrics.knn_accuracy(embedded, labels) > 0.95


def test_tsne_flattens_images_and_is_reproducible():
    images = torch.rand(40, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    first = projection.tsne(images, perplexity=5, max_iter=250, seed=1)
    again = projection.tsne(images, perplexity=5, max_iter=250, seed=1)
    assert first.shape == (40, 2)
    np.testing.assert_allclose(first, again)


@pytest.mark.parametrize("kwargs", [{"perplexity": 50}, {"perplexity": 0}, {"max_iter": 100}])
def test_tsne_refuses_impossible_settings(kwargs):
    with pytest.raises(ValueError):
        projection.tsne(np.zeros((20, 3)), **kwargs)


def test_tsne_refuses_a_flat_list():
    with pytest.raises(ValueError, match="shape"):
        projection.tsne(np.zeros(20))


def test_tsne_refuses_bad_thread_counts():
    with pytest.raises(ValueError, match="threads"):
        projection.tsne(np.zeros((20, 3)), perplexity=5, threads=0)


def test_pca_errors_fall_with_the_code_size_and_match_a_full_svd():
    rng = np.random.default_rng(0)
    train = rng.normal(size=(200, 30)) @ rng.normal(size=(30, 30)) * np.linspace(3, 0.1, 30)
    val = rng.normal(size=(50, 30)) @ rng.normal(size=(30, 30)) * np.linspace(3, 0.1, 30)
    errors = projection.pca_reconstruction_errors(train, val, (1, 4, 16, 30))
    assert errors[1] > errors[4] > errors[16] > errors[30]
    assert errors[30] == pytest.approx(0.0, abs=1e-9)  # every direction kept: a perfect copy
    centred = val - train.mean(axis=0)
    top = np.linalg.svd(train - train.mean(axis=0), full_matrices=False)[2][:4]
    assert errors[4] == pytest.approx(np.mean((centred @ top.T @ top - centred) ** 2), rel=1e-6)


@pytest.mark.parametrize("sizes, message", [((), "non-empty"), ((0,), "positive integer"), ((60,), "at most 40")])
def test_pca_errors_refuse_impossible_sizes(sizes, message):
    with pytest.raises(ValueError, match=message):
        projection.pca_reconstruction_errors(np.zeros((40, 50)), np.zeros((5, 50)), sizes)


def test_fit_pca_finds_the_directions_of_largest_variance():
    rng = np.random.default_rng(0)
    points = rng.standard_normal((500, 5)) * np.array([5.0, 3.0, 0.1, 0.1, 0.1])
    pca = projection.fit_pca(points, n_components=2)
    np.testing.assert_allclose(np.abs(pca.components_), np.eye(5)[:2], atol=0.05)
    images = torch.rand(30, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    assert projection.fit_pca(images, 3).components_.shape == (3, 784)
    with pytest.raises(ValueError, match="at most 30"):
        projection.fit_pca(images, 31)


def test_linear_autoencoder_finds_the_plane_of_largest_variance():
    generator = torch.Generator().manual_seed(0)
    # Images that vary along two fixed patterns (strongly) and in noise (weakly): PCA's plane is the patterns'.
    patterns = torch.zeros(2, 784)
    patterns[0, :392], patterns[1, 392:] = 1.0, 1.0
    weights = torch.rand(600, 2, generator=generator) * torch.tensor([0.5, 0.3])
    images = (0.1 + weights @ patterns + 0.02 * torch.rand(600, 784, generator=generator)).reshape(-1, 1, 28, 28)
    threads = torch.get_num_threads()
    model, history = projection.linear_autoencoder(images, 2, epochs=60, seed=0, progress=False)
    assert torch.get_num_threads() == threads  # restored
    assert history.train["total"][-1] < history.train["total"][0]
    pca_plane = projection.fit_pca(images, 2).components_.T
    assert np.degrees(subspace_angles(pca_plane, patterns.T.numpy())).max() < 2
    assert np.degrees(subspace_angles(model.directions().numpy(), pca_plane)).max() < 2
