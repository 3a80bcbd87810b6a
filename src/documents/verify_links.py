"""The verify page's address for a code, and the QR code that carries it.

The QR holds `https://<verify host>/v/<CODE>`: scheme and host in lower case (one byte segment),
the code upper case in an alphanumeric segment (5.5 bits a character instead of 8), so the symbol
stays small at error correction level Q (a quarter of it may be scuffed or folded and still read).
"""

from __future__ import annotations

import functools
import io
from typing import Any
from urllib.parse import urlsplit

import segno
from segno import consts


def verify_url(verify_base: str, code: str) -> str:
    """`https://host/v/CODE` for a canonical code (upper case, no dashes)."""
    parts = urlsplit(verify_base.rstrip("/"))
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{parts.path}/v/{code.upper()}"


@functools.lru_cache(maxsize=8)  # asked on every verify page, of one setting
def verify_host(verify_base: str) -> str:
    """The host people are told to check at ("check the live status at portal.example.org")."""
    return urlsplit(verify_base).netloc.lower()


def _qr(url: str) -> segno.QRCode:
    prefix, _, code = url.rpartition("/")
    segments: Any = [(prefix + "/", consts.MODE_BYTE), (code, consts.MODE_ALPHANUMERIC)]
    return segno.make(
        segments,  # segno takes (content, mode) pairs, though its hints say otherwise
        error="q",
        boost_error=False,  # Q exactly, as printed certificates promise
        micro=False,
    )


@functools.lru_cache(maxsize=4096)
def qr_svg(url: str, scale: int = 4) -> str:
    """The QR code as inline SVG markup (no XML declaration), titled with the address it holds."""
    return _qr(url).svg_inline(scale=scale, title=f"QR code for {url}", svgclass="qr", lineclass=None)


def qr_png(url: str, scale: int = 8) -> bytes:
    """The same QR code as a PNG (black on white, the standard 4-module quiet zone), for printing."""
    out = io.BytesIO()
    _qr(url).save(out, kind="png", scale=scale, border=4)
    return out.getvalue()
