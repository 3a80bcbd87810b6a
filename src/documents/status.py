"""The one rule for a document's own standing: valid, valid until a date, expired, revoked,
superseded. Pages, emails and (later) the verify page all ask this; none works it out again.

A document's standing is about the document. Whether a third party may still see it is a
different question (the connection's end date), and is always worded apart from this.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from src.tables.documents import DocumentStatus


@dataclass(frozen=True)
class Standing:
    code: str  # valid | valid_until | expired | revoked | superseded
    words: str

    @property
    def is_current(self) -> bool:
        return self.code in ("valid", "valid_until")


def _long(value: date) -> str:
    return value.strftime("%-d %B %Y")


def standing(document: Mapping[str, Any] | Any, today: date) -> Standing:
    get = document.get if isinstance(document, Mapping) else lambda key: getattr(document, key, None)
    status, valid_until = get("status"), get("valid_until")
    if status == DocumentStatus.revoked.value:
        return Standing("revoked", "Revoked")
    if status == DocumentStatus.superseded.value:
        return Standing("superseded", "Replaced by a newer document")
    if valid_until and valid_until < today:
        return Standing("expired", f"Document expired on {_long(valid_until)}")
    if valid_until:
        return Standing("valid_until", f"Document valid until {_long(valid_until)}")
    return Standing("valid", "Valid")
