"""Sending the code, not the image: quantised codes packed into bytes, and PNG and JPEG as yardsticks.

Byte counts are exact: a code of ``d`` numbers at ``b`` bits each is ``ceil(d * b / 8)`` bytes
(``code_bytes``); PNG and JPEG sizes are the length of the file Pillow writes, headers included, and
``file_overhead`` says how many of those bytes are headers rather than picture.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

import numpy as np
import torch
from PIL import Image

from course_utils.checks import check_images, check_pixels, positive_int, to_numpy
from course_utils.train import decode_all, encode_all

#: Bit depths a code may be quantised to (one level per value at 1 bit would be 2 levels).
MAX_BITS = 16


def _bits(bits: int) -> int:
    """``bits`` checked: a whole number from 1 to MAX_BITS."""
    bits = positive_int("bits", bits, hint=f"(1 to {MAX_BITS} bits per number, such as 8)")
    if bits > MAX_BITS:
        raise ValueError(f"bits must be from 1 to {MAX_BITS} (such as 8), got {bits!r}.")
    return bits


def _as_uint8(images: torch.Tensor) -> np.ndarray:
    """Images (N, 1, H, W) in [0, 1] as 8-bit grey pictures (N, H, W), the form the datasets ship in."""
    check_images(images, "images")
    check_pixels(images, "images")  # 0..255 images would clip to white and report the wrong size
    return (images[:, 0].detach().cpu() * 255).round().to(torch.uint8).numpy()


def code_bytes(latent_dim: int, bits: int) -> int:
    """Bytes for one code of ``latent_dim`` numbers at ``bits`` bits each, packed end to end (rounded up)."""
    return math.ceil(positive_int("latent_dim", latent_dim) * _bits(bits) / 8)


def code_range(codes: torch.Tensor, quantile: float = 0.001) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-dimension (low, high) that hold all but the most extreme ``quantile`` of the codes at each end.

    Sender and receiver agree on this range once (it ships with the decoder); codes outside it are clipped.
    """
    if not isinstance(codes, torch.Tensor) or codes.ndim != 2 or len(codes) < 2:
        raise ValueError(f"codes must be a tensor (N, latent_dim) with N >= 2, such as train.encode_all(model, "
                         f"images), got {tuple(getattr(codes, 'shape', ()))}.")
    if not 0.0 <= quantile < 0.5:
        raise ValueError(f"quantile must be in [0, 0.5) (such as 0.001), got {quantile!r}.")
    low = torch.quantile(codes.float(), quantile, dim=0)
    high = torch.quantile(codes.float(), 1 - quantile, dim=0)
    return low, torch.maximum(high, low + 1e-6)  # a dead dimension still gets a non-empty range


def quantize(codes: torch.Tensor, bits: int, low: torch.Tensor, high: torch.Tensor) -> torch.Tensor:
    """Codes to whole numbers 0 .. 2**bits - 1: the range [low, high] of each dimension cut into equal steps."""
    levels = 2 ** _bits(bits)
    if codes.ndim != 2 or codes.shape[1] != low.numel() or low.shape != high.shape:
        raise ValueError(f"codes {tuple(codes.shape)} must be (N, d) with one low and one high per dimension "
                         f"(got {low.numel()}): use the range from code_range on the same model's codes.")
    scaled = (codes.float() - low) / (high - low)  # [low, high] -> [0, 1]
    return (scaled * levels).floor().clamp(0, levels - 1).long()


def dequantize(levels: torch.Tensor, bits: int, low: torch.Tensor, high: torch.Tensor) -> torch.Tensor:
    """Whole numbers back to codes: the middle of each step (the receiver's best guess)."""
    count = 2 ** _bits(bits)
    if levels.numel() and (int(levels.min()) < 0 or int(levels.max()) >= count):
        raise ValueError(f"levels must lie in 0..{count - 1} for {bits} bits: quantise with the same bits.")
    return low + (levels.float() + 0.5) / count * (high - low)


def pack(levels: torch.Tensor, bits: int) -> bytes:
    """Whole numbers of ``bits`` bits each written end to end into bytes (the last byte padded with zeros)."""
    bits = _bits(bits)
    values = to_numpy(levels).astype(np.int64).ravel()
    if values.size and (values.min() < 0 or values.max() >= 2**bits):
        raise ValueError(f"every level must lie in 0..{2 ** bits - 1} to fit in {bits} bits.")
    # each value as its bits, most significant first, then eight bits to a byte
    as_bits = (values[:, None] >> np.arange(bits - 1, -1, -1)) & 1
    return np.packbits(as_bits.astype(np.uint8).ravel()).tobytes()


def unpack(payload: bytes, bits: int, count: int) -> torch.Tensor:
    """The first ``count`` whole numbers of ``bits`` bits each from ``payload`` (``pack`` undone)."""
    bits, count = _bits(bits), positive_int("count", count)
    if len(payload) * 8 < bits * count:
        raise ValueError(f"{len(payload)} bytes hold {len(payload) * 8} bits, too few for {count} numbers of "
                         f"{bits} bits: was the payload cut off?")
    as_bits = np.unpackbits(np.frombuffer(payload, dtype=np.uint8))[: bits * count].reshape(count, bits)
    return torch.from_numpy(as_bits.astype(np.int64) @ (1 << np.arange(bits - 1, -1, -1)))


