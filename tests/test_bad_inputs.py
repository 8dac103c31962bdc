"""The bad-input battery: what a student, a flaky classroom or a slow laptop will pass to the helpers.

Every case names the exception it must raise, a pattern for the problem it must name and a
pattern for the fix it must suggest. A case that fails here means a raw error from deep inside
torch, NumPy or matplotlib, or one that misleads.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
import torch

from course_tools import bench, slides
from course_utils import (
    anomaly,
    checkpoints,
    compression,
    conditional,
    config,
    data,
    discrete,
    exercises,
    features,
    latent,
    losses,
    metrics,
    models,
    plots,
    projection,
    train,
    twostage,
    widgets,
)
from course_utils.quiz import Quiz

IMAGES = torch.rand(8, 1, 28, 28, generator=torch.Generator().manual_seed(0))
CODES_2D = torch.randn(50, 2, generator=torch.Generator().manual_seed(1))
LABELS = torch.arange(50) % 10
MLP_2D = models.MLPAutoencoder(2)
CONV_16D = models.ConvAutoencoder(16)


def _with_nan(images: torch.Tensor) -> torch.Tensor:
    broken = images.clone()
    broken[3, 0, 10, 10] = float("nan")
    return broken


def _fit(images: torch.Tensor = IMAGES, model: torch.nn.Module | None = None, **kwargs) -> train.History:
    options = {"epochs": 1, "progress": False} | kwargs
    return train.fit(model or models.MLPAutoencoder(2), images, **options)


def _never_called(_model: torch.nn.Module) -> train.History:
    raise AssertionError("training started although the input was bad")


def _load_or_train(**kwargs) -> None:
    options = {"name": "bad_input_case", "build": lambda: models.MLPAutoencoder(2), "train": _never_called,
               "settings": {"epochs": 1}} | kwargs
    checkpoints.load_or_train(**options)


def _quiz() -> Quiz:
    return Quiz.load("02_vanilla_autoencoder")


@dataclass(frozen=True)
class Case:
    """One bad input: the call, the exception it must raise, what the message must say."""

    id: str
    call: Callable[[], object]
    error: type[BaseException]
    problem: str
    fix: str
    skip: str | None = None


NO_CUDA = "a CUDA GPU is here" if torch.cuda.is_available() else None
_MPS = getattr(torch.backends, "mps", None)
NO_MPS = "an Apple GPU is here" if (_MPS is not None and _MPS.is_available()) else None

CASES = [
    # --- config: devices and seeds ---
    Case("device-gpu", lambda: config.pick_device("gpu"), ValueError, "'gpu' is not a PyTorch device", "use 'cuda'"),
    Case("device-bogus", lambda: config.pick_device("tpu9"), ValueError, "not a device", "'cpu', 'cuda' or 'mps'"),
    Case("device-cuda-missing", lambda: config.pick_device("cuda"), ValueError, "no CUDA GPU", "Leave the device out",
         skip=NO_CUDA),
    Case("device-mps-missing", lambda: config.setup(0, "mps", verbose=False), ValueError, "no Apple-silicon GPU",
         "Leave the device out", skip=NO_MPS),
    Case("seed-string", lambda: config.setup("1", verbose=False), ValueError, "seed must be", "such as 0"),
    Case("seed-negative", lambda: config.seed_everything(-1), ValueError, "seed must be", "non-negative integer"),
    Case("unsupported-parameter", lambda: config.require_supported("DATASET", "emnist", ("mnist",), "only these"),
         ValueError, "supports DATASET = 'mnist', not 'emnist'", "parameters cell"),
    # --- data ---
    Case("dataset-unknown", lambda: data.load_splits("emnist"), ValueError, "Unknown dataset 'emnist'",
         "'mnist' or 'fashion-mnist'"),
    Case("train-size-zero", lambda: data.load_splits("mnist", train_size=0), ValueError,
         "train_size must be a positive integer", "or None"),
    Case("train-size-float", lambda: data.load_splits("mnist", train_size=2.5), ValueError,
         "train_size must be a positive integer", "got 2.5"),
    Case("eval-size-string", lambda: data.load_splits("mnist", eval_size="10"), ValueError,
         "eval_size must be a positive integer", "got '10'"),
    Case("data-seed-string", lambda: data.load_splits("mnist", seed="0"), ValueError, "seed must be",
         "such as 0"),
    Case("subset-negative", lambda: data.ImageSet(IMAGES, torch.zeros(8), ("a",)).subset(-1), ValueError,
         "size must be a positive integer", "or None"),
    Case("batch-size-zero", lambda: list(data.iterate_batches(IMAGES, 0)), ValueError,
         "batch_size must be a positive integer", "got 0"),
    Case("batch-size-string", lambda: list(data.iterate_batches(IMAGES, "8")), ValueError,
         "batch_size must be a positive integer", "got '8'"),
    Case("patch-too-big", lambda: data.add_patch(IMAGES, size=40), ValueError, "size", "from 1 to 28"),
    Case("patch-not-a-batch", lambda: data.add_patch(IMAGES[0]), ValueError, "Expected a batch", r"\(N, C, H, W\)"),
    # --- models ---
    Case("latent-dim-zero", lambda: models.MLPAutoencoder(0), ValueError, "latent_dim must be a positive integer",
         "such as 2 or 16"),
    Case("latent-dim-float", lambda: models.ConvAutoencoder(2.0), ValueError, "latent_dim must be", "such as 2 or 16"),
    Case("channels-one", lambda: models.ConvVAE(channels=(16,)), ValueError, "channels must list two or more",
         r"e\.g\. \(16, 32\)"),
    Case("hidden-empty", lambda: models.MLPAutoencoder(2, hidden=()), ValueError, "hidden must be a non-empty tuple",
         "positive sizes"),
    Case("encode-one-image", lambda: MLP_2D.encode(torch.rand(28, 28)), ValueError, r"shape \(N, 1, 28, 28\)",
         r"batch axis: x\.unsqueeze\(0\)"),
    Case("encode-no-channel", lambda: MLP_2D.encode(torch.rand(4, 28, 28)), ValueError, r"got \(4, 28, 28\)",
         r"x\.unsqueeze\(1\)"),
    Case("encode-bytes", lambda: MLP_2D.encode(torch.zeros(2, 1, 28, 28, dtype=torch.uint8)), ValueError,
         "float pixels", r"\.float\(\) / 255"),
    Case("decode-wrong-size", lambda: MLP_2D.decode(torch.rand(3, 5)), ValueError,
         r"expects codes of shape \(N, 2\)", "codes made by this model's encoder"),
    Case("decode-one-code", lambda: MLP_2D.decode(torch.rand(2)), ValueError,
         r"got \(2,\)", r"batch axis: z\.unsqueeze\(0\)"),
    Case("kernel-too-big", lambda: models.conv_output_size(28, 40), ValueError, "does not fit",
         "smaller kernel or more padding"),
    Case("stride-zero", lambda: models.conv_output_size(28, 3, stride=0), ValueError,
         "stride must be a positive integer", "got 0"),
    Case("layer-table-not-a-model", lambda: models.layer_table("conv"), TypeError, "got str", "Pass a model"),
    # --- losses ---
    Case("vae-objective-on-ae", lambda: _fit(model=models.ConvAutoencoder(4), objective=losses.vae_objective()),
         TypeError, "this model is a ConvAutoencoder", r"losses\.autoencoder_objective\(\)"),
    Case("noise-std-zero", lambda: losses.denoising_objective(0.0), ValueError, "noise_std must be positive", "got 0"),
    Case("loss-kind", lambda: losses.reconstruction_loss(IMAGES, IMAGES, kind="l1"), ValueError, "kind must be",
         "'mse' or 'bce'"),
    Case("floor-of-255-pixels", lambda: losses.reconstruction_floor(IMAGES * 255), ValueError, r"in \[0, 1\]",
         r"x / 255"),
    Case("beta-negative", lambda: losses.vae_objective(-1.0), ValueError, "beta must be >= 0", "switches the KL"),
    # --- training ---
    Case("pixels-0-255", lambda: _fit(IMAGES * 255), ValueError, "pixels from 0[0-9.]* to 2[0-9.]+", "divide by 255"),
    Case("pixels-nan", lambda: _fit(_with_nan(IMAGES)), ValueError, "1 pixel", "nan_to_num"),
    Case("pixels-negative", lambda: _fit(IMAGES - 0.5), ValueError, "pixels from -0.", r"rescale them into \[0, 1\]"),
    Case("val-pixels-nan", lambda: _fit(val_images=_with_nan(IMAGES)), ValueError, "val_images has 1 pixel",
         "nan_to_num"),
    Case("batch-size-zero-fit", lambda: _fit(batch_size=0), ValueError, "batch_size must be a positive integer",
         "got 0"),
    Case("lr-string", lambda: _fit(lr="1e-3"), ValueError, "lr must be a positive number", "without quotes"),
    Case("lr-inf", lambda: _fit(lr=math.inf), ValueError, "finite number above 0", "got inf"),
    Case("lr-zero", lambda: _fit(lr=0), ValueError, "finite number above 0", r"such as 1e-3"),
    Case("lr-negative", lambda: _fit(lr=-0.1), ValueError, "finite number above 0", "got -0.1"),
    Case("schedule-unknown", lambda: _fit(schedule="cosine"), ValueError, "schedule must be",
         "'constant' or 'one-cycle'"),
    Case("epochs-zero", lambda: _fit(epochs=0), ValueError, "epochs must be a positive integer", "got 0"),
    Case("epochs-float", lambda: _fit(epochs=2.5), ValueError, "epochs must be a positive integer", "got 2.5"),
    Case("seed-string-fit", lambda: _fit(seed="1"), ValueError, "seed must be", "got '1'"),
    Case("images-list", lambda: _fit(IMAGES.tolist()), TypeError, "got list", r"splits\.train\.images"),
    Case("images-bytes", lambda: _fit(torch.zeros(4, 1, 28, 28, dtype=torch.uint8)), ValueError, "float pixels",
         r"\.float\(\) / 255"),
    Case("images-empty", lambda: _fit(IMAGES[:0]), ValueError, "empty batch", "at least one image"),
    Case("evaluate-0-255", lambda: train.evaluate(MLP_2D, IMAGES * 255), ValueError, "pixels from 0",
         "divide by 255"),
    Case("epochs-for-zero", lambda: train.epochs_for(0, 5, 100), ValueError, "n_images must be a positive integer",
         "got 0"),
    Case("encode-all-list", lambda: train.encode_all(MLP_2D, [IMAGES]), TypeError, "got list", "tensor of images"),
    # --- checkpoints ---
    Case("checkpoint-name-path", lambda: _load_or_train(name="a/b"), ValueError, "got 'a/b'", "plain file stems"),
    Case("settings-device", lambda: _load_or_train(settings={"device": torch.device("cpu")}), ValueError,
         r"settings\['device'\]", r"str\(x\) convert"),
    Case("settings-numpy-int", lambda: _load_or_train(settings={"epochs": np.int64(3)}), ValueError,
         r"settings\['epochs'\] = np.int64\(3\) \(type int64\)", r"int\(x\)"),
    Case("settings-not-dict", lambda: _load_or_train(settings=[("epochs", 1)]), TypeError, "got list",
         "settings must be a dict"),
    Case("load-or-train-cuda", lambda: _load_or_train(device="cuda"), ValueError, "no CUDA GPU",
         "Leave the device out", skip=NO_CUDA),
    Case("load-or-train-gpu", lambda: _load_or_train(device="gpu"), ValueError, "'gpu' is not", "use 'cuda'"),
    # --- metrics ---
    Case("knn-mismatch", lambda: metrics.knn_predictions(CODES_2D, LABELS[:40]), ValueError, "50 points but 40 labels",
         "must match"),
    Case("knn-k-zero", lambda: metrics.knn_accuracy(CODES_2D, LABELS, k=0), ValueError, "k must be a positive integer",
         "got 0"),
    Case("silhouette-one-class", lambda: metrics.silhouette(CODES_2D, torch.zeros(50)), ValueError, "same label",
         "at least two classes"),
    Case("mse-shapes", lambda: metrics.per_image_mse(IMAGES[:4], IMAGES), ValueError, "must have the same shape",
         "its own reconstruction"),
    Case("auc-empty", lambda: metrics.detection_auc([], [1.0]), ValueError, "at least one value",
         "scores of normal and of odd"),
    Case("variety-one-image", lambda: metrics.variety(IMAGES[:1]), ValueError, "at least two images",
         "compares images with each other"),
    Case("sharpness-one-image", lambda: metrics.sharpness(IMAGES[0, 0]), ValueError, r"got \(28, 28\)",
         r"batch axis, e\.g\. images\[:1\]"),
    Case("generation-sizes", lambda: metrics.generation_scores(IMAGES, IMAGES[:, :, :14], IMAGES), ValueError,
         "784 pixels", "same image size"),
    Case("saturation-margin", lambda: metrics.saturation(IMAGES, margin=0.7), ValueError, "margin must be",
         "such as 0.05"),
    Case("reader-k-too-big", lambda: metrics.pixel_reader(IMAGES, torch.arange(8) % 2, k=20), ValueError,
         "k must be an integer between 1", r"number of images \(8\)"),
    Case("classes-negative", lambda: metrics.classes_reached([-1, 2]), ValueError, "non-empty array",
         "class indices"),
    Case("accuracy-mismatch", lambda: metrics.accuracy([1, 2], [1, 2, 3]), ValueError, "2 predictions but 3 labels",
         "one prediction per label"),
    Case("iwae-on-an-ae", lambda: metrics.importance_weighted_bound(CONV_16D, IMAGES, 10), TypeError,
         "ConvAutoencoder", r"needs a VAE \(such as models\.ConvVAE\)"),
    Case("iwae-k-zero", lambda: metrics.importance_weighted_bound(models.ConvVAE(2), IMAGES, 0), ValueError,
         "k must be a positive integer", "such as 1, 10 or 100"),
    Case("bits-per-dim-pixels", lambda: metrics.bits_per_dim(100.0, pixels=0), ValueError,
         "pixels must be a positive integer", "got 0"),
    Case("nearest-dims", lambda: metrics.nearest_indices(torch.rand(3, 2), torch.rand(5, 3)), ValueError,
         "2 dimensions but references have 3", "dimensions"),
    # --- latent ---
    Case("empty-spots-3d", lambda: latent.find_empty_spots(torch.rand(20, 3)), ValueError, r"needs 2-D codes",
         "latent_dim=2"),
    Case("empty-spots-count", lambda: latent.find_empty_spots(CODES_2D, n_spots=0), ValueError,
         "n_spots must be a positive integer", "got 0"),
    Case("hull-on-a-line", lambda: latent.hull_grid_points(torch.stack([torch.arange(20.0)] * 2, 1)), ValueError,
         "lie on a line|do not spread out", "no area to search"),
    Case("hull-grid-one", lambda: latent.hull_grid_points(CODES_2D, grid_size=1), ValueError,
         "grid_size must be an integer >= 2", "points per side"),
    Case("empty-radius", lambda: latent.empty_fraction(CODES_2D, radius=-1), ValueError, "radius must be a positive",
         "got -1"),
    Case("interpolate-one-step", lambda: latent.interpolate(CODES_2D[0], CODES_2D[1], steps=1), ValueError,
         "steps must be an integer >= 2", "the two ends are included"),
    Case("interpolate-sizes", lambda: latent.interpolate(torch.zeros(2), torch.zeros(3)), ValueError,
         "2 dimensions but z_end has 3", "same model"),
    Case("interpolate-many", lambda: latent.interpolate(CODES_2D[:3], CODES_2D[0]), ValueError,
         "must be one code", r"pick a single row"),
    Case("quantile-grid-ends", lambda: latent.normal_quantile_grid(5, 0.0, 1.0), ValueError,
         "0 < low < high < 1", "0 and 1 would map"),
    Case("far-ring-3d", lambda: latent.far_ring(torch.rand(10, 3)), ValueError, "needs 2-D codes", r"\(N, 2\)"),
    Case("prior-mass", lambda: latent.share_in_prior(CODES_2D, mass=1.5), ValueError, "mass must be between 0 and 1",
         "such as 0.95"),
    Case("holes-few-codes", lambda: latent.hole_share(CODES_2D, CODES_2D[:3]), ValueError, "N >= 4",
         r"shape \(N, latent_dim\)"),
    Case("code-ranges-16d", lambda: latent.code_ranges(torch.rand(10, 16)), ValueError, "needs 2-D codes",
         "latent_dim=2"),
    Case("cycle-wrong-size", lambda: latent.cycle_distances(MLP_2D, torch.rand(4, 3)), ValueError,
         r"must have shape \(N, 2\)", "for this model"),
    # --- plots ---
    Case("grid-of-16d-model", lambda: plots.plot_latent_grid(train.decoder(CONV_16D), (-1, 1), (-1, 1), n=3),
         ValueError, "needs a decoder of 2-D codes", "latent_dim=2"),
    Case("scatter-label-count", lambda: plots.plot_latent_scatter(CODES_2D, LABELS[:30]), ValueError,
         "50 codes but 30 labels", "labels of the same images"),
    Case("scatter-label-range", lambda: plots.plot_latent_scatter(CODES_2D, LABELS + 5, ["a", "b"]), ValueError,
         r"class numbers 0\.\.1", "one per class name"),
    Case("scatter-16d", lambda: plots.plot_latent_scatter(torch.rand(10, 16), torch.zeros(10)), ValueError,
         "needs 2-D codes, got 16-D", "plot_tsne"),
    Case("rows-no-images", lambda: plots.show_image_rows({"x": IMAGES[:0]}), ValueError, "no images to show",
         "at least one image"),
    Case("rows-empty", lambda: plots.show_image_rows({}), ValueError, "rows is empty", "pass a dict"),
    Case("loss-curves-empty", lambda: plots.plot_loss_curves(train.History()), ValueError, "no epochs yet",
         r"train the model with fit"),
    Case("class-shares-range", lambda: plots.plot_class_shares({"a": [0, 5]}, ["x", "y"]), ValueError,
         "must be class indices", r"0\.\.1"),
    Case("tsne-plot-shape", lambda: plots.plot_tsne({"codes": torch.rand(10, 3)}, torch.zeros(10)), ValueError,
         r"shape \(10, 3\)", r"expected \(10, 2\)"),
    Case("error-sizes-keys", lambda: plots.plot_error_by_latent_size({"two": 0.1}), ValueError,
         "must be latent sizes", "positive integers"),
    Case("quantile-grids-empty", lambda: plots.plot_quantile_grids({}), ValueError, "decoders is empty",
         "pass a dict"),
    Case("thumbnails-zero", lambda: plots.plot_thumbnails_on_latent(CODES_2D, torch.rand(50, 1, 28, 28),
                                                                    n_thumbnails=0),
         ValueError, "n_thumbnails must be a positive integer", "got 0"),
    # --- widgets ---
    Case("explorer-ranges", lambda: widgets.latent_explorer(MLP_2D, [(-1, 1)], show=False), ValueError,
         "2-D latent space but 1 ranges", r"one \(low, high\) pair per latent dimension"),
    Case("slider-t", lambda: widgets.InterpolationSlider(train.decoder(MLP_2D), CODES_2D[0], CODES_2D[1]).code_at(2),
         ValueError, r"t must lie in \[0, 1\]", "0 = the first code"),
    Case("tile-ncols", lambda: widgets.tile_images(IMAGES, ncols=0), ValueError, "ncols must be a positive integer",
         "got 0"),
    # --- quiz and exercises ---
    Case("quiz-id-list", lambda: _quiz().check(["q1"], "a"), TypeError, "a string such as 'q1'",
         r'quiz\.check\("q1", "b"\)'),
    Case("quiz-id-unknown", lambda: _quiz().check("q99", "a"), KeyError, "no question 'q99'", "its questions are"),
    Case("checker-not-a-function", lambda: exercises.check_function(3, abs, [(1,)], "kl"), TypeError, "not int",
         "Pass your function itself"),
    # --- lesson 6: conditional VAE, VQ-VAE, two-stage generation ---
    Case("cvae-labels-count", lambda: conditional.attach_labels(IMAGES, [0, 1]), ValueError,
         "labels must be 8 whole class numbers", r"splits\.train\.labels"),
    Case("cvae-unpacked-batch", lambda: conditional.split_labels(IMAGES), ValueError,
         r"Expected images with their labels attached", r"conditional\.attach_labels"),
    Case("vq-grid-shape", lambda: discrete.VQVAE(16).decode(torch.zeros(2, 4, 4, dtype=torch.long)), ValueError,
         r"index grids of shape \(N, 7, 7\)", "pass what encode\\(\\) returns"),
    Case("vq-fraction-codes", lambda: discrete.VQVAE(16).decode(torch.full((1, 7, 7), 0.5)), ValueError,
         "whole code numbers", "pass the integer grids"),
    Case("vq-codebook-dims", lambda: discrete.nearest_codes(torch.randn(5, 3), torch.randn(4, 2)), ValueError,
         "must share D", r"move the channel axis last"),
    Case("mixture-too-few", lambda: twostage.fit_mixture(torch.rand(5, 2), 3), ValueError,
         "too few for 3 components", "pass more points or ask for fewer components"),
    Case("class-generator-sliders", lambda: widgets.ClassGenerator(lambda z, y: z, ["a", "b"], latent_dim=9),
         ValueError, "9 sliders would be unreadable", "smaller latent_dim"),
    # --- projection ---
    Case("tsne-perplexity", lambda: projection.tsne(torch.rand(10, 3), perplexity=30), ValueError,
         "perplexity must be between 0 and the number of points", "use more points or a smaller perplexity"),
    Case("tsne-iterations", lambda: projection.tsne(torch.rand(40, 3), max_iter=10), ValueError,
         "max_iter must be an integer >= 250", "sklearn's minimum"),
]

# --- lesson 5: anomaly scores, compression, few-label features ---
_AE_6D = models.ConvAutoencoder(6)
_CODES_6D = torch.randn(50, 6, generator=torch.Generator().manual_seed(1))
CASES += [
    # anomaly
    Case("elbo-of-an-ae", lambda: anomaly.negative_elbo(_AE_6D, IMAGES), TypeError, "needs a VAE",
         "reconstruction_errors"),
    Case("elbo-samples-zero", lambda: anomaly.negative_elbo(models.ConvVAE(4), IMAGES, samples=0), ValueError,
         "samples must be a positive integer", "such as 8"),
    Case("elbo-pixels-255", lambda: anomaly.negative_elbo(models.ConvVAE(4), IMAGES * 255), ValueError,
         "pixels in", "divide by 255"),
    Case("quantile-percent", lambda: anomaly.threshold_at([1.0, 2.0], 95), ValueError,
         "quantile must be between 0 and 1", "such as 0.95"),
    Case("scores-empty", lambda: anomaly.detection_report([], [1.0], 0.5), ValueError, "normal_scores is empty",
         "one score per image"),
    Case("scores-nan", lambda: anomaly.threshold_at([1.0, float("nan")]), ValueError, "NaN", "finite images"),
    Case("correction-lengths", lambda: anomaly.complexity_corrected([1.0, 2.0], [3.0]), ValueError,
         "2 scores but 1 compressed sizes", "one of each per image"),
    Case("entropy-lengths", lambda: anomaly.entropy_corrected([1.0], IMAGES), ValueError, "1 scores but 8 images",
         "the images the scores belong to"),
    Case("extremes-too-many", lambda: anomaly.extremes([1.0, 2.0], n=5), ValueError, "only 2 scores", "at most 2"),
    Case("errors-one-image", lambda: anomaly.reconstruction_errors(_AE_6D, IMAGES[0]), ValueError,
         r"\(N, 1, 28, 28\)", "batch axis"),
    Case("errors-pixels-255", lambda: anomaly.reconstruction_errors(_AE_6D, IMAGES * 255), ValueError,
         "pixels in", "divide by 255"),
    # compression
    Case("bits-zero", lambda: compression.code_bytes(16, 0), ValueError, "bits must be a positive integer",
         "such as 8"),
    Case("bits-too-many", lambda: compression.pack(torch.zeros(3, dtype=torch.long), 32), ValueError,
         "bits must be from 1 to 16", "such as 8"),
    Case("level-too-big", lambda: compression.pack(torch.tensor([4]), 2), ValueError, r"0\.\.3", "fit in 2 bits"),
    Case("payload-short", lambda: compression.unpack(b"\x00", 8, 4), ValueError, "too few for 4 numbers", "cut off"),
    Case("range-1d", lambda: compression.code_range(torch.rand(10)), ValueError, r"\(N, latent_dim\)",
         "encode_all"),
    Case("quantize-range-size", lambda: compression.quantize(_CODES_6D, 8, torch.zeros(3), torch.ones(3)),
         ValueError, "one low and one high per dimension", "code_range"),
    Case("dequantize-wrong-bits", lambda: compression.dequantize(torch.tensor([[300]]), 8, torch.zeros(1),
                                                                 torch.ones(1)), ValueError, r"0\.\.255", "same bits"),
    Case("send-a-batch", lambda: compression.send(_AE_6D, IMAGES, 8, torch.zeros(6), torch.ones(6)), ValueError,
         r"one image of shape \(1, 28, 28\)", r"images\[0\]"),
    Case("jpeg-quality", lambda: compression.jpeg_round_trip(IMAGES, 100), ValueError, "quality must be",
         r"1 \(smallest\) to 95"),
    Case("overhead-format", lambda: compression.file_overhead(IMAGES[0], "GIF"), ValueError, "'PNG' or 'JPEG'",
         "got 'GIF'"),
    Case("png-pixels-255", lambda: compression.png_sizes(IMAGES * 255), ValueError, "pixels in", "divide by 255"),
    Case("jpeg-pixels-negative", lambda: compression.jpeg_round_trip(IMAGES - 0.5, 75), ValueError, "pixels in",
         "rescale them into"),
    Case("png-not-images", lambda: compression.png_sizes(np.zeros((2, 28, 28))), TypeError, "must be a tensor",
         r"splits\.train\.images"),
    # features
    Case("draw-fewer-than-classes", lambda: features.balanced_draw(LABELS, 5), ValueError,
         r"at least the number of classes \(10\)", "got 5"),
    Case("draw-zero", lambda: features.balanced_draw(LABELS, 0), ValueError, "n must be a positive integer",
         "labelled images"),
    Case("probe-label-count", lambda: features.probe_accuracy(CODES_2D, LABELS[:9], CODES_2D, LABELS), ValueError,
         "one label per feature row", "training and for the test"),
    Case("probe-columns", lambda: features.probe_accuracy(torch.rand(8, 3), LABELS[:8], torch.rand(8, 4), LABELS[:8]),
         ValueError, "3 columns but test features 4", "the same way"),
    Case("fine-tune-labels", lambda: features.fine_tune(models.EncoderClassifier(_AE_6D.encoder, 6), IMAGES[:5],
                                                        LABELS[:4], steps=1), ValueError,
         "5 images but 4 labels", "one label per image"),
    Case("accuracy-one-label", lambda: features.classifier_accuracy(models.EncoderClassifier(_AE_6D.encoder, 6),
                                                                   IMAGES, torch.tensor([1])), ValueError,
         "8 images but 1 labels", "one label per image"),
    Case("encoder-of-a-string", lambda: features.pretrained_encoder("ae"), TypeError, "got str", "trained autoencoder"),
    Case("classifier-one-class", lambda: models.EncoderClassifier(torch.nn.Identity(), 4, n_classes=1), ValueError,
         "n_classes must be an integer >= 2", "classes to tell apart"),
    Case("class-unknown", lambda: data.class_index("Bag", data.MNIST_CLASSES), ValueError, "not a class here",
         "index from 0 to 9"),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_a_bad_input_names_the_problem_and_the_fix(case: Case) -> None:
    if case.skip:
        pytest.skip(case.skip)
    with pytest.raises(case.error) as raised:
        case.call()
    message = str(raised.value.args[0]) if raised.value.args else str(raised.value)
    assert re.search(case.problem, message), f"the problem is not named: {message}"
    assert re.search(case.fix, message), f"no fix is suggested: {message}"


COMMAND_LINES = [
    ("bench-no-models", bench.main, ["--models", ""], "names no model", "choose one or more of"),
    ("bench-unknown-model", bench.main, ["--models", "gan"], r"unknown model\(s\) \['gan'\]", "choose from"),
    ("bench-gpu", bench.main, ["--device", "gpu"], "'gpu' is not a PyTorch device", "use 'cuda'"),
    ("bench-dataset", bench.main, ["--dataset", "bogus"], "Unknown dataset 'bogus'", r"\(--dataset\)"),
    ("bench-epochs", bench.main, ["--epochs", "0"], "--epochs must be at least 1", "at least 1"),
    ("slides-output", slides.main, ["--output", "/proc/decks"], "cannot write decks there",
     "choose a folder you can write to"),
    ("slides-timeout", slides.main, ["--timeout", "0", "--output", "/tmp"], "--timeout must be at least 1", "second"),
    ("slides-jobs", slides.main, ["--jobs", "0", "--output", "/tmp"], "--jobs must be at least 1", "at least 1"),
]
if not torch.cuda.is_available():
    COMMAND_LINES.append(("bench-cuda", bench.main, ["--device", "cuda"], "no CUDA GPU", r"no --device"))


@pytest.mark.parametrize("tool, argv, problem, fix", [c[1:] for c in COMMAND_LINES], ids=[c[0] for c in COMMAND_LINES])
def test_a_command_line_refuses_bad_options_before_any_work(tool, argv, problem, fix, capsys) -> None:
    with pytest.raises(SystemExit) as stopped:
        tool(argv)
    assert stopped.value.code == 2
    error = capsys.readouterr().err
    assert "Traceback" not in error
    assert re.search(problem, error) and re.search(fix, error), error


def test_the_battery_is_large_enough() -> None:
    assert len(CASES) + len(COMMAND_LINES) >= 80
