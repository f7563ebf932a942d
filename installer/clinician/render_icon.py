#!/usr/bin/python3
"""Renders the clinician icon (the shapes of tandem-clinician.svg) to a PNG of the given size.

Debian's ImageMagick here has no SVG reader, so the few shapes are drawn directly: each is a
signed-distance test, supersampled 4x4 per pixel for anti-aliasing, painted in SVG order.
usage: render_icon.py SIZE OUT.png
"""
import struct
import sys
import zlib

import numpy as np

TEAL = (0x1F, 0x6F, 0x78)
WHITE = (0xFF, 0xFF, 0xFF)
MINT = (0xA8, 0xE6, 0xCF)
SAMPLES = 4


def coverage(size, inside):
    """Fraction of each pixel (in 256-unit SVG space) for which inside(x, y) holds."""
    step = 256.0 / size
    offsets = (np.arange(SAMPLES) + 0.5) / SAMPLES
    centres = np.arange(size)[:, None] + offsets[None, :]
    coords = (centres * step).reshape(-1)
    x, y = np.meshgrid(coords, coords)
    hit = inside(x, y).astype(np.float64)
    return hit.reshape(size, SAMPLES, size, SAMPLES).mean(axis=(1, 3))


def rounded_rect(x, y):
    left, top, right, bottom, radius = 8.0, 8.0, 248.0, 248.0, 52.0
    cx = np.clip(x, left + radius, right - radius)
    cy = np.clip(y, top + radius, bottom - radius)
    inside_box = (x >= left) & (x <= right) & (y >= top) & (y <= bottom)
    return inside_box & ((x - cx) ** 2 + (y - cy) ** 2 <= radius**2)


def ring(cx, cy, radius, width):
    def inside(x, y):
        d = np.sqrt((x - cx) ** 2 + (y - cy) ** 2)
        return np.abs(d - radius) <= width / 2
    return inside


def paint(size):
    rgba = np.zeros((size, size, 4))
    for shape, colour in ((rounded_rect, TEAL), (ring(100, 128, 54, 20), WHITE), (ring(156, 128, 54, 20), MINT)):
        a = coverage(size, shape)[..., None]
        rgba[..., :3] = rgba[..., :3] * (1 - a) + np.array(colour) / 255.0 * a
        rgba[..., 3:] = rgba[..., 3:] * (1 - a) + a
    # Colours were blended as if on black; un-premultiply where partly transparent.
    alpha = rgba[..., 3:]
    rgba[..., :3] = np.where(alpha > 0, rgba[..., :3] / np.maximum(alpha, 1e-9), 0)
    return (np.clip(rgba, 0, 1) * 255 + 0.5).astype(np.uint8)


def write_png(path, pixels):
    height, width, _ = pixels.shape
    raw = b"".join(b"\x00" + pixels[row].tobytes() for row in range(height))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    with open(path, "wb") as out:
        out.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    size = int(sys.argv[1])
    write_png(sys.argv[2], paint(size))


if __name__ == "__main__":
    main()
