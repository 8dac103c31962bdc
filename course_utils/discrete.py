"""Discrete codes: vector quantisation, the VQ-VAE, codebook statistics and an autoregressive prior over code grids.

A VQ-VAE (van den Oord et al., 2017) encodes an image to a small grid of vectors and snaps each one
to its nearest entry of a learned codebook, so the code is a grid of integers. Nothing makes those
integers follow a known distribution: sampling needs a prior learned on the codes of real images
(here a PixelCNN-style stack of masked convolutions, as in the paper).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from course_utils.checks import check_images, model_device, positive_int, positive_number, to_numpy
from course_utils.losses import Objective, reconstruction_loss
from course_utils.models import (  # MaskedConv2d lives in models (lesson 4 uses it too); lesson 6 finds it here
    IMAGE_SHAPE,
    MaskedConv2d,
    _check_channels,
    conv_decoder,
    conv_encoder,
)
from course_utils.train import History, learning_rate_schedule, make_adam


def _check_indices(indices: torch.Tensor, num_codes: int, what: str = "indices") -> torch.Tensor:
    """Code indices as a long tensor, or a clear error for fractions and out-of-range values."""
    values = torch.as_tensor(indices)
    if values.is_floating_point():
        if not bool(torch.isfinite(values).all()) or not bool((values == values.round()).all()):
            raise ValueError(f"{what} must be whole code numbers from 0 to {num_codes - 1}, got fractions or NaN: "
                             "pass the integer grids that encode() returns.")
    values = values.long()
    if values.numel() and (int(values.min()) < 0 or int(values.max()) >= num_codes):
        raise ValueError(f"{what} must lie between 0 and {num_codes - 1} (the codebook has {num_codes} entries), "
                         f"got values from {int(values.min())} to {int(values.max())}.")
    return values


# --- vector quantisation ----------------------------------------------------------------------


def nearest_codes(vectors: torch.Tensor, codebook: torch.Tensor) -> torch.Tensor:
    """Index of the nearest codebook row (Euclidean) for each vector: ``(..., D)`` -> ``(...)``."""
    if codebook.ndim != 2 or vectors.shape[-1] != codebook.shape[1]:
        raise ValueError(f"vectors (..., D) and codebook (K, D) must share D, got {tuple(vectors.shape)} and "
                         f"{tuple(codebook.shape)}: move the channel axis last, e.g. z.permute(0, 2, 3, 1).")
    flat = vectors.reshape(-1, codebook.shape[1])
    # ||v - e||^2 = ||v||^2 - 2 v.e + ||e||^2, without building the (N, K, D) differences
    distances = flat.pow(2).sum(1, keepdim=True) - 2 * flat @ codebook.T + codebook.pow(2).sum(1)
    return distances.argmin(dim=1).reshape(vectors.shape[:-1])


def quantize(vectors: torch.Tensor, codebook: torch.Tensor
             ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """The VQ layer of van den Oord et al. (2017) on ``(..., D)`` vectors: ``(z_q, indices, codebook, commitment)``.

    ``z_q`` has the chosen entries' values and passes its gradient straight through to ``vectors``; the last two
    are the codebook and commitment losses.
    """
    indices = nearest_codes(vectors.detach(), codebook.detach())
    chosen = F.embedding(indices, codebook)  # (..., D): the nearest entry of each vector
    codebook_loss = F.mse_loss(chosen, vectors.detach())    # moves only the chosen entries, towards the encoder
    commitment_loss = F.mse_loss(vectors, chosen.detach())  # moves only the encoder, towards its entries
    z_q = vectors + (chosen - vectors).detach()  # straight-through: the forward value is chosen, the gradient z_e's
    return z_q, indices, codebook_loss, commitment_loss


def vq_trace(layer: Callable[[torch.Tensor, torch.Tensor], Sequence[torch.Tensor]], vectors: torch.Tensor,
             codebook: torch.Tensor, upstream: torch.Tensor, commitment: float = 0.25) -> torch.Tensor | None:
    """Everything a VQ layer computes and lets through, flat: values, indices, losses and both gradients.

    ``layer(vectors, codebook)`` returns ``(z_q, indices, codebook_loss, commitment_loss)`` like ``quantize``;
    it runs on fresh copies, and ``sum(z_q * upstream) + codebook_loss + commitment * commitment_loss`` (the
    decoder's gradient plus ``vq_objective``'s two code terms) is backpropagated, so that two layers agree here
    only if they agree in the forward pass, in the straight-through gradient and in where each loss sends its
    gradient. For ``exercises.check_function``; None if ``layer`` returns None (an unfinished exercise).
    """
    z_e = vectors.detach().clone().requires_grad_(True)
    book = codebook.detach().clone().requires_grad_(True)
    parts = layer(z_e, book)
    if parts is None:
        return None
    z_q, indices, codebook_loss, commitment_loss = parts
    torch.autograd.backward((z_q * upstream).sum() + codebook_loss + commitment * commitment_loss)
    grads = [torch.zeros_like(t) if t.grad is None else t.grad for t in (z_e, book)]  # None: nothing reached it
    return torch.cat([z_q.detach().flatten(), torch.as_tensor(indices).flatten().to(z_q.dtype),
                      torch.stack([torch.as_tensor(codebook_loss), torch.as_tensor(commitment_loss)]).detach(),
                      *(g.flatten() for g in grads)])


class VectorQuantizer(nn.Module):
    """Snap each vector of a ``(N, D, H, W)`` grid to its nearest of ``num_codes`` learned codebook vectors.

    With ``restart_every`` > 0, every that many training batches the entries no vector picked since the
    last check ("dead codes") are moved onto random encoder outputs of the current batch, where they
    can win again (the random restarts of Dhariwal et al., 2020).
    """

    def __init__(self, num_codes: int, code_dim: int, restart_every: int = 0) -> None:
        super().__init__()
        self.num_codes = positive_int("num_codes", num_codes, minimum=2, hint="(codebook entries, such as 64)")
        self.code_dim = positive_int("code_dim", code_dim, hint="(the length of each code vector)")
        self.restart_every = positive_int("restart_every", restart_every, minimum=0, hint="(0: never)")
        self.codebook = nn.Embedding(self.num_codes, self.code_dim)
        nn.init.uniform_(self.codebook.weight, -1 / self.num_codes, 1 / self.num_codes)  # small, as in common ports
        self.register_buffer("uses", torch.zeros(self.num_codes))  # picks since the last restart check
        self.register_buffer("restarted", torch.zeros((), dtype=torch.long))  # codes restarted so far
        self.steps = 0

    def lookup(self, indices: torch.Tensor) -> torch.Tensor:
        """Codebook vectors for an index grid ``(N, H, W)``, as ``(N, D, H, W)``."""
        return self.codebook(indices).permute(0, 3, 1, 2)

    def forward(self, z_e: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(z_q, indices, codebook_loss, commitment_loss)``; ``z_q`` passes gradients straight through to ``z_e``."""
        vectors = z_e.permute(0, 2, 3, 1)  # (N, H, W, D): one vector per grid cell
        z_q, indices, codebook_loss, commitment_loss = quantize(vectors, self.codebook.weight)
        if self.training and self.restart_every:
            self._restart_dead(indices, vectors.detach())
        return z_q.permute(0, 3, 1, 2), indices, codebook_loss, commitment_loss

    @torch.no_grad()
    def _restart_dead(self, indices: torch.Tensor, vectors: torch.Tensor) -> None:
        """Count this batch's picks; every ``restart_every`` batches move unpicked entries onto encoder outputs."""
        self.uses += torch.bincount(indices.flatten(), minlength=self.num_codes).to(self.uses.dtype)
        self.steps += 1
        if self.steps % self.restart_every:
            return
        dead = torch.nonzero(self.uses == 0).flatten()
        if len(dead):
            pool = vectors.reshape(-1, self.code_dim)
            picks = torch.randint(len(pool), (len(dead),), device=pool.device)
            self.codebook.weight[dead] = pool[picks]
            self.restarted += len(dead)
        self.uses.zero_()


