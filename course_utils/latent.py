"""The latent space as a place: its extent, grids over it, its holes, and walks through it.

Everything about where codes lie lives here: the range the codes cover and regular grids over it
(lesson 2), the convex outline of a 2-D code map and its empty spots (lesson 1), holes that prior
samples fall into and the share of codes inside the prior's ball (lessons 2 and 4), grids at the
normal's quantiles (lesson 4), and straight-line walks between two codes (lessons 2 and 4).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from course_utils.checks import positive_int, to_numpy
from course_utils.metrics import nearest_distances, nearest_neighbours
from course_utils.train import decode_all, encode_all

# --- Extent and grids -------------------------------------------------------------------------


def code_ranges(
    codes: torch.Tensor | np.ndarray, quantile: float = 0.01
) -> tuple[tuple[float, float], tuple[float, float]]:
    """The (low, high) range of each of two code axes, trimming the most extreme points."""
    points = to_numpy(codes)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"code_ranges needs 2-D codes of shape (N, 2), got {points.shape}: "
                         "encode the images with a model trained with latent_dim=2.")
    low, high = np.quantile(points, [quantile, 1 - quantile], axis=0)
    return (float(low[0]), float(high[0])), (float(low[1]), float(high[1]))


def latent_grid_points(
    x_range: tuple[float, float], y_range: tuple[float, float], n: int
) -> np.ndarray:
    """An ``n x n`` grid of 2-D points, row by row from the top-left (high z2) corner."""
    n = positive_int("n", n, minimum=2)
    xs = np.linspace(*x_range, n)
    ys = np.linspace(*y_range, n)[::-1]  # top row = largest z2, as on a plot
    return np.array([[x, y] for y in ys for x in xs], dtype=np.float32)


def normal_quantile_grid(n: int = 15, low: float = 0.05, high: float = 0.95) -> torch.Tensor:
    """An ``n x n`` grid of 2-D codes at standard-normal quantiles, row by row from the top-left.

    Both axes run over the quantiles ``linspace(low, high, n)`` of N(0, 1); the order matches
    ``latent_grid_points``: the top row has the largest z2, and z1 grows to the right.
    Returns a float32 tensor of shape ``(n * n, 2)``.
    """
    n = positive_int("n", n, minimum=2, hint="(tiles per side)")
    if not 0.0 < low < high < 1.0:
        raise ValueError(
            f"Quantiles must satisfy 0 < low < high < 1 (such as 0.05 and 0.95), got low={low!r}, high={high!r}: "
            "0 and 1 would map to -inf and +inf."
        )
    probabilities = torch.linspace(low, high, n, dtype=torch.float64)
    values = torch.distributions.Normal(0.0, 1.0).icdf(probabilities).to(torch.float32)
    xs, ys = values, values.flip(0)  # top row = largest z2, as on a plot
    return torch.stack([xs.repeat(n), ys.repeat_interleave(n)], dim=1)


# --- Outline and empty spots of a 2-D code map ------------------------------------------------


def _codes_2d(codes: torch.Tensor | np.ndarray, what: str) -> np.ndarray:
    """2-D codes as a float32 array (N, 2), or a clear error naming the fix."""
    points = to_numpy(codes).astype(np.float32)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(
            f"{what} needs 2-D codes of shape (N, 2), got {points.shape}: "
            "encode the images with a model trained with latent_dim=2."
        )
    if len(points) < 3:
        raise ValueError(f"{what} needs at least 3 codes to outline the wardrobe, got {len(points)}.")
    return points


def _check_grid_args(grid_size: int, quantile: float) -> None:
    """Raise a clear error for a grid that is too coarse or a trimming quantile out of range."""
    positive_int("grid_size", grid_size, minimum=2, hint="(points per side)")
    if not 0.0 <= quantile < 0.5:
        raise ValueError(f"quantile must be in [0, 0.5) (0.01 trims the 1% most extreme codes), got {quantile!r}.")


def hull_grid_points(codes: torch.Tensor | np.ndarray, grid_size: int = 40, quantile: float = 0.01) -> np.ndarray:
    """Points of a regular grid that lie inside the wardrobe: the convex hull of the (trimmed) 2-D codes.

    The grid spans ``code_ranges(codes, quantile)``, the box that holds all but the most
    extreme codes; points outside the outline of the codes in that box are dropped.
    """
    from scipy.spatial import ConvexHull, QhullError

    points = _codes_2d(codes, "hull_grid_points")
    _check_grid_args(grid_size, quantile)
    (x_low, x_high), (y_low, y_high) = code_ranges(points, quantile)
    if not (x_low < x_high and y_low < y_high):
        raise ValueError("The codes do not spread out in both directions, so they outline no area to search.")
    keep = (points[:, 0] >= x_low) & (points[:, 0] <= x_high) & (points[:, 1] >= y_low) & (points[:, 1] <= y_high)
    in_box = points[keep]
    try:
        hull = ConvexHull(in_box)
    except (QhullError, ValueError) as error:
        raise ValueError("The codes lie on a line, so they outline no area to search.") from error
    grid = latent_grid_points((x_low, x_high), (y_low, y_high), grid_size)
    # A point is inside a convex hull when it is on the inner side of every facet: n . p + c <= 0.
    slack = 1e-6 * max(x_high - x_low, y_high - y_low)
    inside = np.all(grid @ hull.equations[:, :2].T + hull.equations[:, 2] <= slack, axis=1)
    if not inside.any():
        raise ValueError(
            f"No point of a {grid_size}x{grid_size} grid falls inside the codes' outline: raise grid_size."
        )
    return grid[inside]


def find_empty_spots(
    codes: torch.Tensor | np.ndarray, n_spots: int = 1, grid_size: int = 40, quantile: float = 0.01
) -> tuple[np.ndarray, np.ndarray]:
    """The emptiest places inside the wardrobe: grid points farthest from every code, farthest first.

    Returns ``(spots, distances)``: spots ``(k, 2)`` and each one's distance to its nearest code.
    Each spot lies outside the empty circle of the spots before it, so they are distinct gaps.
    """
    n_spots = positive_int("n_spots", n_spots)
    points = _codes_2d(codes, "find_empty_spots")
    grid = hull_grid_points(points, grid_size, quantile)
    distances = nearest_neighbours(grid, points)[0]
    spots: list[np.ndarray] = []
    radii: list[float] = []
    for i in np.argsort(-distances, kind="stable"):
        if all(np.linalg.norm(grid[i] - spot) > radius for spot, radius in zip(spots, radii)):
            spots.append(grid[i])
            radii.append(float(distances[i]))
            if len(spots) == n_spots:
                break
    return np.array(spots, dtype=np.float32).reshape(-1, 2), np.array(radii, dtype=np.float32)


def empty_fraction(
    codes: torch.Tensor | np.ndarray, radius: float, grid_size: int = 40, quantile: float = 0.01
) -> float:
    """The share of the wardrobe (grid points inside the codes' outline) farther than ``radius`` from every code."""
    if not radius > 0:
        raise ValueError(f"radius must be a positive distance, got {radius!r}.")
    points = _codes_2d(codes, "empty_fraction")
    grid = hull_grid_points(points, grid_size, quantile)
    return float(np.mean(nearest_neighbours(grid, points)[0] > radius))


def cycle_distances(model: torch.nn.Module, codes: torch.Tensor | np.ndarray) -> np.ndarray:
    """How far each code moves when it is decoded and the result encoded again: ``|E(D(z)) - z|``.

    A small distance means the encoder would hang the decoded garment back where it came from.
    """
    latent_dim = getattr(model, "latent_dim", None)
    z = torch.as_tensor(to_numpy(codes), dtype=torch.float32)
    if z.ndim != 2 or (latent_dim is not None and z.shape[1] != latent_dim):
        raise ValueError(
            f"codes must have shape (N, {latent_dim or 'latent_dim'}) for this model, got {tuple(z.shape)}."
        )
    return (encode_all(model, decode_all(model, z)) - z).norm(dim=1).numpy()


# --- Where prior samples land -----------------------------------------------------------------


def share_in_prior(codes: torch.Tensor | np.ndarray, mass: float = 0.95) -> float:
    """The share of codes inside the ball that holds ``mass`` of N(0, I): where prior samples land.

    For a VAE's mean codes it is high by design; for a plain autoencoder it can be near 0.
    """
    from scipy import stats

    points = to_numpy(codes).astype(np.float64)
    if points.ndim != 2 or len(points) == 0:
        raise ValueError(f"codes must have shape (N, latent_dim) with N > 0, got {points.shape}.")
    if not 0.0 < mass < 1.0:
        raise ValueError(f"mass must be between 0 and 1 (such as 0.95), got {mass!r}.")
    radius_squared = stats.chi2.ppf(mass, df=points.shape[1])  # |z|^2 of N(0, I) is chi-square
    return float(np.mean((points**2).sum(axis=1) <= radius_squared))


def hole_share(
    samples: torch.Tensor | np.ndarray, codes: torch.Tensor | np.ndarray, quantile: float = 0.95
) -> tuple[float, float]:
    """The share of ``samples`` that land in a hole, and the hole radius.

    The codes are split in half: one half is the reference map, and a "hole" is any point farther
    from every reference code than ``quantile`` of the other (held-out) half are. So, by construction,
    about ``1 - quantile`` of real codes land in a hole.
    """
    points = to_numpy(codes).astype(np.float32)
    if points.ndim != 2 or len(points) < 4:
        raise ValueError(f"codes must have shape (N, latent_dim) with N >= 4, got {points.shape}.")
    if not 0.0 < quantile < 1.0:
        raise ValueError(f"quantile must be between 0 and 1 (such as 0.95), got {quantile!r}.")
    held_out, reference = points[: len(points) // 2], points[len(points) // 2 :]
    radius = float(np.quantile(nearest_distances(held_out, reference), quantile))
    return float(np.mean(nearest_distances(samples, reference) > radius)), radius


def far_ring(codes: torch.Tensor, n: int = 32, factor: float = 2.0) -> torch.Tensor:
    """``n`` codes on a circle around the codes' centre, ``factor`` times as far out as the farthest code.

    Every point of the ring is at least ``factor - 1`` times the codes' radius away from any code:
    a place the decoder never saw in training. Returns a float32 tensor of shape ``(n, 2)``.
    """
    if codes.ndim != 2 or codes.shape[1] != 2:
        raise ValueError(f"far_ring needs 2-D codes of shape (N, 2), got {tuple(codes.shape)}.")
    if positive_int("n", n, minimum=3) < 3 or factor <= 1:
        raise ValueError(f"far_ring needs n >= 3 points and a factor above 1, got n={n!r}, factor={factor!r}.")
    centre = codes.float().median(dim=0).values
    radius = factor * float((codes.float() - centre).norm(dim=1).max())
    angles = torch.arange(n, dtype=torch.float32) * (2 * torch.pi / n)
    return centre + radius * torch.stack([angles.cos(), angles.sin()], dim=1)


# --- Walks between codes ----------------------------------------------------------------------


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
    steps = positive_int("steps", steps, minimum=2, hint="(the two ends are included)")
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
