"""compression: quantising, packing and sending codes; PNG and JPEG byte counts; and bad input."""

import io

import numpy as np
import pytest
import torch
from PIL import Image

from course_utils import compression, models

IMAGES = torch.rand(4, 1, 28, 28, generator=torch.Generator().manual_seed(0))
CODES = torch.randn(50, 6, generator=torch.Generator().manual_seed(1))


@pytest.mark.parametrize("bits", [1, 3, 8, 12])
def test_pack_then_unpack_gives_the_levels_back_in_the_fewest_bytes(bits):
    levels = torch.randint(0, 2**bits, (5, 7), generator=torch.Generator().manual_seed(bits))
    payload = compression.pack(levels, bits)
    assert len(payload) == compression.code_bytes(35, bits) == -(-35 * bits // 8)
    assert torch.equal(compression.unpack(payload, bits, 35).view(5, 7), levels)


def test_quantize_uses_every_level_and_dequantize_lands_within_half_a_step():
    low, high = compression.code_range(CODES, quantile=0.0)
    for bits in (2, 8):
        levels = compression.quantize(CODES, bits, low, high)
        assert levels.min() == 0 and levels.max() == 2**bits - 1
        step = (high - low) / 2**bits
        assert torch.all((compression.dequantize(levels, bits, low, high) - CODES).abs() <= step / 2 + 1e-5)


def test_quantize_clips_codes_outside_the_range():
    low, high = torch.zeros(2), torch.ones(2)
    levels = compression.quantize(torch.tensor([[-5.0, 5.0]]), 4, low, high)
    assert levels.tolist() == [[0, 15]]


def test_sender_and_receiver_agree_with_the_batch_round_trip():
    torch.manual_seed(0)
    model = models.ConvAutoencoder(6).eval()
    with torch.no_grad():
        low, high = compression.code_range(model.encode(IMAGES).repeat(3, 1) + torch.randn(12, 6))
    payload = compression.send(model, IMAGES[0], 5, low, high)
    assert len(payload) == compression.code_bytes(6, 5) == 4
    received = compression.receive(model, payload, 5, low, high)
    assert torch.allclose(received, compression.round_trip(model, IMAGES[:1], 5, low, high)[0], atol=1e-6)


def test_png_sizes_are_pillows_file_sizes_and_lossless():
    sizes = compression.png_sizes(IMAGES)
    pixels = (IMAGES[0, 0] * 255).round().to(torch.uint8).numpy()
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG", optimize=True)
    assert sizes[0] == len(buffer.getvalue())
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(buffer.getvalue()))), pixels)
    assert compression.png_sizes(torch.zeros(1, 1, 28, 28))[0] < sizes.min()  # black is simpler than noise


def test_jpeg_round_trip_gets_smaller_and_worse_at_lower_quality():
    smooth = torch.linspace(0, 1, 28).view(1, 1, 1, 28).expand(2, 1, 28, 28).contiguous()
    good, good_sizes = compression.jpeg_round_trip(smooth, 90)
    poor, poor_sizes = compression.jpeg_round_trip(smooth, 10)
    assert good.shape == smooth.shape and poor_sizes.mean() < good_sizes.mean()
    assert (poor - smooth).pow(2).mean() > (good - smooth).pow(2).mean()


def test_file_overhead_counts_headers_not_picture():
    png, jpeg = compression.file_overhead(IMAGES[0], "PNG"), compression.file_overhead(IMAGES[0], "JPEG")
    assert png == 8 + 25 + 12 + 12  # signature, IHDR, IEND, one IDAT chunk's length, type and CRC
    assert 100 < jpeg < compression.jpeg_round_trip(IMAGES[:1], 75)[1][0]


def test_rate_distortion_reports_bytes_and_error_per_bit_depth():
    torch.manual_seed(0)
    model = models.ConvAutoencoder(6).eval()
    low, high = compression.code_range(torch.randn(40, 6) * 3)
    points = compression.rate_distortion(model, IMAGES, (8, 2), low, high)
    assert [p["bytes"] for p in points] == [6.0, 2.0] and all(p["mse"] > 0 for p in points)