class VQVAE(nn.Module):
    """Conv encoder -> a ``code_dim`` x 7 x 7 grid -> vector quantisation -> conv decoder.

    ``encode`` returns the discrete code, a ``(N, 7, 7)`` grid of integers in ``[0, num_codes)``;
    ``decode`` takes such grids back to images in [0, 1].
    """

    def __init__(self, num_codes: int = 64, code_dim: int = 8, channels: Sequence[int] = (16, 32),
                 restart_every: int = 0) -> None:
        super().__init__()
        last = _check_channels(channels)[-1]
        self.encoder = nn.Sequential(conv_encoder(channels), nn.Conv2d(last, code_dim, 1))  # -> code_dim x7x7
        self.quantizer = VectorQuantizer(num_codes, code_dim, restart_every)
        self.decoder = nn.Sequential(nn.Conv2d(code_dim, last, 3, padding=1), nn.ReLU(),  # code_dim x7x7 -> last x7x7
                                     conv_decoder(channels))                               # -> 1x28x28 logits
        self.num_codes, self.code_dim = self.quantizer.num_codes, self.quantizer.code_dim
        self.grid_shape = (7, 7)

    def encode_continuous(self, x: torch.Tensor) -> torch.Tensor:
        """The encoder's output before quantisation, ``(N, code_dim, 7, 7)``."""
        check_images(x, "x", shape=IMAGE_SHAPE)
        return self.encoder(x)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The discrete code of each image: an index grid ``(N, 7, 7)``."""
        z_e = self.encode_continuous(x).permute(0, 2, 3, 1)
        return nearest_codes(z_e, self.quantizer.codebook.weight)

    def decode_logits(self, indices: torch.Tensor) -> torch.Tensor:
        """Pixel logits ``(N, 1, 28, 28)`` for index grids ``(N, 7, 7)``."""
        if indices.ndim != 3 or tuple(indices.shape[1:]) != self.grid_shape:
            raise ValueError(f"This decoder expects index grids of shape (N, 7, 7), got {tuple(indices.shape)}: "
                             "pass what encode() returns (add a batch axis to a single grid: g.unsqueeze(0)).")
        indices = _check_indices(indices, self.num_codes).to(self.quantizer.codebook.weight.device)
        return self.decoder(self.quantizer.lookup(indices))

    def decode(self, indices: torch.Tensor) -> torch.Tensor:
        """Images with pixels in [0, 1] for index grids ``(N, 7, 7)``."""
        return torch.sigmoid(self.decode_logits(indices))

    def forward_parts(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """One training pass: ``(logits, indices, codebook_loss, commitment_loss)``."""
        z_q, indices, codebook_loss, commitment_loss = self.quantizer(self.encode_continuous(x))
        return self.decoder(z_q), indices, codebook_loss, commitment_loss

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Reconstruct a batch of images."""
        return self.decode(self.encode(x))


