"""A printed duplicate of a document: a one-page PDF made on demand from the frozen snapshot, never
stored. It says plainly that it is a duplicate (of which certificate, awarded when, printed when) and
carries the Smart Verify QR code and the typed code, so whoever holds the paper can check the live
status: the paper itself proves nothing. The sheet's layout is src/printing/sheet.py.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import anyio
import anyio.to_thread

from src import audit
from src.audit import AuditAction
from src.clock import utcnow
from src.documents import content_of
from src.errors import Refused
from src.printing.sheet import Sheet, draw
from src.tables.documents import Document, DocumentStatus


@dataclass(frozen=True)
class Duplicate:
    pdf: bytes
    filename: str


def filename_for(certificate_number: str) -> str:
    """`duplicate-<certificate number>.pdf`, with anything but letters, digits, dot and dash as a dash."""
    safe = re.sub(r"[^A-Za-z0-9.-]+", "-", certificate_number).strip("-.") or "document"
    return f"duplicate-{safe[:60]}.pdf"


def duplicate_pdf(
    content: dict[str, Any],
    *,
    verify_code: str,
    printed_on: date,
    verify_base: str,
    org_name: str,
) -> bytes:
    """The duplicate's PDF bytes: the body's name, the DUPLICATE line, the document's facts and units,
    and at the foot the QR code, the typed code and where to check the live status."""
    return draw(
        Sheet(
            org_name=org_name,
            content=content,
            verify_code=verify_code,
            verify_base=verify_base,
            printed_on=printed_on,
        )
    )


# One PDF made at a time per process (it is CPU work in a thread). A process serves on one loop.
_one_at_a_time = anyio.Lock()


async def print_duplicate(
    staff: Any,
    document_id: int,
    *,
    verify_base: str,
    org_name: str,
    tz: ZoneInfo,
    detail: str = "",
) -> Duplicate | None:
    """A duplicate of a valid document, made now and logged as an AccessEvent; None when there is no
    such document. Revoked and superseded documents are refused (Refused): a duplicate must
    never outlive its original."""
    document = await Document.objects().where(Document.id == document_id).first()
    if document is None:
        return None
    if document.status == DocumentStatus.revoked.value:
        raise Refused("This document has been revoked, so no duplicate of it can be printed.")
    if document.status == DocumentStatus.superseded.value:
        raise Refused(
            "This document has been replaced by a newer one, so no duplicate of it can be printed. "
            "Print the newer document instead."
        )
    now = utcnow()
    # Half a second of CPU (font subsetting): in a worker thread, so the server keeps answering
    # everyone else meanwhile, and one at a time, so a queue of prints cannot take every core.
    async with _one_at_a_time:
        pdf = await anyio.to_thread.run_sync(
            functools.partial(
                duplicate_pdf,
                content_of(document),
                verify_code=document.verify_code,
                printed_on=now.astimezone(tz).date(),
                verify_base=verify_base,
                org_name=org_name,
            )
        )
    await audit.record(AuditAction.printed_duplicate, staff, document=document.id, detail=detail)
    return Duplicate(pdf=pdf, filename=filename_for(document.certificate_number))
