"""Walking a latent space: straight lines between codes, and grids at the prior's quantiles.

Taught in lesson 4 (variational autoencoders): a VAE's latent space is shaped like N(0, I), so
its grid is laid out in probability (equal steps of the normal's CDF), not in raw coordinates.
"""

from __future__ import annotations

import torch
from torch import nn

from course_utils.train import decode_all, encode_all


def normal_quantile_grid(n: int = 15, low: float = 0.05, high: float = 0.95) -> torch.Tensor:
    """An ``n x n`` grid of 2-D codes at standard-normal quantiles, row by row from the top-left.

    Both axes run over the quantiles ``linspace(low, high, n)`` of N(0, 1); the order matches
    ``plots.latent_grid_points``: the top row has the largest z2, and z1 grows to the right.
    Returns a float32 tensor of shape ``(n * n, 2)``.
    """
    if not isinstance(n, int) or isinstance(n, bool) or n < 2:
        raise ValueError(f"n must be an integer >= 2 (tiles per side), got {n!r}.")
    if not 0.0 < low < high < 1.0:
        raise ValueError(
            f"Quantiles must satisfy 0 < low < high < 1 (such as 0.05 and 0.95), got low={low!r}, high={high!r}: "
            "0 and 1 would map to -inf and +inf."
        )
    probabilities = torch.linspace(low, high, n, dtype=torch.float64)
    values = torch.distributions.Normal(0.0, 1.0).icdf(probabilities).to(torch.float32)
    xs, ys = values, values.flip(0)  # top row = largest z2, as on a plot
    return torch.stack([xs.repeat(n), ys.repeat_interleave(n)], dim=1)


def _as_code(z: torch.Tensor, what: str) -> torch.Tensor:
    """One code as a 1-D float tensor, accepting ``(D,)`` or ``(1, D)``."""
    code = torch.as_tensor(z, dtype=torch.float32).detach().cpu()
    if code.ndim == 2 and code.shape[0] == 1:
        code = code[0]
    if code.ndim != 1:
        raise ValueError(
            f"{what} must be one code of shape (D,) or (1, D), got {tuple(code.shape)}: pick a single row, e.g. z[3]."
        )
    return code


def interpolate(z_start: torch.Tensor, z_end: torch.Tensor, steps: int = 10) -> torch.Tensor:
    """Codes evenly spaced on the straight line from ``z_start`` to ``z_end``, both ends included.

    Returns a ``(steps, D)`` tensor whose first row is ``z_start`` and last row ``z_end`` exactly.
    """
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 2:
        raise ValueError(f"steps must be an integer >= 2 (the two ends are included), got {steps!r}.")
    start, end = _as_code(z_start, "z_start"), _as_code(z_end, "z_end")
    if start.shape != end.shape:
        raise ValueError(
            f"z_start has {start.shape[0]} dimensions but z_end has {end.shape[0]}: "
            "both codes must come from the same model."
        )
    t = torch.linspace(0.0, 1.0, steps).unsqueeze(1)  # (steps, 1)
    return (1.0 - t) * start + t * end  # exact at t = 0 and t = 1


def interpolate_images(
    model: nn.Module, image_start: torch.Tensor, image_end: torch.Tensor, steps: int = 10
) -> torch.Tensor:
    """Encode two images, walk the straight line between their codes, decode every step.

    Returns ``(steps, 1, 28, 28)`` images on the CPU; for a VAE the mean codes are used.
    """
    pair = []
    for image, what in ((image_start, "image_start"), (image_end, "image_end")):
        batch = image.unsqueeze(0) if image.ndim == 3 else image
        if batch.ndim != 4 or len(batch) != 1:
            raise ValueError(
                f"{what} must be one image of shape (1, 28, 28) or (1, 1, 28, 28), got {tuple(image.shape)}."
            )
        pair.append(batch)
    codes = encode_all(model, torch.cat(pair))
    return decode_all(model, interpolate(codes[0], codes[1], steps))


def far_ring(codes: torch.Tensor, n: int = 32, factor: float = 2.0) -> torch.Tensor:
    """``n`` codes on a circle around the codes' centre, ``factor`` times as far out as the farthest code.

    Every point of the ring is at least ``factor - 1`` times the codes' radius away from any code:
    a place the decoder never saw in training. Returns a float32 tensor of shape ``(n, 2)``.
    """
    if codes.ndim != 2 or codes.shape[1] != 2:
        raise ValueError(f"far_ring needs 2-D codes of shape (N, 2), got {tuple(codes.shape)}.")
    if not isinstance(n, int) or n < 3 or factor <= 1:
        raise ValueError(f"far_ring needs n >= 3 points and a factor above 1, got n={n!r}, factor={factor!r}.")
    centre = codes.float().median(dim=0).values
    radius = factor * float((codes.float() - centre).norm(dim=1).max())
    angles = torch.arange(n, dtype=torch.float32) * (2 * torch.pi / n)
    return centre + radius * torch.stack([angles.cos(), angles.sin()], dim=1)
