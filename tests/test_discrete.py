"""discrete: vector quantisation, the VQ-VAE, codebook statistics and the autoregressive prior over code grids."""

import pytest
import torch

from course_utils import discrete, train


def test_nearest_codes_matches_a_brute_force_search():
    g = torch.Generator().manual_seed(0)
    vectors, codebook = torch.randn(50, 3, generator=g), torch.randn(7, 3, generator=g)
    expected = ((vectors[:, None] - codebook[None]) ** 2).sum(-1).argmin(1)
    assert torch.equal(discrete.nearest_codes(vectors, codebook), expected)
    grid = vectors[:48].reshape(2, 4, 6, 3)  # any leading shape is kept
    assert discrete.nearest_codes(grid, codebook).shape == (2, 4, 6)


def test_the_quantizer_passes_gradients_straight_through_and_trains_the_codebook_by_its_losses():
    torch.manual_seed(0)
    quantizer = discrete.VectorQuantizer(8, 4)
    z_e = torch.randn(2, 4, 3, 3, requires_grad=True)
    z_q, indices, codebook_loss, commitment_loss = quantizer(z_e)
    assert torch.allclose(z_q, quantizer.lookup(indices))
    upstream = torch.randn_like(z_q)
    (z_q * upstream).sum().backward(retain_graph=True)
    assert torch.equal(z_e.grad, upstream)
    assert quantizer.codebook.weight.grad is None  # the decoder's gradient never reaches the codebook...
    codebook_loss.backward()
    assert quantizer.codebook.weight.grad.abs().sum() > 0  # ...its own loss does
    assert torch.isclose(codebook_loss, commitment_loss)  # the same distance, stopped on opposite sides


def test_restarts_move_unused_entries_onto_encoder_outputs():
    torch.manual_seed(0)
    quantizer = discrete.VectorQuantizer(16, 2, restart_every=1).train()
    quantizer.codebook.weight.data[:] = 100.0  # all far away: one entry wins every vector, the others never
    quantizer.codebook.weight.data[0] = 0.0
    z_e = torch.randn(4, 2, 3, 3)
    quantizer(z_e)
    assert int(quantizer.restarted) == 15
    moved = quantizer.codebook.weight.data[1:]
    pool = z_e.permute(0, 2, 3, 1).reshape(-1, 2)
    assert all(any(torch.equal(row, p) for p in pool) for row in moved)


def test_vqvae_encodes_to_integer_grids_and_decodes_them():
    torch.manual_seed(0)
    model = discrete.VQVAE(num_codes=16, code_dim=4)
    x = torch.rand(3, 1, 28, 28)
    grids = model.encode(x)
    assert grids.shape == (3, 7, 7) and grids.dtype == torch.long
    assert model.decode(grids).shape == (3, 1, 28, 28)
    assert torch.equal(train.decode_all(model, grids), model.decode(grids).detach())  # float copies work too


def test_vq_training_lowers_the_loss(images):
    torch.manual_seed(0)
    model = discrete.VQVAE(num_codes=8, code_dim=4, restart_every=2)
    history = train.fit(model, images, images[:32], epochs=4, objective=discrete.vq_objective(), lr=3e-3,
                        batch_size=32, progress=False, cuda_graph=False)
    assert history.val["total"][-1] < history.val["total"][0]
    assert set(history.train) == {"recon", "codebook", "commitment", "total"}


def test_codebook_statistics():
    indices = torch.tensor([[0, 0, 1, 1]])
    assert discrete.code_counts(indices, 4).tolist() == [2, 2, 0, 0]
    assert discrete.dead_codes(indices, 4) == 2
    assert discrete.perplexity(indices, 4) == pytest.approx(2.0)
    assert discrete.perplexity(torch.arange(8), 8) == pytest.approx(8.0)
    assert discrete.perplexity(torch.zeros(5, dtype=torch.long), 8) == pytest.approx(1.0)
    assert discrete.code_bits((7, 7), 64) == 49 * 6
    grids = discrete.uniform_codes(10, 5, generator=torch.Generator().manual_seed(0))
    assert grids.shape == (10, 7, 7) and int(grids.max()) < 5


def test_masked_convolutions_see_only_earlier_cells():
    a, b = discrete.MaskedConv2d("A", 1, 1, 3).mask[0, 0], discrete.MaskedConv2d("B", 1, 1, 3).mask[0, 0]
    assert a.tolist() == [[1, 1, 1], [1, 0, 0], [0, 0, 0]]
    assert b.tolist() == [[1, 1, 1], [1, 1, 0], [0, 0, 0]]


def test_the_prior_is_autoregressive():
    """Changing a cell changes no prediction at that cell or before it, in raster order."""
    torch.manual_seed(0)
    prior = discrete.GridPrior(6, hidden=8, layers=2).eval()
    grids = torch.randint(6, (1, 7, 7))
    changed = grids.clone()
    changed[0, 3, 4] = (changed[0, 3, 4] + 1) % 6
    with torch.no_grad():
        before, after = prior(grids).flatten(2), prior(changed).flatten(2)
    position = 3 * 7 + 4
    assert torch.allclose(before[..., : position + 1], after[..., : position + 1])
    assert not torch.allclose(before[..., position + 1 :], after[..., position + 1 :])


def test_the_prior_learns_a_pattern_and_samples_it():
    torch.manual_seed(0)
    stripes = torch.arange(7).repeat(7, 1) % 2  # every row 0 1 0 1 ...
    grids = stripes.expand(64, 7, 7).clone()
    prior = discrete.GridPrior(4, hidden=16, layers=2)
    history = discrete.fit_prior(prior, grids, grids[:8], epochs=20, batch_size=16, lr=1e-2)
    assert history.train["total"][-1] < history.train["total"][0]
    assert discrete.prior_bits(prior, grids[:8]) < 0.2 * discrete.code_bits((7, 7), 4)
    samples = prior.sample(8, generator=torch.Generator().manual_seed(0))
    assert (samples == stripes).float().mean() > 0.9


