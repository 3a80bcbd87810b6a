"""Issuing documents: the one way a document comes to exist. `document_row` makes a new document's
table row, `issue_many` writes rows (a CSV import thousands in one prepared statement), and `issue`
does both for one document (staff pages, demo data and tests call it). What a document says is frozen at issue as a content snapshot with its SHA-256,
so what a viewer, the verify page and a printed duplicate show can always be checked against it.
The learner's enrolment number (and ULN) are part of it: the number on a document is the one the
learner had when it was issued, even if their account's number is corrected later."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from typing import Any

from src.clock import utcnow
from src.db import insert_many, write_transaction
from src.documents.verify_codes import new_verify_code
from src.tables.accounts import Account
from src.tables.documents import Document

TEMPLATE_VERSION = 2  # 2: the snapshot holds the learner's enrolment number and ULN
UNIT_FIELDS = ("code", "title", "level", "credits", "grade")
# What the snapshot holds; every other field given to `document_row` sets a column of the row.
SNAPSHOT_FIELDS = frozenset(
    {
        "title",
        "certificate_number",
        "kind",
        "qualification_code",
        "level",
        "name_as_printed",
        "enrolment_number",
        "uln",
        "awarded_on",
        "valid_until",
        "grade",
        "units",
    }
)


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


def document_row(
    fields: dict[str, Any],
    *,
    owner: int | None,
    issued_by: int | None,
    now: datetime,
    import_batch: int | None = None,
) -> dict[str, Any]:
    """A new document as a table row, with a fresh verify code and its content snapshot. `fields`
    are what the document says (SNAPSHOT_FIELDS) and, rarely (demo data, tests), other columns'
    values such as a status. The owner may be set later (an import knows it only inside its write)."""
    content, digest = snapshot(fields)
    row: dict[str, Any] = {
        "owner": owner,
        "kind": content["kind"],
        "title": content["title"],
        "qualification_code": content["qualification_code"],
        "level": content["level"],
        "name_as_printed": content["name_as_printed"],
        "grade": content["grade"],
        "awarded_on": fields["awarded_on"],
        "valid_until": fields.get("valid_until"),
        "certificate_number": content["certificate_number"],
        "verify_code": new_verify_code(),
        "status": "valid",
        "revoked_category": "",
        "revoked_reason": "",
        "revoked_note": "",
        "revoked_at": None,
        "superseded_by": None,
        "superseded_at": None,
        "show_on_verify": False,
        "content": json.dumps(content, ensure_ascii=False),  # insert_many takes JSON as text
        "content_sha256": digest,
        "template_version": TEMPLATE_VERSION,
        "issued_by": issued_by,
        "import_batch": import_batch,
        "version": 0,
        "created_at": now,
    }
    for name, value in fields.items():
        if name not in SNAPSHOT_FIELDS:
            if name not in row:
                raise TypeError(f"{name!r} is not a column of a document")
            row[name] = value
    return row


async def issue_many(rows: list[dict[str, Any]]) -> None:
    """Write new documents' rows (from `document_row`, owners set) in one prepared statement, inside
    the caller's write transaction or one of its own."""
    async with write_transaction():
        await insert_many(Document, rows)


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
    The name as printed, enrolment number and ULN default to the owner's (the account, not the
    document row, holds the learner's references: the snapshot keeps the ones it had at issue)."""
    if not extra.get("name_as_printed"):
        extra["name_as_printed"] = " ".join(
            part for part in (owner.first_name, owner.middle_name, owner.last_name) if part
        )
    extra["enrolment_number"] = extra.get("enrolment_number") or owner.enrolment_number or ""
    extra["uln"] = extra.get("uln") or owner.uln or ""
    row = document_row(
        {
            "title": title,
            "certificate_number": certificate_number,
            "awarded_on": awarded_on,
            "units": units,
            **extra,
        },
        owner=owner.id,
        issued_by=issued_by.id if issued_by else None,
        now=utcnow(),
    )
    async with write_transaction():
        await issue_many([row])
        document = (
            await Document.objects()
            .where(Document.verify_code == row["verify_code"])
            .output(load_json=True)
            .first()
        )
    if document is None:  # the row was written just now, in this transaction
        raise LookupError(row["verify_code"])
    return document
