"""Printed duplicates: staff get a PDF of a valid document, made on demand, with the DUPLICATE line,
the document's facts (a Unicode name prints as written), the typed code, the verify address and a QR
code that a real decoder (zxing-cpp) reads and that leads to the document's verify page. Revoked and
superseded documents are refused; nobody but staff gets one; every print is an AccessEvent."""

from __future__ import annotations

import io
from typing import Any
from urllib.parse import urlsplit

import pytest
import zxingcpp
from pypdf import PdfReader

from src.audit import AuditAction
from src.documents import printed
from src.tables.connections import AccessEvent
from tests.support.client import log_in, run
from tests.support.clocks import fmt
from tests.support.environment import BASE_URL
from tests.support.factories import make_account
from tests.support.pages import html
from tests.support.verify_fixtures import shelf


def staff_logged_in(client: Any) -> None:
    run(make_account("staff", "sam", first_name="Sam", last_name="Staff"))
    log_in(client, "sam")


def pdf_text(response: Any) -> str:
    reader = PdfReader(io.BytesIO(response.content))
    return "\n".join(page.extract_text() for page in reader.pages)


def qr_in(response: Any) -> zxingcpp.Barcode:
    """The one QR code in the PDF, read from the image embedded in it (as printed) by zxing-cpp."""
    reader = PdfReader(io.BytesIO(response.content))
    images = [image.image for page in reader.pages for image in page.images]
    assert len(images) == 1
    found = zxingcpp.read_barcodes(images[0].convert("L"), formats=zxingcpp.BarcodeFormat.QRCode)
    assert len(found) == 1
    return found[0]


def prints_logged() -> int:
    return run(AccessEvent.count().where(AccessEvent.action == AuditAction.printed_duplicate))


def test_a_duplicate_is_a_pdf_with_the_facts_the_code_and_where_to_check(client, day):
    docs = run(shelf(day))
    staff_logged_in(client)
    response = client.get(f"/staff/documents/{docs.valid.id}/duplicate")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-disposition"] == 'attachment; filename="duplicate-APC-1.pdf"'
    assert response.content.startswith(b"%PDF-")
    text = pdf_text(response)
    assert "Łucja Nguyễn" in text
    assert "Level 3 Diploma in Data" in text
    assert "603/1234/5" in text
    # Two dates, each said for what it is: the award's (the document's) and this paper's print date.
    assert "DUPLICATE of certificate APC-1, awarded on 14 March 2026." in text
    assert f"This copy was printed on {fmt(day)}." in text.replace("\n", " ")
    assert printed(docs.valid.verify_code) in text
    assert f"{BASE_URL}/v/{docs.valid.verify_code}" in text.replace("\n", "")
    assert f"check the live status at {urlsplit(BASE_URL).netloc}" in text.replace("\n", " ")
    assert prints_logged() == 1


def test_the_qr_code_in_the_pdf_opens_the_documents_verify_page(client, day):
    docs = run(shelf(day))
    staff_logged_in(client)
    for document in (docs.valid, docs.valid_until, docs.expired):
        barcode = qr_in(client.get(f"/staff/documents/{document.id}/duplicate"))
        assert barcode.ec_level == "Q"
        assert barcode.text == f"{BASE_URL}/v/{document.verify_code}"
        page = client.get(urlsplit(barcode.text).path)
        assert page.status_code == 200
        facts = [node.text(strip=True) for node in html(page).css("dl.facts dd")]
        assert document.certificate_number in facts


@pytest.mark.parametrize("status", ["revoked", "superseded"])
def test_revoked_and_superseded_documents_are_refused_with_the_reason(client, day, status):
    docs = run(shelf(day))
    staff_logged_in(client)
    response = client.get(f"/staff/documents/{docs.by_status(status).id}/duplicate")
    assert response.status_code == 409
    assert response.headers["content-type"].startswith("text/html")
    notice = html(response).css_first("main .notice").text()
    assert ("revoked" if status == "revoked" else "replaced by a newer one") in notice
    assert prints_logged() == 0


def test_the_staff_document_page_offers_the_duplicate_only_for_a_valid_document(client, day):
    docs = run(shelf(day))
    staff_logged_in(client)
    link = f'a[href="/staff/documents/{docs.valid.id}/duplicate"]'
    assert html(client.get(f"/staff/documents/{docs.valid.id}")).css_first(link) is not None
    revoked = html(client.get(f"/staff/documents/{docs.revoked.id}"))
    assert revoked.css_first(f'a[href="/staff/documents/{docs.revoked.id}/duplicate"]') is None
    # The print shows in the document's history.
    client.get(f"/staff/documents/{docs.valid.id}/duplicate")
    history = [li.text() for li in html(client.get(f"/staff/documents/{docs.valid.id}")).css("ol.rows li")]
    assert any("Duplicate printed" in item and "Sam Staff" in item for item in history)


@pytest.mark.parametrize("who", ["owner", "third_party", "nobody"])
def test_nobody_but_staff_gets_a_duplicate(client, day, who):
    docs = run(shelf(day, can_log_in=True))
    if who == "owner":
        log_in(client, "lena")
    elif who == "third_party":
        run(make_account("third_party", "tara"))
        log_in(client, "tara")
    response = client.get(f"/staff/documents/{docs.valid.id}/duplicate", follow_redirects=False)
    assert response.status_code in ((404,) if who != "nobody" else (302, 303, 401))
    assert not response.content.startswith(b"%PDF")
    assert prints_logged() == 0


@pytest.mark.parametrize("document_id", ["999999", "99999999999999999999"])
def test_no_such_document_is_a_404(client, day, document_id):
    run(shelf(day))
    staff_logged_in(client)
    assert client.get(f"/staff/documents/{document_id}/duplicate").status_code == 404
