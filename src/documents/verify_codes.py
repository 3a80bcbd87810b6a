"""Verify codes: the whole key to a document's public verify page.

16 Crockford base32 characters from 80 random bits, plus one Luhn mod 32 check character that
catches a mistyped character (and most swaps of two neighbours) before any lookup. Stored upper
case without dashes; printed `XXXX-XXXX-XXXX-XXXX-C`. Never derived from an id or a number.
"""

from __future__ import annotations

import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})
BODY_LENGTH = 16
LENGTH = BODY_LENGTH + 1


def _luhn_sum(values: list[int], double_first: bool) -> int:
    """Luhn mod 32 over values read from the right: every second one doubled, digits summed in base 32."""
    total, double = 0, double_first
    for value in reversed(values):
        addend = value * 2 if double else value
        total += addend // 32 + addend % 32
        double = not double
    return total


def check_character(body: str) -> str:
    total = _luhn_sum([_VALUE[c] for c in body], double_first=True)
    return ALPHABET[(32 - total % 32) % 32]


def new_verify_code() -> str:
    number = secrets.randbits(5 * BODY_LENGTH)  # 80 bits
    body = "".join(ALPHABET[(number >> (5 * i)) & 31] for i in range(BODY_LENGTH))
    return body + check_character(body)


def normalise(typed: str) -> str:
    """A code as people type or read it: any case, O for 0, I or L for 1, spaces and dashes."""
    kept = "".join(ch for ch in typed if ch not in " -\t")
    return kept.upper().translate(_READ_AS)


def is_well_formed(code: str) -> bool:
    """True when a normalised code has the right length and alphabet and its check character holds."""
    if len(code) != LENGTH or any(c not in _VALUE for c in code):
        return False
    return _luhn_sum([_VALUE[c] for c in code], double_first=False) % 32 == 0


def printed(code: str) -> str:
    """`XXXX-XXXX-XXXX-XXXX-C`, the form on paper and on screen."""
    return "-".join([code[0:4], code[4:8], code[8:12], code[12:16], code[16:]])
