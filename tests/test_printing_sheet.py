"""The duplicate's sheet, read back from the PDF: no text is printed over the QR code (on a short
document, on one whose units run onto a second page, and with long names and titles that wrap), all
text stays inside the frame, the QR code still reads, and the DUPLICATE line says which date is the
award's and which is this paper's."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import zxingcpp

from src.printing import duplicate_pdf
from tests.support.pdf_layout import Box, image_boxes, pages_of, text_boxes

pytestmark = pytest.mark.engine_free

BASE = "https://portal.example.org"
CODE = "ABCDEFGHJKMNPQRST7"
MM = 72 / 25.4
# The frame's inner rule is 10.5 mm from the paper's edge (A4: 595.3 by 841.9 pt).
INSIDE_FRAME = Box("frame", 10.5 * MM, 10.5 * MM, 595.28 - 10.5 * MM, 841.89 - 10.5 * MM)

UNIT = {"title": "Promote communication in care settings", "code": "DEM 301", "level": "3", "credits": "3"}


def content(**changes: Any) -> dict[str, Any]:
    return {
        "title": "Level 3 Diploma in Adult Care",
        "kind": "certificate",
        "name_as_printed": "Łucja Thị Nguyễn",
        "qualification_code": "603/1234/5",
        "level": "Level 3",
        "grade": "Merit",
        "awarded_on": "2025-11-02",
        "certificate_number": "APC-1",
        "units": [{**UNIT, "grade": "Pass"}, {**UNIT, "title": "Safeguarding", "grade": "Merit"}],
        **changes,
    }


def sheet(**changes: Any) -> bytes:
    return duplicate_pdf(
        content(**changes),
        verify_code=CODE,
        printed_on=date(2026, 12, 7),
        verify_base=BASE,
        org_name="Northfield Awarding Body",
    )


CASES = {
    "short": {},
    "units over two pages": {"units": [{**UNIT, "grade": "Pass"}] * 40},
    "long name and title": {
        "name_as_printed": "Maximiliana Anastasia Featherstonehaugh-Cholmondeley-Worthington Łukasiewicz",
        "title": "Level 3 Extended Diploma in Health and Social Care (Adult Residential Services), "
        "with the Optional Pathway in Dementia Care and End of Life Support",
        "units": [],
    },
}


@pytest.mark.parametrize("changes", CASES.values(), ids=CASES.keys())
def test_no_text_is_printed_over_the_qr_code_and_all_of_it_is_inside_the_frame(changes):
    reader, pages = pages_of(sheet(**changes))
    images = [image_boxes(reader, page) for page in pages]
    # One QR code, at the foot of the last page.
    assert [len(found) for found in images] == [0] * (len(pages) - 1) + [1]
    (code,) = images[-1]
    assert code.bottom < 841.89 / 3, "the verify block is at the foot of the page"
    for page in pages:
        boxes = text_boxes(page)
        assert boxes
        assert [box.text for box in boxes if not box.inside(INSIDE_FRAME)] == []
    last = text_boxes(pages[-1])
    assert [box.text for box in last if box.overlaps(code)] == []
    # The verify block's words sit beside the code, not below or across it.
    beside = [box for box in last if box.bottom < code.top and box.top > code.bottom]
    assert any("This paper is a copy" in box.text for box in beside)
    assert all(box.left >= code.right for box in beside)


def test_the_boxes_are_measured_where_the_text_is_drawn():
    # The measuring itself can fail: a run starting on the code's left edge overlaps it.
    reader, pages = pages_of(sheet())
    (code,) = image_boxes(reader, pages[-1])
    assert code.right - code.left == pytest.approx(42 * MM, abs=0.5)
    assert Box("over the code", code.left + 1, code.bottom + 5, code.left + 200, code.bottom + 15).overlaps(
        code
    )
    status = next(box for box in text_boxes(pages[-1]) if box.text == "Check the live status")
    # 6 mm of gap, then fpdf2's 1 mm cell margin.
    assert status.left == pytest.approx(code.right + 7 * MM, abs=0.5)
    assert 110 < status.right - status.left < 150  # 12 pt bold: about 130 pt wide


def test_the_qr_code_reads_and_the_text_reads_back():
    _, pages = pages_of(sheet())
    (image,) = [found.image for found in pages[-1].images]
    (barcode,) = zxingcpp.read_barcodes(image.convert("L"), formats=zxingcpp.BarcodeFormat.QRCode)
    assert barcode.text == f"{BASE}/v/{CODE}"
    text = " ".join(page.extract_text() for page in pages).replace("\n", " ")
    for expected in (
        "Northfield Awarding Body",
        "Level 3 Diploma in Adult Care",
        "Łucja Thị Nguyễn",
        "Grade: Merit",
        "ABCD-EFGH-JKMN-PQRS-T7",
        f"check the live status at portal.example.org: {BASE}/v/{CODE}",
        "This paper is a copy.",
    ):
        assert expected in text


def test_the_duplicate_line_says_which_date_is_the_award_and_which_the_print():
    text = " ".join(page.extract_text() for page in pages_of(sheet())[1]).replace("\n", " ")
    assert "DUPLICATE of certificate APC-1, awarded on 2 November 2025." in text
    assert "This copy was printed on 7 December 2026." in text
    assert "issued" not in text