def send(model: torch.nn.Module, image: torch.Tensor, bits: int, low: torch.Tensor, high: torch.Tensor) -> bytes:
    """The sender: encode one image (1, 28, 28), quantise its code and pack it into bytes."""
    if not isinstance(image, torch.Tensor) or image.ndim != 3:
        raise ValueError(f"send takes one image of shape (1, 28, 28), got {tuple(getattr(image, 'shape', ()))}: "
                         "pick one, e.g. images[0].")
    return pack(quantize(encode_all(model, image[None]), bits, low, high), bits)


def receive(model: torch.nn.Module, payload: bytes, bits: int, low: torch.Tensor, high: torch.Tensor) -> torch.Tensor:
    """The receiver: unpack the bytes, turn the levels back into a code and decode it: one image (1, 28, 28)."""
    levels = unpack(payload, bits, low.numel())[None]
    return decode_all(model, dequantize(levels, bits, low, high))[0]


def round_trip(model: torch.nn.Module, images: torch.Tensor, bits: int, low: torch.Tensor,
               high: torch.Tensor) -> torch.Tensor:
    """What the receiver sees for every image: encode, quantise, dequantise, decode (a batch at once)."""
    codes = encode_all(model, images)
    return decode_all(model, dequantize(quantize(codes, bits, low, high), bits, low, high))


def png_sizes(images: torch.Tensor) -> np.ndarray:
    """Bytes of each image saved as an 8-bit grey PNG by Pillow (lossless, ``optimize=True``), headers included."""
    sizes = []
    for picture in _as_uint8(images):
        buffer = io.BytesIO()
        Image.fromarray(picture).save(buffer, format="PNG", optimize=True)
        sizes.append(len(buffer.getvalue()))
    return np.array(sizes)


def jpeg_round_trip(images: torch.Tensor, quality: int) -> tuple[torch.Tensor, np.ndarray]:
    """Each image saved as a grey JPEG by Pillow at ``quality`` (1-95) and read back: (images, bytes each)."""
    if isinstance(quality, bool) or not isinstance(quality, (int, np.integer)) or not 1 <= quality <= 95:
        raise ValueError(f"quality must be a whole number from 1 (smallest) to 95 (best), got {quality!r}.")
    decoded, sizes = [], []
    for picture in _as_uint8(images):
        buffer = io.BytesIO()
        Image.fromarray(picture).save(buffer, format="JPEG", quality=int(quality))
        sizes.append(len(buffer.getvalue()))
        decoded.append(np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("L")))
    return torch.from_numpy(np.stack(decoded)).float().div(255).unsqueeze(1), np.array(sizes)


def file_overhead(image: torch.Tensor, format: str, quality: int = 75) -> int:
    """Bytes of one image's PNG or JPEG file that are not picture data: signature, headers, tables, end marker.

    PNG: everything outside the IDAT chunks' data. JPEG: everything before the scan's data, plus the end marker.
    """
    check_images(image[None] if isinstance(image, torch.Tensor) and image.ndim == 3 else image, "image")
    picture = Image.fromarray(_as_uint8(image[None] if image.ndim == 3 else image[:1])[0])
    buffer = io.BytesIO()
    kind = str(format).upper()
    if kind == "PNG":
        picture.save(buffer, format="PNG", optimize=True)
        data, at, payload = buffer.getvalue(), 8, 0
        while at < len(data):  # chunks: 4-byte length, 4-byte type, data, 4-byte CRC
            length, name = int.from_bytes(data[at:at + 4], "big"), data[at + 4:at + 8]
            payload += length if name == b"IDAT" else 0
            at += 12 + length
        return len(data) - payload
    if kind in ("JPEG", "JPG"):
        picture.save(buffer, format="JPEG", quality=quality)
        data = buffer.getvalue()
        start = data.index(b"\xff\xda")  # start of scan: its own header, then the coded picture
        header_length = int.from_bytes(data[start + 2:start + 4], "big")
        return start + 2 + header_length + 2  # + the two-byte end-of-image marker
    raise ValueError(f"format must be 'PNG' or 'JPEG', got {format!r}.")


def rate_distortion(
    model: torch.nn.Module, images: torch.Tensor, bits_list: Sequence[int], low: torch.Tensor, high: torch.Tensor
) -> list[dict[str, float]]:
    """For each bit depth: bytes per image and the mean MSE per pixel of what the receiver decodes."""
    points = []
    for bits in bits_list:
        received = round_trip(model, images, bits, low, high)
        points.append({"bits": int(bits), "bytes": float(code_bytes(low.numel(), bits)),
                       "mse": float((received - images).pow(2).mean())})
    return points