def vq_objective(commitment: float = 0.25) -> Objective:
    """The VQ-VAE loss: BCE per pixel + codebook loss + ``commitment`` x commitment loss (all means)."""
    commitment = positive_number("commitment", commitment, "(the paper uses 0.25)")

    def objective(model: nn.Module, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        if not isinstance(model, VQVAE):
            raise TypeError(f"vq_objective trains a discrete.VQVAE, got a {type(model).__name__}.")
        logits, _, codebook_loss, commitment_loss = model.forward_parts(batch)
        recon = reconstruction_loss(logits, batch, from_logits=True)
        return {"recon": recon, "codebook": codebook_loss, "commitment": commitment_loss,
                "total": recon + codebook_loss + commitment * commitment_loss}

    return objective


# --- codebook statistics and bits ------------------------------------------------------------


def code_counts(indices: torch.Tensor | np.ndarray, num_codes: int) -> np.ndarray:
    """How often each of the ``num_codes`` entries is used in ``indices`` (any shape)."""
    num_codes = positive_int("num_codes", num_codes, minimum=2)
    values = _check_indices(torch.as_tensor(to_numpy(indices)), num_codes)
    if values.numel() == 0:
        raise ValueError("indices is empty: encode at least one image first.")
    return np.bincount(values.flatten().numpy(), minlength=num_codes)


def perplexity(indices: torch.Tensor | np.ndarray, num_codes: int) -> float:
    """exp(entropy of the code usage): the number of equally used codes that would give the same spread."""
    counts = code_counts(indices, num_codes)
    p = counts[counts > 0] / counts.sum()
    return float(np.exp(-(p * np.log(p)).sum()))


def dead_codes(indices: torch.Tensor | np.ndarray, num_codes: int) -> int:
    """How many codebook entries no grid cell in ``indices`` uses."""
    return int((code_counts(indices, num_codes) == 0).sum())


def code_bits(grid_shape: Sequence[int], num_codes: int) -> float:
    """Bits to store one grid when every cell may hold any of ``num_codes`` entries: cells x log2(num_codes)."""
    cells = math.prod(positive_int("grid side", side) for side in grid_shape)
    return cells * math.log2(positive_int("num_codes", num_codes, minimum=2))


def _check_bits(bits_per_dim: int) -> int:
    """``bits_per_dim`` as an int from 1 to 16, or a clear error."""
    bits_per_dim = positive_int("bits_per_dim", bits_per_dim, hint="(such as 2)")
    if bits_per_dim > 16:
        raise ValueError(f"bits_per_dim={bits_per_dim} is more than a float needs: use 16 or fewer.")
    return bits_per_dim


def scalar_bins(bits_per_dim: int, reference: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Bin edges ``(D, L - 1)`` and centres ``(D, L)`` of ``L = 2**bits_per_dim`` equally likely levels per coordinate.

    Equally likely under N(0, 1) (the prior; D = 1) when ``reference`` is None, else under each coordinate's
    own spread in ``reference`` codes ``(N, D)`` (its quantiles): only then does every level carry its full
    share of the bits. A centre is its bin's middle quantile.
    """
    levels = 2 ** _check_bits(bits_per_dim)
    inner, middles = torch.arange(1, levels) / levels, (torch.arange(levels) + 0.5) / levels
    if reference is None:
        normal = torch.distributions.Normal(0.0, 1.0)
        return normal.icdf(inner)[None], normal.icdf(middles)[None]
    reference = torch.as_tensor(reference, dtype=torch.float32).cpu()
    if reference.ndim != 2 or len(reference) < levels:
        raise ValueError(f"reference must be codes of shape (N, D) with N >= {levels} (one level per share), "
                         f"got {tuple(reference.shape)}: pass train.encode_all(model, training_images).")
    return torch.quantile(reference, inner, dim=0).T.contiguous(), torch.quantile(reference, middles, dim=0).T


def scalar_levels(codes: torch.Tensor, bits_per_dim: int, reference: torch.Tensor | None = None) -> torch.Tensor:
    """The level (0 to 2**bits_per_dim - 1) of every coordinate of ``codes`` ``(N, D)``; bins as in ``scalar_bins``."""
    edges, _ = scalar_bins(bits_per_dim, reference)
    codes = torch.as_tensor(codes, dtype=torch.float32).cpu()
    if codes.ndim != 2 or (len(edges) > 1 and codes.shape[1] != len(edges)):
        raise ValueError(f"codes must be (N, D) with the reference's D = {len(edges)}, got {tuple(codes.shape)}.")
    return torch.searchsorted(edges.expand(codes.shape[1], -1).contiguous(), codes.T.contiguous()).T


def scalar_quantize(codes: torch.Tensor, bits_per_dim: int, reference: torch.Tensor | None = None) -> torch.Tensor:
    """Replace every coordinate by its level's centre: the code a decoder gets after storage at b bits each."""
    _, centres = scalar_bins(bits_per_dim, reference)
    levels = scalar_levels(codes, bits_per_dim, reference)
    rounded = torch.take_along_dim(centres.expand(levels.shape[1], -1).T, levels, dim=0)  # (N, D)
    return rounded.to(torch.as_tensor(codes).device)


def normal_scalar_quantize(codes: torch.Tensor, bits_per_dim: int) -> torch.Tensor:
    """Round every coordinate to one of 2**bits_per_dim levels, equally likely under N(0, 1).

    Each coordinate falls in one of 2**b bins of equal probability under the prior and is replaced by its
    bin's middle quantile. The bins are equally likely for codes spread like N(0, 1) only: a VAE's mean codes
    are narrower, so pass their own spread to ``scalar_quantize`` to use all b bits.
    """
    codes = torch.as_tensor(codes, dtype=torch.float32)
    return scalar_quantize(codes.reshape(len(codes), -1) if codes.ndim != 2 else codes,
                           bits_per_dim).reshape(codes.shape)


def level_entropy(levels: torch.Tensor, bits_per_dim: int) -> float:
    """Mean over coordinates of the entropy (bits) of how often each level is used: ``bits_per_dim`` at best."""
    levels = _check_indices(levels, 2 ** _check_bits(bits_per_dim), "levels")
    if levels.ndim != 2 or not len(levels):
        raise ValueError(f"levels must be (N, D) with N > 0, got {tuple(levels.shape)}: pass scalar_levels(...).")
    counts = torch.zeros(levels.shape[1], 2 ** bits_per_dim).scatter_add_(1, levels.T, torch.ones(levels.T.shape))
    p = counts / counts.sum(1, keepdim=True)
    return float(-(p * torch.log2(p.clamp_min(1e-30))).sum(1).mean())


def uniform_codes(n: int, num_codes: int, grid_shape: Sequence[int] = (7, 7),
                  generator: torch.Generator | None = None) -> torch.Tensor:
    """``n`` grids whose cells are drawn uniformly from the codebook: a prior that knows nothing."""
    n, num_codes = positive_int("n", n), positive_int("num_codes", num_codes, minimum=2)
    return torch.randint(num_codes, (n, *grid_shape), generator=generator)


# --- an autoregressive prior over code grids --------------------------------------------------


class GridPrior(nn.Module):
    """A small PixelCNN: p(grid) = product over cells, in raster order, of p(cell | the cells before it)."""

    def __init__(self, num_codes: int, hidden: int = 32, layers: int = 3, grid_shape: Sequence[int] = (7, 7)) -> None:
        super().__init__()
        self.num_codes = positive_int("num_codes", num_codes, minimum=2)
        hidden, layers = positive_int("hidden", hidden), positive_int("layers", layers, hint="(masked 3x3 layers)")
        self.grid_shape = tuple(positive_int("grid side", s) for s in grid_shape)
        self.embed = nn.Embedding(self.num_codes, hidden)
        stack: list[nn.Module] = [MaskedConv2d("A", hidden, hidden, 5)]  # sees the cells before, not itself
        for _ in range(layers):
            stack += [nn.ReLU(), MaskedConv2d("B", hidden, hidden, 3)]
        stack += [nn.ReLU(), nn.Conv2d(hidden, self.num_codes, 1)]  # -> one logit per codebook entry and cell
        self.net = nn.Sequential(*stack)

    def forward(self, grids: torch.Tensor) -> torch.Tensor:
        """Logits ``(N, num_codes, H, W)``: at each cell, the prediction from the cells before it."""
        grids = _check_indices(grids, self.num_codes, "grids").to(model_device(self))
        if grids.ndim != 3:
            raise ValueError(f"grids must have shape (N, H, W), got {tuple(grids.shape)}: add a batch axis.")
        return self.net(self.embed(grids).permute(0, 3, 1, 2))

    def bits(self, grids: torch.Tensor) -> torch.Tensor:
        """-log2 p(grid) for each grid, shape (N,): what an entropy coder using this prior would spend."""
        logits = self(grids)
        nats = F.cross_entropy(logits, grids.long().to(logits.device), reduction="none").flatten(1).sum(1)
        return nats / math.log(2)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None, temperature: float = 1.0) -> torch.Tensor:
        """``n`` grids drawn cell by cell in raster order, each from p(cell | the cells drawn before it)."""
        n = positive_int("n", n)
        temperature = positive_number("temperature", temperature, "(1 samples the prior as learned)")
        was_training = self.training
        self.eval()
        grids = torch.zeros(n, *self.grid_shape, dtype=torch.long)
        for row in range(self.grid_shape[0]):
            for col in range(self.grid_shape[1]):
                logits = self(grids)[:, :, row, col].float().cpu() / temperature
                grids[:, row, col] = torch.multinomial(logits.softmax(dim=1), 1, generator=generator)[:, 0]
        self.train(was_training)
        return grids


def fit_prior(prior: GridPrior, train_grids: torch.Tensor, val_grids: torch.Tensor | None = None, *,
              epochs: int, batch_size: int = 64, lr: float = 1e-2, seed: int = 0) -> History:
    """Train the prior by maximum likelihood (cross-entropy in bits per grid), Adam with a one-cycle rate."""
    epochs, batch_size = positive_int("epochs", epochs), positive_int("batch_size", batch_size)
    train_grids = _check_indices(train_grids, prior.num_codes, "train_grids")
    optimizer = make_adam(prior, positive_number("lr", lr))
    steps = epochs * math.ceil(len(train_grids) / batch_size)
    scheduler = learning_rate_schedule(optimizer, "one-cycle", lr, steps)
    shuffler = torch.Generator().manual_seed(positive_int("seed", seed, minimum=0))
    history = History()
    for _ in range(epochs):
        prior.train()
        started, total = time.perf_counter(), 0.0
        order = torch.randperm(len(train_grids), generator=shuffler)
        for start in range(0, len(order), batch_size):
            batch = train_grids[order[start:start + batch_size]]
            optimizer.zero_grad()
            loss = prior.bits(batch).mean()
            loss.backward()
            optimizer.step()
            scheduler.step()
            total += float(loss.detach()) * len(batch)
        history.train.setdefault("total", []).append(total / len(train_grids))
        if val_grids is not None:
            history.val.setdefault("total", []).append(prior_bits(prior, val_grids))
        history.seconds.append(time.perf_counter() - started)
    prior.eval()
    return history


@torch.no_grad()
def prior_bits(prior: GridPrior, grids: torch.Tensor, batch_size: int = 1024) -> float:
    """Mean -log2 p(grid) over ``grids``, in bits per grid."""
    was_training = prior.training
    prior.eval()
    total = sum(float(prior.bits(grids[i:i + batch_size]).sum()) for i in range(0, len(grids), batch_size))
    prior.train(was_training)
    return total / len(grids)
