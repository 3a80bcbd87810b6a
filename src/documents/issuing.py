"""Issuing documents: the one way a document comes to exist (staff pages, CSV imports, demo data
and tests call it). What a document says is frozen at issue as a content snapshot with its SHA-256,
so what a viewer, the verify page and a printed duplicate show can always be checked against it.
The learner's enrolment number (and ULN) are part of it: the number on a document is the one the
learner had when it was issued, even if their account's number is corrected later."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Any

from src.documents.verify_codes import new_verify_code
from src.tables.accounts import Account
from src.tables.documents import Document

TEMPLATE_VERSION = 2  # 2: the snapshot holds the learner's enrolment number and ULN
UNIT_FIELDS = ("code", "title", "level", "credits", "grade")


def snapshot(fields: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The frozen content of a document and the SHA-256 of its canonical JSON (sorted keys, no spaces)."""
    content = {
        "certificate_number": fields["certificate_number"],
        "kind": fields.get("kind") or "certificate",
        "title": fields["title"],
        "qualification_code": fields.get("qualification_code") or "",
        "level": fields.get("level") or "",
        "name_as_printed": fields.get("name_as_printed") or "",
        "enrolment_number": fields.get("enrolment_number") or "",
        "uln": fields.get("uln") or "",
        "awarded_on": fields["awarded_on"].isoformat(),
        "valid_until": fields["valid_until"].isoformat() if fields.get("valid_until") else None,
        "grade": fields.get("grade") or "",
        "units": [
            {key: str(unit.get(key) or "") for key in UNIT_FIELDS} for unit in fields.get("units") or []
        ],
        "template_version": TEMPLATE_VERSION,
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return content, hashlib.sha256(canonical.encode()).hexdigest()


async def issue(
    owner: Account,
    title: str,
    certificate_number: str,
    awarded_on: date,
    *,
    units: list[dict[str, Any]] | None = None,
    issued_by: Account | None = None,
    **extra: Any,
) -> Document:
    """Issue one document to a learner, with a fresh verify code (inside the caller's transaction, if any).
    The name as printed, enrolment number and ULN default to the owner's."""
    if not extra.get("name_as_printed"):
        extra["name_as_printed"] = " ".join(
            part for part in (owner.first_name, owner.middle_name, owner.last_name) if part
        )
    # Snapshot only: the account, not the Document row, holds the learner's references.
    references = {
        "enrolment_number": extra.pop("enrolment_number", None) or owner.enrolment_number or "",
        "uln": extra.pop("uln", None) or owner.uln or "",
    }
    content, digest = snapshot(
        {
            "title": title,
            "certificate_number": certificate_number,
            "awarded_on": awarded_on,
            "units": units,
            **references,
            **extra,
        }
    )
    document = Document(
        owner=owner.id,
        title=title,
        certificate_number=certificate_number,
        verify_code=new_verify_code(),
        awarded_on=awarded_on,
        content=content,
        content_sha256=digest,
        template_version=TEMPLATE_VERSION,
        issued_by=issued_by.id if issued_by else None,
        **extra,
    )
    await document.save()
    return document
