"""The lessons' networks: an MLP autoencoder, a convolutional autoencoder and a convolutional VAE.

Every model has ``encode(x) -> z`` and ``decode(z) -> x_hat`` with ``x_hat`` in [0, 1].
Decoders also expose ``decode_logits(z)``: training uses the logits with a fused, numerically
stable BCE (``losses.reconstruction_loss(..., from_logits=True)``), and the sigmoid is applied
only when a picture is wanted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from course_utils.checks import check_images, model_device, positive_int

IMAGE_SHAPE = (1, 28, 28)
IMAGE_PIXELS = 28 * 28


def _check_latent_dim(latent_dim: int) -> None:
    """Raise a clear error for a latent size that is not a positive integer."""
    positive_int("latent_dim", latent_dim, hint="(such as 2 or 16)")


def _check_codes(z: torch.Tensor, latent_dim: int) -> None:
    """Raise a clear error unless ``z`` is a batch of ``latent_dim``-dimensional codes."""
    if z.ndim != 2 or z.shape[1] != latent_dim:
        fix = ("A single code needs a batch axis: z.unsqueeze(0)." if z.ndim == 1 and len(z) == latent_dim else
               f"Pass codes made by this model's encoder (its latent_dim is {latent_dim}).")
        raise ValueError(f"This decoder expects codes of shape (N, {latent_dim}) but got {tuple(z.shape)}. {fix}")


class Autoencoder(nn.Module):
    """Shared behaviour: ``forward`` reconstructs, ``decode`` squashes the logits to [0, 1]."""

    latent_dim: int

    encoder: nn.Module
    decoder: nn.Module

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Map images ``(N, 1, 28, 28)`` to codes ``(N, latent_dim)``."""
        check_images(x, "x", shape=IMAGE_SHAPE)
        return self.encoder(x)

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        """Map codes ``(N, latent_dim)`` to pixel logits ``(N, 1, 28, 28)``."""
        _check_codes(z, self.latent_dim)
        return self.decoder(z)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Map codes to images with pixels in [0, 1]."""
        return torch.sigmoid(self.decode_logits(z))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Reconstruct a batch of images."""
        return self.decode(self.encode(x))


class MLPAutoencoder(Autoencoder):
    """A fully connected autoencoder: 784 pixels -> hidden layers -> ``latent_dim`` -> back."""

    def __init__(self, latent_dim: int = 2, hidden: tuple[int, ...] = (512, 128)) -> None:
        super().__init__()
        _check_latent_dim(latent_dim)
        if not hidden or any(not isinstance(h, int) or h < 1 for h in hidden):
            raise ValueError(f"hidden must be a non-empty tuple of positive sizes, got {hidden!r}.")
        self.latent_dim = latent_dim
        sizes = (IMAGE_PIXELS, *hidden)
        encoder: list[nn.Module] = [nn.Flatten()]  # (N, 1, 28, 28) -> (N, 784)
        for size_in, size_out in zip(sizes[:-1], sizes[1:]):
            encoder += [nn.Linear(size_in, size_out), nn.ReLU()]
        encoder.append(nn.Linear(sizes[-1], latent_dim))  # -> (N, latent_dim): the bottleneck
        self.encoder = nn.Sequential(*encoder)
        decoder: list[nn.Module] = []
        back = (latent_dim, *reversed(hidden))
        for size_in, size_out in zip(back[:-1], back[1:]):
            decoder += [nn.Linear(size_in, size_out), nn.ReLU()]
        decoder += [nn.Linear(back[-1], IMAGE_PIXELS), nn.Unflatten(1, IMAGE_SHAPE)]  # -> (N, 1, 28, 28)
        self.decoder = nn.Sequential(*decoder)


