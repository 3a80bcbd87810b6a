"""Where things are drawn on a PDF page, read back from the PDF itself (pypdf), in points from the
page's lower left corner.

Text: pypdf's text visitor gives each run's text, font and starting point; its width comes from the
embedded font's own advance widths (the TrueType files in src/printing/fonts, read with fontTools),
its height from the font's ascent and descent. Images: the transformation matrix in force where the
content stream paints the image (`cm … Do`), which maps the unit square onto the page.
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass
from typing import Any

from fontTools.ttLib import TTFont
from pypdf import PageObject, PdfReader
from pypdf.generic import ContentStream

from src.printing.sheet import FONTS


@dataclass(frozen=True)
class Box:
    text: str
    left: float
    bottom: float
    right: float
    top: float

    def overlaps(self, other: Box) -> bool:
        return (
            self.left < other.right
            and other.left < self.right
            and self.bottom < other.top
            and other.bottom < self.top
        )

    def inside(self, other: Box) -> bool:
        return (
            other.left <= self.left
            and self.right <= other.right
            and other.bottom <= self.bottom
            and self.top <= other.top
        )


@functools.cache
def _font(bold: bool) -> TTFont:
    return TTFont(FONTS / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"))


def _extent(text: str, size: float, bold: bool) -> tuple[float, float, float]:
    """Width, ascent and descent (positive) in points of `text` at `size`."""
    font = _font(bold)
    per_unit = size / font["head"].unitsPerEm
    glyphs = font.getBestCmap()
    advances = font["hmtx"].metrics
    width = sum(advances[glyphs.get(ord(char), ".notdef")][0] for char in text)
    return width * per_unit, font["hhea"].ascent * per_unit, -font["hhea"].descent * per_unit


def text_boxes(page: PageObject) -> list[Box]:
    """A box round every run of visible text on the page."""
    boxes: list[Box] = []

    def visit(text: str, cm: Any, tm: Any, font: Any, size: float) -> None:
        shown = text.strip()
        if not shown or font is None:
            return
        bold = "Bold" in str(font.get("/BaseFont", ""))
        # A leading space is pypdf's, put between runs, not drawn: the run starts at its origin.
        width, ascent, descent = _extent(shown, size, bold)
        # The run's origin on the page: the text matrix, then the current transformation matrix.
        x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        boxes.append(Box(shown, x, y - descent, x + width, y + ascent))

    page.extract_text(visitor_text=visit)
    return boxes


def _times(m: list[float], n: list[float]) -> list[float]:
    """The matrix m·n in PDF's [a b c d e f] form."""
    a, b, c, d, e, f = m
    p, q, r, s, t, u = n
    return [a * p + b * r, a * q + b * s, c * p + d * r, c * q + d * s, e * p + f * r + t, e * q + f * s + u]


def image_boxes(reader: PdfReader, page: PageObject) -> list[Box]:
    """A box for every image the page paints, named by its XObject name."""
    ctm = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0]
    saved: list[list[float]] = []
    boxes: list[Box] = []
    for operands, operator in ContentStream(page.get_contents(), reader).operations:
        if operator == b"q":
            saved.append(ctm)
        elif operator == b"Q":
            ctm = saved.pop()
        elif operator == b"cm":
            ctm = _times([float(value) for value in operands], ctm)
        elif operator == b"Do":
            xs = (ctm[4], ctm[4] + ctm[0])
            ys = (ctm[5], ctm[5] + ctm[3])
            boxes.append(Box(str(operands[0]), min(xs), min(ys), max(xs), max(ys)))
    return boxes


def pages_of(pdf: bytes) -> tuple[PdfReader, list[PageObject]]:
    reader = PdfReader(io.BytesIO(pdf))
    return reader, list(reader.pages)
