"""The duplicate's sheet: an A4 certificate as an awarding body sends one, drawn with fpdf2.

From the top: the body's name, the DUPLICATE line (which certificate, awarded when, this copy
printed when), the kind and title, the name as printed, the grade, the other facts and the units.
The verify block (QR code, printed code, verify address, what the paper does not prove) is pinned
to the foot of the last page, in a band the text above never enters: the page breaks before it.
A double frame runs round every page.

fpdf2 embeds a subset of DejaVu Sans (this area's package data, src/printing/fonts, with its licence),
so every name the portal can hold prints as written (Łukasiewicz, Nguyễn), and the text can be read
back out of the PDF.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, cast

from fpdf import FPDF
from fpdf.fonts import FontFace

from src import qr
from src.clock import long_date
from src.documents import printed, verify_host, verify_url

FONTS = Path(__file__).resolve().parent / "fonts"
FONT = "DejaVu"
# Millimetres on A4 (210 by 297).
MARGIN = 22  # inside the frame, with room to breathe
FRAME = (8, 10.5)  # the outer (heavy) and inner (fine) rules' distance from the paper's edge
QR_SIDE = 42
GAP = 6
INK = (11, 12, 12)
MUTED = (80, 90, 95)
ACCENT = (29, 112, 184)

# A paragraph of the verify block: font style, size (pt), line height (mm), colour, text.
Paragraph = tuple[str, float, float, tuple[int, int, int], str]


@dataclass(frozen=True)
class Sheet:
    """What the duplicate says, in the words it prints."""

    org_name: str
    content: dict[str, Any]
    verify_code: str
    verify_base: str
    printed_on: date


def _long(value: date | str | None) -> str:
    if isinstance(value, str):
        value = date.fromisoformat(value)
    return long_date(value)


def duplicate_line(content: dict[str, Any], printed_on: date) -> str:
    """Says which date is which: the award's date is the certificate's, the print date is this paper's."""
    number = content.get("certificate_number") or ""
    awarded = _long(content.get("awarded_on"))
    return (
        f"DUPLICATE of certificate {number}, awarded on {awarded}.\n"
        f"This copy was printed on {_long(printed_on)}."
    )


def _facts(content: dict[str, Any]) -> list[tuple[str, str]]:
    facts = [
        ("Qualification code", content.get("qualification_code") or ""),
        ("Level", content.get("level") or ""),
        ("Enrolment number", content.get("enrolment_number") or ""),
        ("Unique Learner Number", content.get("uln") or ""),
        ("Awarded on", _long(content.get("awarded_on"))),
        ("Document valid until", _long(content.get("valid_until"))),
        ("Certificate number", content.get("certificate_number") or ""),
    ]
    return [(label, value) for label, value in facts if value]


class _Framed(FPDF):
    running_head = ""  # says, from the second page on, whose sheet this page belongs to
    finished = False  # the last page: the verify block fills its foot

    def header(self) -> None:
        """The double frame, drawn as each page begins (fpdf2 calls this from add_page)."""
        self.set_draw_color(*ACCENT)
        for inset, width in zip(FRAME, (0.9, 0.3), strict=True):
            self.set_line_width(width)
            self.rect(inset, inset, self.w - 2 * inset, self.h - 2 * inset)
        self.set_line_width(0.2)
        if self.page > 1:
            self.set_xy(self.l_margin, FRAME[1] + 4)
            self.set_text_color(*MUTED)
            self.set_font(FONT, "", 8.5)
            self.cell(self.epw, 5, f"{self.running_head}, page {self.page}", align="C")
            self.set_xy(self.l_margin, self.t_margin)

    def footer(self) -> None:
        """On a page that breaks to the next, in the band the verify block fills on the last page."""
        if self.finished:
            return
        self.set_xy(self.l_margin, self.h - MARGIN - 5)
        self.set_text_color(*MUTED)
        self.set_font(FONT, "", 8.5)
        self.cell(
            self.epw, 5, f"Continued on page {self.page + 1}: the verify code is on the last page.", align="C"
        )


def _verify_lines(sheet: Sheet) -> list[Paragraph]:
    """The verify block's text column, top to bottom."""
    url = verify_url(sheet.verify_base, sheet.verify_code)
    return [
        ("B", 12, 6, INK, "Check the live status"),
        ("", 9, 5, MUTED, "Verify code"),
        ("B", 14, 8, INK, printed(sheet.verify_code)),
        (
            "",
            9.5,
            4.8,
            INK,
            f"Scan the code or check the live status at {verify_host(sheet.verify_base)}: {url}",
        ),
        (
            "",
            9.5,
            4.8,
            MUTED,
            "This paper is a copy. Only the live status on the verify page says whether the document is valid.",
        ),
    ]


def _column_height(pdf: FPDF, width: float, lines: list[Paragraph]) -> float:
    height = 0.0
    for style, size, line_height, _, text in lines:
        pdf.set_font(FONT, style, size)
        wrapped = cast(list[str], pdf.multi_cell(width, line_height, text, dry_run=True, output="LINES"))
        height += len(wrapped) * line_height
    return height + len(lines) - 1  # a millimetre between paragraphs