@pytest.mark.parametrize("call, message", [
    (lambda: discrete.nearest_codes(torch.randn(5, 3), torch.randn(4, 2)), "must share D"),
    (lambda: discrete.VectorQuantizer(1, 4), "num_codes must be an integer >= 2"),
    (lambda: discrete.VQVAE(16).decode(torch.zeros(2, 4, 4, dtype=torch.long)), r"shape \(N, 7, 7\)"),
    (lambda: discrete.VQVAE(16).decode(torch.full((1, 7, 7), 16)), "between 0 and 15"),
    (lambda: discrete.VQVAE(16).decode(torch.full((1, 7, 7), 0.5)), "whole code numbers"),
    (lambda: discrete.MaskedConv2d("C", 1, 1, 3), "mask must be 'A'"),
    (lambda: discrete.MaskedConv2d("A", 1, 1, 4), "kernel_size must be odd"),
    (lambda: discrete.code_counts(torch.tensor([], dtype=torch.long), 4), "indices is empty"),
    (lambda: discrete.GridPrior(4).sample(2, temperature=0), "temperature must be a finite number above 0"),
])
def test_bad_inputs_name_the_problem(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_vq_objective_refuses_other_models():
    from course_utils import models

    with pytest.raises(TypeError, match="discrete.VQVAE"):
        discrete.vq_objective()(models.ConvVAE(2), torch.rand(2, 1, 28, 28))


def test_scalar_quantisation_uses_equally_likely_levels():
    g = torch.Generator().manual_seed(0)
    codes = torch.randn(20000, 3, generator=g)
    two_bits = discrete.normal_scalar_quantize(codes, 2)
    values, counts = two_bits.unique(return_counts=True)
    assert len(values) == 4 and torch.allclose(values, -values.flip(0))  # symmetric levels
    assert (counts / counts.sum() - 0.25).abs().max() < 0.02            # each used a quarter of the time
    assert (discrete.normal_scalar_quantize(codes, 8) - codes).abs().median() < 0.01
    with pytest.raises(ValueError, match="bits_per_dim must be a positive integer"):
        discrete.normal_scalar_quantize(codes, 0)


def test_bins_follow_the_codes_own_spread_when_given_them():
    g = torch.Generator().manual_seed(0)
    codes = torch.randn(20000, 3, generator=g) * torch.tensor([0.2, 1.0, 3.0])  # narrower and wider than N(0, 1)
    prior_levels, own_levels = discrete.scalar_levels(codes, 2), discrete.scalar_levels(codes, 2, codes)
    assert discrete.level_entropy(own_levels, 2) > 1.99                      # every level a quarter of the time
    assert discrete.level_entropy(prior_levels, 2) < 1.9                     # N(0, 1) bins miss the narrow and wide
    assert discrete.level_entropy(prior_levels[:, 1:2], 2) > 1.99            # ...but fit the N(0, 1) number
    rounded = discrete.scalar_quantize(codes, 2, codes)
    assert torch.equal(rounded[:, 1:2], discrete.scalar_quantize(codes[:, 1:2], 2, codes[:, 1:2]))
    prior_rounded = discrete.normal_scalar_quantize(codes, 2)
    assert (rounded - codes).abs().mean(0)[0] < 0.1 < (prior_rounded - codes).abs().mean(0)[0]
    assert discrete.level_entropy(torch.zeros(5, 2, dtype=torch.long), 2) == 0.0
    with pytest.raises(ValueError, match="reference must be codes of shape"):
        discrete.scalar_bins(2, torch.randn(3, 2))
    with pytest.raises(ValueError, match="the reference's D = 3"):
        discrete.scalar_levels(torch.randn(4, 2), 2, codes)


def _my_layer_without_straight_through(z_e, codebook):
    z_q, indices, codebook_loss, commitment_loss = discrete.quantize(z_e, codebook)
    return codebook[indices], indices, codebook_loss, commitment_loss  # the decoder's gradient never reaches z_e


def _my_layer_without_stop_gradients(z_e, codebook):
    z_q, indices, _, _ = discrete.quantize(z_e, codebook)
    distance = ((codebook[indices] - z_e) ** 2).mean()  # one loss moving both sides
    return z_q, indices, distance, distance


def test_vq_trace_tells_a_right_layer_from_wrong_ones():
    g = torch.Generator().manual_seed(0)
    args = torch.randn(10, 3, generator=g), torch.randn(5, 3, generator=g), torch.randn(10, 3, generator=g)
    reference = discrete.vq_trace(discrete.quantize, *args)
    quantizer = discrete.VectorQuantizer(5, 3)
    with torch.no_grad():
        quantizer.codebook.weight.copy_(args[1])
    z_q, indices, codebook_loss, commitment_loss = quantizer(args[0].T.reshape(1, 3, 10, 1))
    assert torch.equal(indices.flatten(), discrete.quantize(*args[:2])[1])  # the module runs the same layer
    assert torch.isclose(codebook_loss, reference[-2 - 30 - 15])             # (losses sit before both gradients)
    for wrong in (_my_layer_without_straight_through, _my_layer_without_stop_gradients):
        assert not torch.allclose(discrete.vq_trace(wrong, *args), reference)
    assert discrete.vq_trace(lambda z_e, codebook: None, *args) is None
