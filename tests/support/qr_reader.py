"""Read the QR codes a page serves, with a real decoder (zxing-cpp).

The portal serves segno's inline SVG: one path of horizontal runs (`M x y`, `m dx dy`, `h n`) in
module units. It is rasterised here to a greyscale image, pixel by pixel, and handed to zxing-cpp,
which knows nothing of segno: what it reads is what a phone camera would read.
"""

from __future__ import annotations

import re

import zxingcpp
from selectolax.lexbor import LexborNode

PIXELS_PER_MODULE = 4
_STEP = re.compile(r"([MmHh])\s*(-?[\d.]+)(?:\s+(-?[\d.]+))?")


def rasterise(svg: LexborNode) -> tuple[bytearray, int]:
    """A square greyscale image (0 dark, 255 light) of the SVG's QR code, and its side in pixels."""
    path = svg.css_first("path")
    scale = float(re.search(r"scale\(([\d.]+)\)", path.attributes["transform"] or "").group(1))  # type: ignore[union-attr]
    modules = int(float(svg.attributes["width"] or 0) / scale)
    side = modules * PIXELS_PER_MODULE
    image = bytearray([255]) * (side * side)
    x = y = 0.0
    for op, first, second in _STEP.findall(path.attributes["d"] or ""):
        if op == "M":
            x, y = float(first), float(second)
        elif op == "m":
            x, y = x + float(first), y + float(second)
        else:  # h: a dark run along the current row
            run = float(first)
            row = int(y)  # segno draws strokes through the middle of the row (y + 0.5)
            for module in range(int(x), int(x + run)):
                for dy in range(PIXELS_PER_MODULE):
                    start = (row * PIXELS_PER_MODULE + dy) * side + module * PIXELS_PER_MODULE
                    image[start : start + PIXELS_PER_MODULE] = bytes(PIXELS_PER_MODULE)
            x += run
    return image, side


def decode(svg: LexborNode) -> zxingcpp.Barcode:
    """The one QR code in the SVG, decoded; fails unless exactly one is found."""
    image, side = rasterise(svg)
    found = zxingcpp.read_barcodes(
        memoryview(image).cast("B", (side, side)), formats=zxingcpp.BarcodeFormat.QRCode
    )
    assert len(found) == 1, f"{len(found)} QR codes read"
    return found[0]
