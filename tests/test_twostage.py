"""twostage: a grid-latent VAE as a first stage, and a Gaussian mixture fitted on pixels or latents."""

import numpy as np
import pytest
import torch

from course_utils import losses, train, twostage


def test_grid_vae_codes_are_flat_and_decode_from_grids_too():
    torch.manual_seed(0)
    model = twostage.GridVAE(latent_channels=3)
    x = torch.rand(4, 1, 28, 28)
    z = model.encode(x)
    assert z.shape == (4, 3 * 49) and model.latent_shape == (3, 7, 7)
    assert torch.allclose(model.decode(z), model.decode(z.reshape(4, 3, 7, 7)))
    assert train.reconstruct_all(model, x).shape == (4, 1, 28, 28)


def test_grid_vae_trains_with_the_course_vae_objective(images):
    torch.manual_seed(0)
    model = twostage.GridVAE(2)
    history = train.fit(model, images, images[:64], epochs=3, objective=losses.vae_objective(1e-3), lr=1e-2,
                        batch_size=32, progress=False)
    assert history.val["recon"][-1] < history.val["recon"][0]


def test_mixture_fits_counts_and_samples():
    rng = np.random.default_rng(0)
    points = np.concatenate([rng.normal(-5, 1, (200, 3)), rng.normal(5, 1, (200, 3))])
    mixture, seconds = twostage.fit_mixture(points, 2, seed=0)
    assert seconds >= 0 and sorted(np.round(mixture.means_[:, 0])) == [-5, 5]
    assert twostage.mixture_parameters(mixture) == 1 + 2 * 3 + 2 * 6
    samples = twostage.sample_mixture(mixture, 1000, seed=0)
    assert samples.shape == (1000, 3) and samples.dtype == torch.float32
    assert abs(float((samples[:, 0] > 0).float().mean()) - 0.5) < 0.1
    assert torch.equal(samples, twostage.sample_mixture(mixture, 1000, seed=0))  # seeded
    assert twostage.as_images(torch.full((2, 784), 2.0)).max() == 1.0


@pytest.mark.parametrize("call, message", [
    (lambda: twostage.GridVAE(0), "latent_channels must be a positive integer"),
    (lambda: twostage.GridVAE(2).decode(torch.zeros(1, 50)), r"codes of shape \(N, 98\)"),
    (lambda: twostage.fit_mixture(np.zeros((5, 2)), 3), "too few for 3 components"),
])
def test_bad_inputs_name_the_problem(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_em_rounds_are_timed_per_dimension_and_the_exponent_fitted():
    points = np.random.default_rng(0).normal(size=(300, 40))
    seconds = twostage.em_round_seconds(points, (5, 10, 40), n_components=2, rounds=2)
    assert list(seconds) == [5, 10, 40] and all(s > 0 for s in seconds.values())
    assert twostage.scaling_exponent([1, 10, 100], [3, 300, 30000]) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="cannot project 40-D points up to 50"):
        twostage.em_round_seconds(points, (50,))
    with pytest.raises(ValueError, match="two or more"):
        twostage.scaling_exponent([1], [1])


def test_covariance_floor_counts_directions_without_spread():
    rng = np.random.default_rng(0)
    flat = np.concatenate([rng.normal(size=(400, 3)), np.zeros((400, 5))], axis=1)  # 5 of 8 numbers never move
    mixture, _ = twostage.fit_mixture(flat, 2, seed=0)
    assert twostage.covariance_floor(mixture) == pytest.approx(5 / 8)
    few, _ = twostage.fit_mixture(rng.normal(size=(40, 30)), 2, seed=0)  # ~20 points for 30 numbers: singular
    assert twostage.covariance_floor(few) > 0.3
