"""The one rule for a document's own standing: valid, valid until a date, expired, revoked,
superseded. Pages, emails and the verify page all ask this; none works it out again.

A document's standing is about the document. Whether a third party may still see it is a
different question (the connection's end date), and is always worded apart from this.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from src.clock import long_date
from src.tables.documents import DocumentStatus


@dataclass(frozen=True)
class Standing:
    code: str  # valid | valid_until | expired | revoked | superseded
    words: str
    # The date the standing turns on: valid until / expired on (valid_until), revoked on,
    # replaced on (in the portal's time zone when standing() was given one). None for plain valid.
    on: date | None = None

    @property
    def is_current(self) -> bool:
        return self.code in ("valid", "valid_until")


def _day(value: Any, tz: ZoneInfo | None) -> date | None:
    if isinstance(value, datetime):
        return (value.astimezone(tz) if tz else value).date()
    return value if isinstance(value, date) else None


def standing(document: Mapping[str, Any] | Any, today: date, tz: ZoneInfo | None = None) -> Standing:
    get = document.get if isinstance(document, Mapping) else lambda key: getattr(document, key, None)
    status, valid_until = get("status"), get("valid_until")
    if status == DocumentStatus.revoked.value:
        return Standing("revoked", "Revoked", _day(get("revoked_at"), tz))
    if status == DocumentStatus.superseded.value:
        return Standing("superseded", "Replaced by a newer document", _day(get("superseded_at"), tz))
    if valid_until and valid_until < today:
        return Standing("expired", f"Document expired on {long_date(valid_until)}", valid_until)
    if valid_until:
        return Standing("valid_until", f"Document valid until {long_date(valid_until)}", valid_until)
    return Standing("valid", "Valid")


def verify_headline(
    document: Mapping[str, Any], today: date, tz: ZoneInfo, awarding_body: str
) -> tuple[Standing, str]:
    """The standing and the headline the verify page (and its API) leads with, always in words."""
    found = standing(document, today, tz)
    awarded = long_date(document["awarded_on"])
    on = long_date(found.on)
    if found.code == "revoked":
        wording = (document.get("revoked_reason") or "").strip() or "withdrawn by the awarding body"
        return found, f"Revoked on {on}: {wording}" if on else f"Revoked: {wording}"
    if found.code == "superseded":
        return found, f"Replaced on {on} by a newer document" if on else "Replaced by a newer document"
    if found.code == "expired":
        return found, f"Expired on {on}: valid from {awarded} to {on}"
    if found.code == "valid_until":
        return found, f"Valid until {on}"
    return found, f"Valid: issued by {awarding_body} on {awarded}"
