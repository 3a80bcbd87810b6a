"""The verify page's address for a code, as QR codes (src/qr.py) carry it and people type it.

`https://<verify host>/v/<CODE>`: scheme and host in lower case, the code upper case, so a QR code
carries the code as a compact alphanumeric tail.
"""

from __future__ import annotations

import functools
from urllib.parse import urlsplit


def verify_url(verify_base: str, code: str) -> str:
    """`https://host/v/CODE` for a canonical code (upper case, no dashes)."""
    parts = urlsplit(verify_base.rstrip("/"))
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{parts.path}/v/{code.upper()}"


@functools.lru_cache(maxsize=8)  # asked on every verify page, of one setting
def verify_host(verify_base: str) -> str:
    """The host people are told to check at ("check the live status at portal.example.org")."""
    return urlsplit(verify_base).netloc.lower()
