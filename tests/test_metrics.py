"""Scores: class separation, distances, reconstruction errors, image quality."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_utils import metrics, models

RNG = np.random.default_rng(0)


LABELS = np.repeat(np.arange(3), 40)


CLUSTERED = RNG.normal(size=(120, 2)) * 0.1 + LABELS[:, None] * 5


MIXED = RNG.normal(size=(120, 2))


def test_saturation_counts_pixels_near_black_or_white():
    images = torch.tensor([[[[0.0, 1.0], [0.5, 0.97]]]])
    assert metrics.saturation(images) == pytest.approx(0.75)
    assert metrics.saturation(torch.full((2, 1, 4, 4), 0.5)) == 0.0
    with pytest.raises(ValueError, match="margin must be between 0 and 0.5"):
        metrics.saturation(images, margin=0.6)


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


def test_mismatched_labels_are_refused():
    with pytest.raises(ValueError, match="must match"):
        metrics.knn_accuracy(np.zeros((10, 2)), np.zeros(9))


def test_nearest_indices_pick_the_closest_reference():
    references = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    queries = np.array([[9.0, 1.0], [1.0, 8.0], [0.2, -0.1]])
    assert metrics.nearest_indices(queries, references).tolist() == [1, 2, 0]


def test_nearest_indices_accept_one_point_and_agree_with_nearest_distances():
    rng = np.random.default_rng(0)
    references, queries = rng.normal(size=(50, 2)), rng.normal(size=(7, 2))
    assert metrics.nearest_indices(queries[0], references).shape == (1,)
    index = metrics.nearest_indices(torch.from_numpy(queries), references, chunk=3)  # several chunks
    distance = metrics.nearest_distances(queries, references)
    assert np.allclose(np.linalg.norm(queries - references[index], axis=1), distance, atol=1e-5)


def test_nearest_indices_refuse_mismatched_or_empty_queries():
    with pytest.raises(ValueError, match="dimensions"):
        metrics.nearest_indices(np.zeros((2, 3)), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="queries"):
        metrics.nearest_indices(np.zeros((0, 2)), np.zeros((4, 2)))


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


def test_sharpness_of_flat_and_checkerboard_images():
    flat = torch.full((2, 1, 8, 8), 0.3)
    board = (torch.arange(8)[:, None] + torch.arange(8)[None, :]) % 2
    board = board.float().view(1, 1, 8, 8)
    assert metrics.sharpness(flat) == pytest.approx([0.0, 0.0])
    assert metrics.sharpness(board) == pytest.approx([1.0])  # every neighbour differs by 1


def test_blurring_lowers_sharpness():
    torch.manual_seed(0)
    images = (torch.rand(5, 1, 28, 28) > 0.7).float()
    blurred = F.avg_pool2d(images, 3, stride=1, padding=1)
    assert np.all(metrics.sharpness(blurred) < 0.5 * metrics.sharpness(images))


def test_sharpness_accepts_arrays_without_channel_axis():
    images = np.random.default_rng(0).random((3, 28, 28))
    assert metrics.sharpness(images).shape == (3,)
    assert np.allclose(metrics.sharpness(images), metrics.sharpness(torch.from_numpy(images).unsqueeze(1)))


@pytest.mark.parametrize("shape", [(28, 28), (4, 3, 28, 28), (4, 1, 1, 28)])
def test_sharpness_refuses_bad_shapes(shape):
    with pytest.raises(ValueError, match="batch of images"):
        metrics.sharpness(torch.zeros(shape))


def test_generation_scores_punish_a_generator_that_repeats_one_image():
    torch.manual_seed(0)
    train_images = torch.rand(200, 1, 8, 8)
    test_images = train_images[:50] + 0.01 * torch.randn(50, 1, 8, 8)
    varied = train_images[50:150]  # many real images: close to data and covering it
    repeated = train_images[:1].repeat(100, 1, 1, 1)  # one real image, a hundred times
    good, lazy = (metrics.generation_scores(s, train_images, test_images) for s in (varied, repeated))
    assert good["to_data"] == pytest.approx(0.0) and lazy["to_data"] == pytest.approx(0.0)
    assert lazy["to_samples"] > good["to_samples"]  # only coverage tells them apart
    noise = metrics.generation_scores(torch.rand(100, 1, 8, 8) * 5, train_images, test_images)
    assert noise["to_data"] > good["to_data"] + 1


def test_generation_scores_refuse_mismatched_sizes():
    with pytest.raises(ValueError, match="same image size"):
        metrics.generation_scores(torch.rand(5, 1, 8, 8), torch.rand(5, 1, 28, 28), torch.rand(5, 1, 28, 28))


def test_variety_is_zero_for_copies_and_grows_with_differences():
    one = torch.rand(1, 1, 28, 28)
    assert metrics.variety(one.repeat(5, 1, 1, 1)) == pytest.approx(0.0, abs=1e-6)
    halves = torch.cat([torch.zeros(2, 1, 28, 28), torch.ones(2, 1, 28, 28)])
    assert metrics.variety(halves) == pytest.approx(0.5)  # each pixel: two 0s and two 1s, std 0.5
    assert metrics.variety(torch.rand(50, 1, 28, 28)) > metrics.variety(0.1 * torch.rand(50, 1, 28, 28))


@pytest.mark.parametrize("images", [torch.rand(1, 1, 28, 28), torch.rand(28, 28)])
def test_variety_needs_several_images(images):
    with pytest.raises(ValueError, match="at least two images"):
        metrics.variety(images)


class _BlindVAE(torch.nn.Module):
    """A toy VAE whose decoder ignores z: p(x|z) = p(x), so log p(x) is known exactly."""

    def __init__(self, mu: float, sigma: float, latent_dim: int = 1):
        super().__init__()
        self.latent_dim = latent_dim
        self.logits = torch.nn.Parameter(torch.linspace(-3, 3, 784).view(1, 1, 28, 28), requires_grad=False)
        self.mu, self.logvar = mu, 2 * np.log(sigma)

    def encode_distribution(self, x):
        shape = (len(x), self.latent_dim)
        return torch.full(shape, self.mu), torch.full(shape, float(self.logvar))

    def decode_logits(self, z):
        return self.logits.expand(len(z), 1, 28, 28)

    def log_px(self, x):
        return -F.binary_cross_entropy_with_logits(self.logits.expand_as(x), x, reduction="none").flatten(1).sum(1)


def test_importance_weighted_bound_is_exact_when_q_is_the_prior_and_the_decoder_ignores_z():
    model, x = _BlindVAE(0.0, 1.0), (torch.rand(5, 1, 28, 28) > 0.5).float()
    for k in (1, 7):  # every weight p(x) p(z) / q(z|x) equals p(x): no variance at all
        assert torch.allclose(metrics.importance_weighted_bound(model, x, k), model.log_px(x), atol=1e-3)


def test_importance_weighted_bound_closes_a_known_gap_as_k_grows():
    # the decoder ignores z, so the ELBO is log p(x) - KL(q || p) and the bound tends to log p(x)
    mu, sigma = 1.0, 1.2  # q wider than the prior: the weights p(z) / q(z|x) stay bounded, so K converges fast
    model, x = _BlindVAE(mu, sigma), torch.rand(2, 1, 28, 28)
    kl = 0.5 * (mu**2 + sigma**2 - np.log(sigma**2) - 1)
    gen = torch.Generator().manual_seed(0)
    k1 = torch.stack([metrics.importance_weighted_bound(model, x, 1, generator=gen) for _ in range(2000)])
    assert (k1.mean(0) - model.log_px(x)).numpy() == pytest.approx([-kl, -kl], abs=0.05)  # K = 1: the ELBO
    big = metrics.importance_weighted_bound(model, x, 20000, generator=gen)
    assert (big - model.log_px(x)).abs().max() < 0.03
    assert (big <= model.log_px(x) + 0.02).all()  # never above log p(x), up to float32 sums of 784 terms


def test_importance_weighted_bound_rises_with_k_on_average_and_chunking_only_redraws_the_noise():
    from course_utils import models

    torch.manual_seed(0)
    model, x = models.ConvVAE(latent_dim=4), torch.rand(6, 1, 28, 28)
    gen = lambda: torch.Generator().manual_seed(1)  # noqa: E731
    bounds = {k: metrics.importance_weighted_bound(model, x, k, generator=gen()) for k in (1, 10, 100)}
    assert bounds[1].shape == (6,)
    assert bounds[100].mean() >= bounds[10].mean() - 0.5 >= bounds[1].mean() - 1.0
    chunked = metrics.importance_weighted_bound(model, x, 100, max_decodes=7, generator=gen())
    assert torch.allclose(chunked, bounds[100], atol=1.0)  # other noise (drawn per image), the same bound
    assert model.training  # the model's mode is restored


def test_bits_per_dim_converts_nats_per_image():
    assert metrics.bits_per_dim(784 * np.log(2)) == pytest.approx(1.0)
    assert metrics.bits_per_dim(100.0) == pytest.approx(100 / (784 * np.log(2)))


def test_k_nearest_leaves_each_point_out_and_same_class_share_counts_neighbours():
    points = np.array([[0.0], [1.0], [1.0], [5.0], [5.1], [9.0]])
    found = metrics.k_nearest(points, k=2)
    assert found.shape == (6, 2)
    assert all(i not in row for i, row in enumerate(found))
    assert set(found[3]) == {4, 2} or set(found[3]) == {4, 1}
    labels = np.array([0, 0, 0, 1, 1, 1])
    by_hand = np.mean(labels[found] == labels[:, None])
    assert metrics.same_class_share(points, labels, k=2) == pytest.approx(by_hand)
    with pytest.raises(ValueError, match="smaller than the number of points"):
        metrics.k_nearest(points, k=6)
    with pytest.raises(ValueError, match="labels"):
        metrics.same_class_share(points, labels[:3])


def test_closest_same_class_mse_looks_only_at_other_images_of_the_class():
    images = torch.zeros(4, 1, 2, 2)
    images[1] += 0.5  # class 0: MSE 0.25 from image 0
    images[2] += 0.1  # class 1 would be closer to image 0, but it is another class
    images[3] += 0.3  # class 1: MSE 0.04 from image 2
    found = metrics.closest_same_class_mse(images, np.array([0, 0, 1, 1]))
    np.testing.assert_allclose(found, [0.25, 0.25, 0.04, 0.04], rtol=1e-5)
    assert np.isinf(metrics.closest_same_class_mse(images[:2], np.array([0, 1]))).all()


def test_shuffled_code_cost_is_zero_for_a_decoder_that_ignores_its_code():
    model = models.ConvVAE(latent_dim=2)
    torch.nn.init.zeros_(model.decoder[0].weight)  # the code never reaches the pixels
    images = torch.rand(6, 1, 28, 28)
    cost = metrics.shuffled_code_cost(model, images, generator=torch.Generator().manual_seed(0))
    assert cost == pytest.approx(0.0, abs=1e-4)


def test_shuffled_code_cost_is_large_when_the_code_is_the_image():
    class Copy(torch.nn.Module):  # an "encoder" whose code is the image itself, decoded exactly
        latent_dim = 784

        def __init__(self):
            super().__init__()
            self.unused = torch.nn.Parameter(torch.zeros(1))  # so the model has a device

        def encode_distribution(self, x):
            return x.flatten(1), torch.full((len(x), 784), -20.0)

        def decode_logits(self, z):
            return (20 * (2 * z - 1)).view(-1, 1, 28, 28)
    images = (torch.rand(4, 1, 28, 28) > 0.5).float()
    assert metrics.shuffled_code_cost(Copy(), images) > 100


def test_shuffled_code_cost_refuses_an_autoencoder_and_a_single_image():
    with pytest.raises(TypeError, match="VAE"):
        metrics.shuffled_code_cost(models.ConvAutoencoder(2), torch.rand(3, 1, 28, 28))
    with pytest.raises(ValueError, match="at least 2"):
        metrics.shuffled_code_cost(models.ConvVAE(2), torch.rand(1, 1, 28, 28))