def _heading(pdf: FPDF, sheet: Sheet) -> None:
    width = pdf.epw
    pdf.set_text_color(*ACCENT)
    pdf.set_font(FONT, "B", 15)
    pdf.multi_cell(width, 8, sheet.org_name, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_text_color(*INK)
    pdf.set_font(FONT, "B", 9.5)
    pdf.multi_cell(
        width,
        5,
        duplicate_line(sheet.content, sheet.printed_on),
        border=1,
        padding=2,
        align="C",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(10)


def _award(pdf: FPDF, content: dict[str, Any]) -> None:
    width = pdf.epw
    pdf.set_text_color(*MUTED)
    pdf.set_font(FONT, "", 11)
    pdf.set_char_spacing(1.5)
    kind = str(content.get("kind") or "certificate").upper()
    pdf.multi_cell(width, 6, kind, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_char_spacing(0)
    pdf.ln(2)
    pdf.set_text_color(*INK)
    pdf.set_font(FONT, "B", 22)
    pdf.multi_cell(width, 10, content.get("title") or "", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_text_color(*MUTED)
    pdf.set_font(FONT, "", 11)
    pdf.multi_cell(width, 6, "awarded to", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)
    pdf.set_text_color(*INK)
    pdf.set_font(FONT, "B", 20)
    pdf.multi_cell(width, 10, content.get("name_as_printed") or "", align="C", new_x="LMARGIN", new_y="NEXT")
    if content.get("grade"):
        pdf.ln(2)
        pdf.set_font(FONT, "", 13)
        pdf.multi_cell(width, 7, f"Grade: {content['grade']}", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)


def _details(pdf: FPDF, content: dict[str, Any]) -> None:
    # Two columns meeting in the middle of the page: labels right-aligned, values left-aligned.
    label_width, value_width = 62.0, 78.0
    left = pdf.l_margin + (pdf.epw - label_width - value_width - 4) / 2
    for label, value in _facts(content):
        pdf.set_x(left)
        pdf.set_text_color(*MUTED)
        pdf.set_font(FONT, "", 10.5)
        pdf.cell(label_width, 6.5, label, align="R")
        pdf.set_x(left + label_width + 4)
        pdf.set_text_color(*INK)
        pdf.set_font(FONT, "B", 10.5)
        pdf.multi_cell(value_width, 6.5, value, align="L", new_x="LMARGIN", new_y="NEXT")
    units = content.get("units") or []
    if not units:
        return
    pdf.ln(6)
    pdf.set_font(FONT, "B", 11)
    pdf.cell(pdf.epw, 7, "Units", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 9)
    pdf.set_draw_color(*MUTED)
    with pdf.table(
        col_widths=(92, 18, 18, 38),
        text_align="LEFT",
        headings_style=FontFace(emphasis="BOLD"),
        line_height=5.5,
    ) as table:
        table.row(["Unit", "Level", "Credits", "Grade"])
        for unit in units:
            title = unit.get("title", "") + (f" ({unit['code']})" if unit.get("code") else "")
            table.row([title, unit.get("level", ""), unit.get("credits", ""), unit.get("grade", "")])


def _verify_block(pdf: FPDF, sheet: Sheet, lines: list[Paragraph], height: float) -> None:
    top = pdf.h - MARGIN - height
    pdf.set_draw_color(*ACCENT)
    pdf.line(pdf.l_margin, top - GAP, pdf.w - pdf.r_margin, top - GAP)
    url = verify_url(sheet.verify_base, sheet.verify_code)
    pdf.image(io.BytesIO(qr.png(url)), x=pdf.l_margin, y=top, w=QR_SIDE, h=QR_SIDE)
    left = pdf.l_margin + QR_SIDE + GAP
    # Every paragraph starts at the column's left edge, set anew (ln() would go to the page's margin).
    pdf.set_y(top)
    for style, size, line_height, colour, text in lines:
        pdf.set_x(left)
        pdf.set_text_color(*colour)
        pdf.set_font(FONT, style, size)
        pdf.multi_cell(pdf.w - pdf.r_margin - left, line_height, text, align="L", new_x="LEFT", new_y="NEXT")
        pdf.set_y(pdf.get_y() + 1)


def draw(sheet: Sheet) -> bytes:
    """The sheet's PDF bytes."""
    number = sheet.content.get("certificate_number") or ""
    pdf = _Framed(format="A4")
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_title(f"Duplicate of certificate {number}")
    pdf.set_author(sheet.org_name)
    pdf.set_creator(sheet.org_name)
    pdf.running_head = f"{sheet.org_name}: duplicate of certificate {number}"
    pdf.add_font(FONT, "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.add_page()
    lines = _verify_lines(sheet)
    column = pdf.w - 2 * MARGIN - QR_SIDE - GAP
    # The foot band: the verify block and the rule above it. Text above breaks to a new page first.
    height = max(QR_SIDE, _column_height(pdf, column, lines))
    pdf.set_auto_page_break(auto=True, margin=MARGIN + height + 2 * GAP)
    _heading(pdf, sheet)
    _award(pdf, sheet.content)
    _details(pdf, sheet.content)
    pdf.set_auto_page_break(auto=False)
    pdf.finished = True
    _verify_block(pdf, sheet, lines, height)
    return bytes(pdf.output())
