"""What staff read about documents: a searchable, paged list, one document with its learner, and its
history (who issued, imported, revoked or superseded it, and when)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from src import audit
from src.audit import AuditAction
from src.documents.rows import clean
from src.tables.accounts import Account
from src.tables.connections import AccessEvent
from src.tables.documents import Document, DocumentStatus, ImportBatch

PAGE_SIZE = 50
STATUSES = tuple(status.value for status in DocumentStatus)


@dataclass
class DocumentPage:
    rows: list[dict[str, Any]]
    page: int
    has_next: bool


async def search(text: str = "", status: str = "", page: int = 1) -> DocumentPage:
    """Documents, newest first, matching a learner's name or email, an enrolment number or a
    certificate number (any part, any case), and a status."""
    query = Document.select(
        Document.id,
        Document.title,
        Document.certificate_number,
        Document.status,
        Document.valid_until,
        Document.awarded_on,
        Document.owner.first_name.as_alias("first_name"),
        Document.owner.last_name.as_alias("last_name"),
        Document.owner.email.as_alias("email"),
        Document.owner.enrolment_number.as_alias("enrolment_number"),
    )
    words = clean(text)[:100]
    if words:
        # Staff type plain text: % and backslashes would be LIKE syntax, so they are dropped (an _
        # still matches itself, among other characters).
        pattern = "%" + words.replace("%", "").replace("\\", "") + "%"
        where = (
            Document.certificate_number.ilike(pattern)
            | Document.owner.email.ilike(pattern)
            | Document.owner.enrolment_number.ilike(pattern)
            | Document.owner.first_name.ilike(pattern)
            | Document.owner.last_name.ilike(pattern)
            | Document.name_as_printed.ilike(pattern)
        )
        query = query.where(where)
    if status in STATUSES:
        query = query.where(Document.status == status)
    page = max(1, min(page, 10_000))
    rows = (
        await query.order_by(Document.id, ascending=False).limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)
    )
    return DocumentPage(rows[:PAGE_SIZE], page, len(rows) > PAGE_SIZE)


async def record_staff_view(staff: Account, document_id: int) -> None:
    """Staff opened a document's page: a view its learner sees ("Staff of <ORG_NAME>")."""
    await audit.record(AuditAction.viewed_document, staff, document=document_id)


async def for_staff(document_id: int) -> tuple[Document, Account] | None:
    document = await Document.objects().where(Document.id == document_id).first()
    if document is None:
        return None
    owner = await Account.by_id(document.owner, live=False)
    if owner is None:
        return None
    return document, owner


async def history(document: Document) -> list[dict[str, Any]]:
    """Staff actions on the document, oldest first: issue (by form or import), revoke, supersede,
    duplicates printed, and the document it replaced."""
    events: list[dict[str, Any]] = []
    issuer = await Account.by_id(document.issued_by, live=False)
    who = f"{issuer.first_name} {issuer.last_name}" if issuer else "the system"
    if document.import_batch:
        batch = (
            await ImportBatch.select(ImportBatch.filename)
            .where(ImportBatch.id == document.import_batch)
            .first()
        )
        what = f"Issued by import {document.import_batch}" + (
            f" ({batch['filename']})" if batch and batch["filename"] else ""
        )
    else:
        what = "Issued"
    events.append({"at": document.created_at, "what": what, "who": who})
    replaced = await Document.select(Document.id, Document.certificate_number).where(
        Document.superseded_by == document.id
    )
    for old in replaced:
        events.append(
            {
                "at": document.created_at,
                "what": f"Replaces certificate {old['certificate_number']}",
                "who": who,
                "link": old["id"],
            }
        )
    rows = (
        await AccessEvent.select(
            AccessEvent.at,
            AccessEvent.action,
            AccessEvent.detail,
            AccessEvent.account.first_name.as_alias("first_name"),
            AccessEvent.account.last_name.as_alias("last_name"),
        )
        .where(
            (AccessEvent.document == document.id)
            & AccessEvent.action.is_in(
                [
                    AuditAction.revoked_document.value,
                    AuditAction.superseded_document.value,
                    AuditAction.printed_duplicate.value,
                ]
            )
        )
        .order_by(AccessEvent.id)
    )
    for row in rows:
        if row["action"] == AuditAction.revoked_document:
            what = f"Revoked ({row['detail']})"
        elif row["action"] == AuditAction.printed_duplicate:
            what = "Duplicate printed" + (f" ({row['detail']})" if row["detail"] else "")
        else:
            what = f"Superseded by certificate {row['detail']}"
        events.append({"at": row["at"], "what": what, "who": f"{row['first_name']} {row['last_name']}"})
    return events
