"""What staff do to documents: issue one, revoke, supersede. Each is one write transaction holding
the change, an AccessEvent naming who did it, and the learner's email in the outbox. Revoke and
supersede are compare-and-sets on (id, status, version): of two racing actions one wins and the
other gets `Conflict`, with nothing written and no email."""

from __future__ import annotations

from datetime import date
from typing import Any

from src import accounts, audit
from src.audit import AuditAction
from src.clock import utcnow
from src.db import compare_and_set, unique_violation, write_transaction
from src.documents.issuing import issue
from src.documents.rows import CheckedRow, check_row, clean_text, issue_fields
from src.errors import Conflict
from src.mail import enqueue
from src.tables.accounts import Account, Role
from src.tables.documents import Document, DocumentStatus, RevocationReason
from src.tokens import Tokens

REASONS = {
    RevocationReason.issued_in_error.value: "Issued in error",
    RevocationReason.wrong_learner.value: "Wrong learner",
    RevocationReason.wrong_qualification.value: "Wrong qualification or unit",
    RevocationReason.claimed_before_completion.value: "Claimed before completion",
    RevocationReason.malpractice.value: "Malpractice",
    RevocationReason.other.value: "Other",
}
MAX_WORDING = 500
MAX_NOTE = 2000


async def _learner_for(tokens: Tokens, row: CheckedRow) -> Account | None:
    """The row's learner: their account, or a new one made by staff (with its activation email).
    None (and an error on the row) when the email belongs to someone who is not a learner."""
    values = row.values
    learner = await accounts.account_with_email(values["learner_email"])
    if learner is None:
        learner = await accounts.create_learner(
            tokens, values["first_name"], values["last_name"], values["learner_email"]
        )
    elif learner.role != Role.learner.value or learner.deleted_at is not None:
        row.errors["learner_email"] = "This email belongs to an account that is not a learner's"
        return None
    changes: dict[Any, str] = {}
    for column, key in ((Account.enrolment_number, "enrolment_number"), (Account.uln, "uln")):
        if values[key] and values[key] != getattr(learner, key):
            changes[column] = values[key]
    if changes:  # staff set these; the form is how a wrong one is corrected
        await Account.update(changes).where(Account.id == learner.id)
    return learner


async def _issue_checked(
    tokens: Tokens, staff: Account, row: CheckedRow, units: list[dict[str, str]]
) -> Document | None:
    learner = await _learner_for(tokens, row)
    if learner is None:
        return None
    fields = issue_fields(row.values, units)
    document = await issue(
        learner,
        fields.pop("title"),
        fields.pop("certificate_number"),
        fields.pop("awarded_on"),
        units=fields.pop("units"),
        issued_by=staff,
        **fields,
    )
    await audit.record(AuditAction.issued_document, staff, document=document.id)
    await enqueue(
        learner.email,
        "documents_issued",
        {"titles": [document.title]},
        f"document-issued:{document.id}",
    )
    return document


async def issue_one(
    tokens: Tokens, staff: Account, raw: dict[str, str], units: list[dict[str, str]], *, today: date
) -> tuple[CheckedRow, Document | None]:
    """Issue a document from the staff form (checked by the same rules as a CSV row)."""
    row = check_row(raw, today=today)
    if not row.ok:
        return row, None
    try:
        async with write_transaction():
            if await Document.exists().where(Document.certificate_number == row.values["certificate_number"]):
                row.errors["certificate_number"] = (
                    "A document with this certificate number exists: supersede it instead"
                )
                return row, None
            document = await _issue_checked(tokens, staff, row, units)
            if document is None:
                return row, None
    except Exception as exc:  # a racing request took the number first: the unique index decides
        if unique_violation(exc) != "certificate_number":
            raise
        row.errors["certificate_number"] = (
            "A document with this certificate number exists: supersede it instead"
        )
        return row, None
    return row, document


async def revoke(
    staff: Account, document_id: int, version: int, category: str, wording: str, note: str
) -> Document:
    """Revoke a valid document for good. Raises Conflict when it changed meanwhile."""
    wording, note = clean_text(wording), clean_text(note)
    async with write_transaction():
        document = await Document.objects().where(Document.id == document_id).first()
        if document is None or not await compare_and_set(
            Document,
            document_id,
            {Document.status: DocumentStatus.valid.value, Document.version: version},
            {
                Document.status: DocumentStatus.revoked.value,
                Document.revoked_category: category,
                Document.revoked_reason: wording,
                Document.revoked_note: note,
                Document.revoked_at: utcnow(),
                Document.version: version + 1,
            },
        ):
            raise Conflict()
        await audit.record(
            AuditAction.revoked_document, staff, document=document_id, detail=REASONS[category]
        )
        owner = await Account.by_id(document.owner)
        if owner is not None:
            await enqueue(
                owner.email,
                "document_revoked",
                {"first_name": owner.first_name, "title": document.title, "reason": wording},
                f"document:{document_id}:revoked",
            )
    return document


async def supersede(
    tokens: Tokens,
    staff: Account,
    old_id: int,
    version: int,
    raw: dict[str, str],
    units: list[dict[str, str]],
    *,
    today: date,
) -> tuple[CheckedRow, Document | None]:
    """Issue the replacement of a valid document and mark the old one superseded by it, together.
    Raises Conflict when the old one changed meanwhile (then nothing is written)."""
    row = check_row(raw, today=today)
    if not row.ok:
        return row, None
    try:
        async with write_transaction():
            old = await Document.objects().where(Document.id == old_id).first()
            if old is None or old.status != DocumentStatus.valid.value or old.version != version:
                raise Conflict()
            if await Document.exists().where(Document.certificate_number == row.values["certificate_number"]):
                row.errors["certificate_number"] = "Give the new document a certificate number of its own"
                return row, None
            new = await _issue_checked(tokens, staff, row, units)
            if new is None:
                return row, None
            if not await compare_and_set(
                Document,
                old_id,
                {Document.status: DocumentStatus.valid.value, Document.version: version},
                {
                    Document.status: DocumentStatus.superseded.value,
                    Document.superseded_by: new.id,
                    Document.superseded_at: utcnow(),
                    Document.version: version + 1,
                },
            ):
                raise Conflict()  # leaving the block rolls the new document back too
            await audit.record(
                AuditAction.superseded_document, staff, document=old_id, detail=new.certificate_number
            )
            owner = await Account.by_id(old.owner)
            if owner is not None:
                await enqueue(
                    owner.email,
                    "document_superseded",
                    {"first_name": owner.first_name, "title": old.title, "new_title": new.title},
                    f"document:{old_id}:superseded",
                )
    except Conflict:
        raise
    except Exception as exc:
        if unique_violation(exc) != "certificate_number":
            raise
        row.errors["certificate_number"] = "Give the new document a certificate number of its own"
        return row, None
    return row, new
