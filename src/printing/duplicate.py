"""A printed duplicate of a document: a one-page PDF made on demand from the frozen snapshot, never
stored. It says plainly that it is a duplicate (of which certificate, issued when, printed when) and
carries the Smart Verify QR code and the typed code, so whoever holds the paper can check the live
status: the paper itself proves nothing.

fpdf2 embeds a subset of DejaVu Sans (this area's package data, src/printing/fonts, with its licence),
so every name the portal can hold prints as written (Łukasiewicz, Nguyễn), and the text can be read
back out of the PDF.
"""

from __future__ import annotations

import functools
import io
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import anyio
import anyio.to_thread
from fpdf import FPDF

from src import audit, qr
from src.audit import AuditAction
from src.clock import long_date, utcnow
from src.documents import content_of, printed, verify_host, verify_url
from src.errors import Refused
from src.tables.documents import Document, DocumentStatus

FONTS = Path(__file__).resolve().parent / "fonts"
FONT = "DejaVu"
QR_SIDE_MM = 45


@dataclass(frozen=True)
class Duplicate:
    pdf: bytes
    filename: str


def _long(value: date | str | None) -> str:
    if isinstance(value, str):
        value = date.fromisoformat(value)
    return long_date(value)


def filename_for(certificate_number: str) -> str:
    """`duplicate-<certificate number>.pdf`, with anything but letters, digits, dot and dash as a dash."""
    safe = re.sub(r"[^A-Za-z0-9.-]+", "-", certificate_number).strip("-.") or "document"
    return f"duplicate-{safe[:60]}.pdf"


def _facts(content: dict[str, Any]) -> list[tuple[str, str]]:
    facts = [
        ("Awarded to", content.get("name_as_printed") or ""),
        ("Type", str(content.get("kind") or "certificate").capitalize()),
        ("Qualification code", content.get("qualification_code") or ""),
        ("Level", content.get("level") or ""),
        ("Grade", content.get("grade") or ""),
        ("Awarded on", _long(content.get("awarded_on"))),
        ("Document valid until", _long(content.get("valid_until"))),
        ("Certificate number", content.get("certificate_number") or ""),
    ]
    return [(label, value) for label, value in facts if value]


def duplicate_pdf(
    content: dict[str, Any],
    *,
    verify_code: str,
    issued_on: date,
    printed_on: date,
    verify_base: str,
    org_name: str,
) -> bytes:
    """The duplicate's PDF bytes: the document's facts, the DUPLICATE line, the QR code, the typed
    code and where to check the live status."""
    url = verify_url(verify_base, verify_code)
    number = content.get("certificate_number") or ""
    pdf = FPDF(format="A4")
    pdf.set_title(f"Duplicate of certificate {number}")
    pdf.set_author(org_name)
    pdf.set_creator(org_name)
    pdf.add_font(FONT, "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    width = pdf.epw

    pdf.set_font(FONT, "", 11)
    pdf.cell(width, 6, org_name, new_x="LMARGIN", new_y="NEXT", align="C")
    pdf.ln(4)
    pdf.set_font(FONT, "B", 18)
    pdf.multi_cell(width, 9, content.get("title") or "", new_x="LMARGIN", new_y="NEXT", align="C")
    pdf.ln(4)
    pdf.set_font(FONT, "B", 11)
    pdf.multi_cell(
        width,
        6,
        f"DUPLICATE: replaces certificate {number} issued {_long(issued_on)}; printed {_long(printed_on)}",
        border=1,
        padding=2,
        new_x="LMARGIN",
        new_y="NEXT",
        align="C",
    )
    pdf.ln(5)

    for label, value in _facts(content):
        pdf.set_font(FONT, "B", 11)
        pdf.cell(55, 7, label)
        pdf.set_font(FONT, "", 11)
        pdf.multi_cell(width - 55, 7, value, new_x="LMARGIN", new_y="NEXT", align="L")
    units = content.get("units") or []
    if units:
        pdf.ln(3)
        pdf.set_font(FONT, "B", 12)
        pdf.cell(width, 7, "Units", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FONT, "", 9)
        with pdf.table(col_widths=(60, 14, 14, 22), text_align="LEFT") as table:
            table.row(["Unit", "Level", "Credits", "Grade"])
            for unit in units:
                title = unit.get("title", "") + (f" ({unit['code']})" if unit.get("code") else "")
                table.row([title, unit.get("level", ""), unit.get("credits", ""), unit.get("grade", "")])

    pdf.ln(6)
    if pdf.will_page_break(QR_SIDE_MM + 25):
        pdf.add_page()
    top = pdf.get_y()
    pdf.image(io.BytesIO(qr.png(url)), x=pdf.l_margin, y=top, w=QR_SIDE_MM, h=QR_SIDE_MM)
    left = pdf.l_margin + QR_SIDE_MM + 6
    pdf.set_xy(left, top + 2)
    text_width = width - QR_SIDE_MM - 6
    pdf.set_font(FONT, "", 10)
    pdf.multi_cell(text_width, 5, "Verify code", new_x="LEFT", new_y="NEXT")
    pdf.set_font(FONT, "B", 14)
    pdf.multi_cell(text_width, 8, printed(verify_code), new_x="LEFT", new_y="NEXT")
    pdf.set_font(FONT, "", 10)
    pdf.multi_cell(
        text_width,
        5,
        f"Scan the code or check the live status at {verify_host(verify_base)}: {url}",
        new_x="LEFT",
        new_y="NEXT",
        align="L",
    )
    pdf.ln(1)
    pdf.multi_cell(
        text_width,
        5,
        "This paper is a copy. Only the live status on the verify page says whether the document is valid.",
        new_x="LEFT",
        new_y="NEXT",
        align="L",
    )
    return bytes(pdf.output())


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
                issued_on=document.created_at.astimezone(tz).date(),
                printed_on=now.astimezone(tz).date(),
                verify_base=verify_base,
                org_name=org_name,
            )
        )
    await audit.record(AuditAction.printed_duplicate, staff, document=document.id, detail=detail)
    return Duplicate(pdf=pdf, filename=filename_for(document.certificate_number))