class LinearAutoencoder(Autoencoder):
    """784 pixels -> ``latent_dim`` -> 784 with no activation at all: the autoencoder that PCA is.

    Like PCA it works on centred pixels: ``mean`` (the training images' mean image) is taken off
    before encoding and added back after decoding, so the weights learn only directions. (Biases
    could learn the mean too, but slowly: the mean dwarfs the variation, and training crawls.)
    Its output is not squashed, so ``decode`` may leave [0, 1]; train it with MSE on ``model(x)``.
    """

    def __init__(self, latent_dim: int = 2, mean: torch.Tensor | None = None) -> None:
        super().__init__()
        _check_latent_dim(latent_dim)
        self.latent_dim = latent_dim
        mean = torch.zeros(IMAGE_SHAPE) if mean is None else torch.as_tensor(mean, dtype=torch.float32)
        if mean.numel() != IMAGE_PIXELS:
            raise ValueError(f"mean must be one 28x28 image (784 numbers), got shape {tuple(mean.shape)}: "
                             "pass images.mean(dim=0).")
        self.register_buffer("mean", mean.reshape(1, *IMAGE_SHAPE))
        self.encoder = nn.Sequential(nn.Flatten(), nn.Linear(IMAGE_PIXELS, latent_dim, bias=False))  # -> (N, d)
        self.decoder = nn.Sequential(nn.Linear(latent_dim, IMAGE_PIXELS, bias=False), nn.Unflatten(1, IMAGE_SHAPE))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Codes ``(N, latent_dim)`` of the centred images."""
        check_images(x, "x", shape=IMAGE_SHAPE)
        return self.encoder(x - self.mean)

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        """Images ``(N, 1, 28, 28)``: a weighted sum of the decoder's columns, plus the mean (no sigmoid)."""
        _check_codes(z, self.latent_dim)
        return self.decoder(z) + self.mean

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """The same as ``decode_logits``: a linear decoder has nothing to squash."""
        return self.decode_logits(z)

    def directions(self) -> torch.Tensor:
        """The decoder's weight columns ``(784, latent_dim)``: every reconstruction is the mean plus a mix of them."""
        return self.decoder[0].weight.detach().cpu()



Downsample = Literal["stride", "maxpool"]
Upsample = Literal["transpose", "resize"]


def _check_channels(channels: Sequence[int]) -> tuple[int, ...]:
    """``channels`` as a tuple of two or more positive ints, or a clear error."""
    values = tuple(channels) if isinstance(channels, (tuple, list)) else ()
    if len(values) < 2 or not all(isinstance(c, int) and not isinstance(c, bool) and c > 0 for c in values):
        raise ValueError(
            f"channels must list two or more positive ints, e.g. (16, 32) or (16, 32, 32), got {channels!r}."
        )
    return values


def conv_encoder(channels: Sequence[int] = (16, 32), downsample: Downsample = "stride") -> nn.Sequential:
    """Two conv blocks that take 28x28 to 7x7 (by stride or max-pooling), then one 3x3 block per extra channel count."""
    c1, c2, *extra = _check_channels(channels)
    if downsample == "stride":
        layers = [
            nn.Conv2d(1, c1, 3, stride=2, padding=1), nn.ReLU(),   # 1x28x28 -> c1x14x14
            nn.Conv2d(c1, c2, 3, stride=2, padding=1), nn.ReLU(),  # c1x14x14 -> c2x7x7
        ]
    elif downsample == "maxpool":
        layers = [
            nn.Conv2d(1, c1, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),   # 1x28x28 -> c1x28x28 -> c1x14x14
            nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # -> c2x14x14 -> c2x7x7
        ]
    else:
        raise ValueError(f"downsample must be 'stride' or 'maxpool', got {downsample!r}.")
    for c_in, c_out in zip([c2, *extra], extra):
        layers += [nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU()]  # c_in x7x7 -> c_out x7x7: depth, not size
    return nn.Sequential(*layers)


def conv_decoder(channels: Sequence[int] = (16, 32), upsample: Upsample = "transpose") -> nn.Sequential:
    """The encoder's mirror: one 3x3 block per extra channel count at 7x7, then two blocks back to 28x28 logits."""
    c1, c2, *extra = _check_channels(channels)
    if upsample not in ("transpose", "resize"):
        raise ValueError(f"upsample must be 'transpose' or 'resize', got {upsample!r}.")
    layers: list[nn.Module] = []
    widths = [*reversed(extra), c2]
    for c_in, c_out in zip(widths, widths[1:]):
        layer = nn.ConvTranspose2d if upsample == "transpose" else nn.Conv2d
        layers += [layer(c_in, c_out, 3, padding=1), nn.ReLU()]  # c_in x7x7 -> c_out x7x7
    if upsample == "transpose":
        layers += [
            nn.ConvTranspose2d(c2, c1, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),  # c2x7x7 -> c1x14x14
            nn.ConvTranspose2d(c1, 1, 3, stride=2, padding=1, output_padding=1),              # c1x14x14 -> 1x28x28
        ]
    else:
        layers += [
            nn.Upsample(scale_factor=2), nn.Conv2d(c2, c1, 3, padding=1), nn.ReLU(),  # c2x7x7 -> c1x14x14
            nn.Upsample(scale_factor=2), nn.Conv2d(c1, 1, 3, padding=1),              # c1x14x14 -> 1x28x28
        ]
    return nn.Sequential(*layers)


