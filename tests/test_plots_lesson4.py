"""plots added in lesson 4: side-by-side scatters, quantile-grid mosaics, the AE/VAE comparison."""

import pytest
import torch

from course_utils import models, plots


def test_latent_scatters_one_panel_each_with_the_prior_circle():
    codes = {"a": torch.randn(40, 2), "b": 5 * torch.randn(40, 2)}
    fig = plots.plot_latent_scatters(codes, torch.arange(40) % 10)
    assert len(fig.axes) == 2
    assert all(len(ax.patches) == 1 for ax in fig.axes)  # the dashed 95% circle
    assert fig.axes[0].get_legend() is None and fig.axes[1].get_legend() is not None
    assert "95% of N(0, I)" in [t.get_text() for t in fig.axes[1].get_legend().get_texts()]


def test_latent_scatters_refuse_empty_and_high_dimensional_codes():
    with pytest.raises(ValueError, match="codes is empty"):
        plots.plot_latent_scatters({}, torch.zeros(3))
    with pytest.raises(ValueError, match="latent_dim=2"):
        plots.plot_latent_scatters({"x": torch.randn(5, 3)}, torch.zeros(5))


def test_quantile_grids_decode_the_same_codes_for_each_model():
    seen = []

    def decoder(z):
        seen.append(z.clone())
        return torch.sigmoid(z.sum(dim=1)).view(-1, 1, 1, 1).expand(-1, 1, 28, 28)

    fig = plots.plot_quantile_grids({"AE": decoder, "VAE": decoder}, n=5)
    assert len(fig.axes) == 2 and torch.equal(seen[0], seen[1])
    assert fig.axes[0].get_images()[0].get_array().shape == (5 * 28, 5 * 28)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["-1.64", "0.00", "1.64"]


def test_quantile_grids_work_with_a_real_decoder_and_refuse_bad_ones():
    model = models.ConvVAE(2).eval()
    assert plots.plot_quantile_grids({"VAE": model.decode}, n=3).axes
    with pytest.raises(ValueError, match="decoders is empty"):
        plots.plot_quantile_grids({})
    with pytest.raises(ValueError, match="decode each code once"):
        plots.plot_quantile_grids({"bad": lambda z: torch.zeros(2, 1, 28, 28)}, n=3)


def test_model_comparison_has_reconstruction_and_sample_panels():
    images = torch.rand(6, 1, 28, 28)
    fig = plots.plot_model_comparison(
        images, {"AE": images, "VAE": images}, {"AE": images, "VAE": images},
        recon_notes={"AE": "BCE 0.1"}, sample_notes={"VAE": "dist 4.2"}, n=5,
    )
    shown = [ax for ax in fig.axes if ax.get_images()]
    assert len(shown) == 3 * 5 + 2 * 5  # original + 2 reconstructions, 2 sample rows
    labels = [ax.get_ylabel() for ax in fig.axes if ax.get_ylabel()]
    assert "AE\nBCE 0.1" in labels and "VAE\ndist 4.2" in labels and "original" in labels


def test_model_comparison_without_samples_and_with_bad_notes():
    images = torch.rand(4, 1, 28, 28)
    fig = plots.plot_model_comparison(images, {"AE": images}, n=4)
    assert len([ax for ax in fig.axes if ax.get_images()]) == 8
    with pytest.raises(ValueError, match="reconstructions is empty"):
        plots.plot_model_comparison(images, {})
    with pytest.raises(ValueError, match="no row"):
        plots.plot_model_comparison(images, {"AE": images}, recon_notes={"VAE": "x"})
