"""QR codes for any text (a verify page's address today, an authenticator's secret tomorrow): SVG
for pages, PNG for printed duplicates.

A long tail of digits and capital letters (a verify code at the end of its address) travels as an
alphanumeric segment, 5.5 bits a character instead of 8, so the symbol stays small; the rest goes
as bytes. Error correction is level Q by default: a quarter of the symbol may be scuffed or folded
and it still reads, as printed certificates promise.
"""

from __future__ import annotations

import functools
import io
import re
from typing import Any

import segno
from segno import consts

# Shorter tails are not worth a second segment's header.
_ALPHANUMERIC_TAIL = re.compile(r"[0-9A-Z]{8,}\Z")


def _segments(text: str) -> list[tuple[str, int]]:
    tail = _ALPHANUMERIC_TAIL.search(text)
    if tail is None or tail.start() == 0:
        return [(text, consts.MODE_BYTE)]
    return [(text[: tail.start()], consts.MODE_BYTE), (tail.group(), consts.MODE_ALPHANUMERIC)]


def _symbol(text: str, error: str) -> segno.QRCode:
    segments: Any = _segments(text)  # segno takes (content, mode) pairs, though its hints say otherwise
    return segno.make(segments, error=error, boost_error=False, micro=False)


@functools.lru_cache(maxsize=4096)  # a page shows the same few codes again and again
def svg(text: str, *, scale: int = 4, error: str = "q") -> str:
    """The QR code as inline SVG markup (no XML declaration), titled with the text it holds."""
    return _symbol(text, error).svg_inline(
        scale=scale, title=f"QR code for {text}", svgclass="qr", lineclass=None
    )


def secret_svg(text: str, title: str, *, scale: int = 4) -> str:
    """A QR code holding a secret (an authenticator's key): titled with `title`, not with the text,
    and never kept in the cache that `svg` keeps. Level M: it is read from a screen, never from paper."""
    return _symbol(text, "m").svg_inline(scale=scale, title=title, svgclass="qr", lineclass=None)


def png(text: str, *, scale: int = 8, error: str = "q") -> bytes:
    """The QR code as a PNG (black on white, the standard 4-module quiet zone), for printing."""
    out = io.BytesIO()
    _symbol(text, error).save(out, kind="png", scale=scale, border=4)
    return out.getvalue()