class ConvAutoencoder(Autoencoder):
    """A convolutional autoencoder with a flat ``latent_dim`` bottleneck between conv stacks."""

    def __init__(
        self,
        latent_dim: int = 16,
        channels: Sequence[int] = (16, 32),
        downsample: Downsample = "stride",
        upsample: Upsample = "transpose",
    ) -> None:
        super().__init__()
        _check_latent_dim(latent_dim)
        self.latent_dim = latent_dim
        last = _check_channels(channels)[-1]
        flat = last * 7 * 7
        self.encoder = nn.Sequential(
            conv_encoder(channels, downsample),  # 1x28x28 -> last x7x7
            nn.Flatten(),                        # -> last*49
            nn.Linear(flat, latent_dim),         # -> latent_dim: the bottleneck
        )
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, flat), nn.ReLU(),  # latent_dim -> last*49
            nn.Unflatten(1, (last, 7, 7)),           # -> last x7x7
            conv_decoder(channels, upsample),        # -> 1x28x28 logits
        )



class ConvVAE(Autoencoder):
    """A convolutional variational autoencoder: the encoder outputs a mean and a log-variance."""

    def __init__(self, latent_dim: int = 16, channels: Sequence[int] = (16, 32)) -> None:
        super().__init__()
        _check_latent_dim(latent_dim)
        self.latent_dim = latent_dim
        last = _check_channels(channels)[-1]
        flat = last * 7 * 7
        self.encoder = nn.Sequential(conv_encoder(channels), nn.Flatten())  # 1x28x28 -> last*49
        self.to_mu = nn.Linear(flat, latent_dim)      # -> latent_dim: the mean
        self.to_logvar = nn.Linear(flat, latent_dim)  # -> latent_dim: log sigma^2, unconstrained
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, flat), nn.ReLU(),  # latent_dim -> last*49
            nn.Unflatten(1, (last, 7, 7)),           # -> last x7x7
            conv_decoder(channels),                  # -> 1x28x28 logits
        )

    def encode_distribution(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(mu, logvar)``, each ``(N, latent_dim)``, of q(z | x)."""
        check_images(x, "x", shape=IMAGE_SHAPE)
        features = self.encoder(x)
        return self.to_mu(features), self.to_logvar(features)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The mean code ``mu``: the VAE's deterministic summary of ``x``."""
        return self.encode_distribution(x)[0]

    @staticmethod
    def reparameterize(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        """Sample z = mu + sigma * eps with eps ~ N(0, I), so gradients reach mu and sigma."""
        std = torch.exp(0.5 * logvar)
        return mu + std * torch.randn_like(std)

    def forward_parts(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One stochastic pass: ``(logits, mu, logvar)``, what the VAE loss needs."""
        mu, logvar = self.encode_distribution(x)
        return self.decode_logits(self.reparameterize(mu, logvar)), mu, logvar

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Decode ``n`` codes drawn from the prior N(0, I)."""
        device = model_device(self)
        z = torch.randn(n, self.latent_dim, generator=generator, device="cpu").to(device)
        return self.decode(z)


class MaskedConv2d(nn.Conv2d):
    """A convolution that sees only the cells above and to the left (raster order) of each output cell.

    Mask ``"A"`` hides the cell itself too (the first layer: it must not see what it predicts);
    mask ``"B"`` lets later layers see their own position, which holds only earlier cells' information.
    """

    def __init__(self, mask: str, in_channels: int, out_channels: int, kernel_size: int) -> None:
        if mask not in ("A", "B"):
            raise ValueError(f"mask must be 'A' (the first layer) or 'B' (the layers after it), got {mask!r}.")
        if positive_int("kernel_size", kernel_size) % 2 == 0:
            raise ValueError(f"kernel_size must be odd, so the kernel has a centre, got {kernel_size}.")
        super().__init__(in_channels, out_channels, kernel_size, padding=kernel_size // 2)
        centre = kernel_size // 2
        keep = torch.ones(kernel_size, kernel_size)
        keep[centre, centre + (mask == "B"):] = 0  # the centre row: only the cells to the left (and itself for B)
        keep[centre + 1:] = 0                      # nothing below
        self.register_buffer("mask", keep[None, None])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The convolution with the masked weights."""
        return F.conv2d(x, self.weight * self.mask, self.bias, padding=self.padding)


class AutoregressiveVAE(ConvVAE):
    """A ConvVAE whose decoder also sees the pixels above and to the left of each pixel (a small PixelCNN path).

    Logits = the ConvVAE's decoder of z + a masked convolution of x itself, so each pixel is predicted from z and
    from the pixels before it (raster order). Such a decoder can model much of an image without z: the setting in
    which Bowman et al. (2016) saw posterior collapse. Pixels are meant to be 0 or 1 (binarise first).
    """

    def __init__(self, latent_dim: int = 16, channels: Sequence[int] = (16, 32), hidden: int = 16,
                 kernel_size: int = 5) -> None:
        super().__init__(latent_dim, channels)
        hidden = positive_int("hidden", hidden)
        self.pixel_path = nn.Sequential(
            MaskedConv2d("A", 1, hidden, kernel_size), nn.ReLU(),  # 1x28x28 -> hidden x28x28, earlier pixels only
            nn.Conv2d(hidden, hidden, 1), nn.ReLU(),               # per pixel: no new pixels seen
            nn.Conv2d(hidden, 1, 1),                               # -> 1x28x28 logits
        )

    def logits_given(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """Pixel logits of p(x | z), each pixel conditioned on z and on the pixels of ``x`` before it."""
        check_images(x, "x", shape=IMAGE_SHAPE)
        return self.decode_logits(z) + self.pixel_path(x)

    def forward_parts(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One stochastic pass: ``(logits, mu, logvar)``, what the VAE loss needs."""
        mu, logvar = self.encode_distribution(x)
        return self.logits_given(x, self.reparameterize(mu, logvar)), mu, logvar

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Each pixel's probability given the mean code and the true pixels before it (not a free reconstruction)."""
        return torch.sigmoid(self.logits_given(x, self.encode(x)))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Not offered: an image from z alone would skip the pixel path; use ``logits_given(x, z)``."""
        raise NotImplementedError("AutoregressiveVAE cannot decode z alone: each pixel also depends on the pixels "
                                  "before it. Use logits_given(x, z), or a ConvVAE to decode codes.")

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Not offered: drawing needs 784 passes, pixel by pixel; this model is for measuring collapse."""
        raise NotImplementedError("AutoregressiveVAE draws no samples in this course: it is used to measure "
                                  "posterior collapse. Use ConvVAE.sample for images from the prior.")


class EncoderClassifier(nn.Module):
    """An autoencoder's encoder with a small classification head: image -> code -> ReLU -> class logits."""

    def __init__(self, encoder: nn.Module, latent_dim: int, n_classes: int = 10, hidden: int = 64) -> None:
        super().__init__()
        _check_latent_dim(latent_dim)
        positive_int("n_classes", n_classes, minimum=2, hint="(classes to tell apart)")
        self.encoder = encoder  # (N, 1, 28, 28) -> (N, latent_dim)
        self.head = nn.Sequential(nn.ReLU(), nn.Linear(latent_dim, hidden), nn.ReLU(), nn.Linear(hidden, n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits ``(N, n_classes)`` for images ``(N, 1, 28, 28)``."""
        check_images(x, "x", shape=IMAGE_SHAPE)
        return self.head(self.encoder(x))


def count_parameters(model: nn.Module) -> int:
    """The number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def conv_parameters(in_channels: int, out_channels: int, kernel_size: int) -> int:
    """How many weights and biases ``nn.Conv2d(in_channels, out_channels, kernel_size)`` has (asks PyTorch)."""
    return count_parameters(nn.Conv2d(in_channels, out_channels, kernel_size))


# --- looking inside a model (lesson 3) -------------------------------------------------------


def conv_output_size(size: int, kernel_size: int, stride: int = 1, padding: int = 0) -> int:
    """Side length after a Conv2d or MaxPool2d: floor((size + 2 * padding - kernel_size) / stride) + 1."""
    size, kernel_size, stride = (positive_int(n, v) for n, v in (("size", size), ("kernel_size", kernel_size),
                                                                 ("stride", stride)))
    padding = positive_int("padding", padding, minimum=0)
    if size + 2 * padding < kernel_size:
        raise ValueError(
            f"A {kernel_size}x{kernel_size} kernel does not fit in a {size}x{size} input with padding "
            f"{padding}: use a smaller kernel or more padding."
        )
    return (size + 2 * padding - kernel_size) // stride + 1


def _describe(module: nn.Module) -> str:
    """A short name for one layer, such as 'Conv2d 1->16, 3x3, stride 2'."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        k, s = module.kernel_size[0], module.stride[0]
        text = f"{type(module).__name__} {module.in_channels}->{module.out_channels}, {k}x{k}"
        return text + (f", stride {s}" if s != 1 else "")
    if isinstance(module, nn.Linear):
        return f"Linear {module.in_features}->{module.out_features}"
    if isinstance(module, nn.MaxPool2d):
        return f"MaxPool2d {module.kernel_size}"
    if isinstance(module, nn.Upsample):
        return f"Upsample x{module.scale_factor:g}" if module.scale_factor else "Upsample"
    return type(module).__name__


def _multiply_adds(module: nn.Module, inputs: torch.Tensor, output: torch.Tensor) -> int:
    """Multiply-adds one layer spends on one image (weights only; activations count as 0)."""
    if isinstance(module, nn.Conv2d):  # every output value looks at in/groups x k x k inputs
        per_output = module.in_channels // module.groups * module.kernel_size[0] * module.kernel_size[1]
        return output[0].numel() * per_output
    if isinstance(module, nn.ConvTranspose2d):  # every input value is spread over out x k x k outputs
        per_input = module.out_channels // module.groups * module.kernel_size[0] * module.kernel_size[1]
        return inputs[0].numel() * per_input
    if isinstance(module, nn.Linear):
        return output[0].numel() // module.out_features * module.in_features * module.out_features
    return 0


def layer_shapes(model: nn.Module, input_shape: tuple[int, ...] = (1, *IMAGE_SHAPE)) -> list[dict]:
    """Run one dummy batch through and list every layer: part, layer, output shape, params, multiply-adds.

    For an autoencoder the encoder and the decoder are run separately (``part`` says which), and
    the sigmoid that ``decode`` applies is listed last.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"Pass a model such as models.ConvAutoencoder(16), got {type(model).__name__}.")
    if len(input_shape) < 2 or any(not isinstance(d, int) or d < 1 for d in input_shape):
        raise ValueError(f"input_shape must be a batch shape such as (1, 1, 28, 28), got {input_shape!r}.")
    rows: list[dict] = []
    part = ["model"]

    def record(module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        rows.append({
            "part": part[0],
            "layer": _describe(module),
            "shape": tuple(output.shape[1:]),
            "params": sum(p.numel() for p in module.parameters(recurse=False)),
            "multiply_adds": _multiply_adds(module, inputs[0], output),
        })

    leaves = [m for m in model.modules() if not list(m.children())]
    handles = [m.register_forward_hook(record) for m in leaves]
    was_training = model.training
    model.eval()
    try:
        device = model_device(model)
        x = torch.zeros(input_shape, device=device)
        with torch.no_grad():
            if isinstance(model, Autoencoder):
                part[0] = "encoder"
                z = model.encode(x)
                part[0] = "decoder"
                logits = model.decode_logits(z)
                rows.append({"part": "decoder", "layer": "sigmoid (in decode)", "shape": tuple(logits.shape[1:]),
                             "params": 0, "multiply_adds": 0})
            else:
                model(x)
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    return rows


def layer_table(model: nn.Module, input_shape: tuple[int, ...] = (1, *IMAGE_SHAPE)) -> str:
    """``layer_shapes`` as a printable table, with the input shape on top and totals below."""
    rows = layer_shapes(model, input_shape)
    lines = [f"{'part':<8} {'layer':<38} {'output shape':<14} {'params':>9} {'mult-adds':>11}"]
    lines.append("-" * len(lines[0]))
    lines.append(f"{'input':<8} {'':<38} {'x'.join(map(str, input_shape[1:])):<14} {'':>9} {'':>11}")
    for row in rows:
        shape = "x".join(map(str, row["shape"]))
        lines.append(f"{row['part']:<8} {row['layer']:<38} {shape:<14} {row['params']:>9,} {row['multiply_adds']:>11,}")
    lines.append("-" * len(lines[0]))
    total_params = sum(r["params"] for r in rows)
    total_macs = sum(r["multiply_adds"] for r in rows)
    lines.append(f"{'total':<8} {'':<38} {'':<14} {total_params:>9,} {total_macs:>11,}")
    return "\n".join(lines)
