"""QR codes on the learner's document pages, read by a real decoder (zxing-cpp) and followed to
the right verify page; VERIFY_BASE_URL moves them to a host of their own (lower case)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from litestar.testing import TestClient

from src.app import create_app
from src.settings import new_signing_key
from tests.support.client import log_in, make_settings, run
from tests.support.environment import BASE_URL
from tests.support.pages import html
from tests.support.qr_reader import decode
from tests.support.verify_fixtures import shelf


def qr_code_on(response) -> str:
    """The URL in the one QR code on a document page, as a phone camera would read it."""
    [svg] = html(response).css("main .qr svg")
    barcode = decode(svg)
    assert barcode.ec_level == "Q"
    return str(barcode.text)


def test_every_document_pages_qr_code_opens_its_own_verify_page(client, day):
    docs = run(shelf(day, can_log_in=True))
    log_in(client, "lena")
    for status in ("valid", "valid_until", "expired", "revoked", "superseded", "newer"):
        document = docs.by_status(status)
        url = qr_code_on(client.get(f"/documents/{document.id}"))
        assert url == f"{BASE_URL}/v/{document.verify_code}"
        page = client.get(urlsplit(url).path)
        assert page.status_code == 200
        facts = [n.text(strip=True) for n in html(page).css("dl.facts dd")]
        assert document.certificate_number in facts


@pytest.fixture
def own_host_client(smtp_server, mailbox):
    settings = make_settings(smtp_server.port, verify_base_url="HTTPS://Verify-Portal.Example/")
    with TestClient(create_app(settings), base_url=BASE_URL) as client:
        yield client


def test_verify_base_url_gives_qr_codes_a_lower_case_host_and_a_compact_code(own_host_client, day):
    docs = run(shelf(day, can_log_in=True))
    log_in(own_host_client, "lena")
    page = own_host_client.get(f"/documents/{docs.valid.id}")
    card = html(page).css_first("main .verify-area")
    barcode = decode(card.css_first(".qr svg"))
    assert barcode.text == f"https://verify-portal.example/v/{docs.valid.verify_code}"
    # The code travels as an alphanumeric segment: all in bytes, this URL needs version 5.
    assert barcode.extra["Version"] == "4"
    link = card.css_first('.verify-choice a[href^="https://verify-portal.example/v/"]')
    assert link is not None
    # The app answers on the verify host too.
    answer = own_host_client.get(f"/v/{docs.valid.verify_code}", headers={"host": "verify-portal.example"})
    assert answer.status_code == 200


def test_verify_base_url_defaults_to_base_url_and_must_be_a_web_address(tmp_path):
    from src.settings import SettingsError, load_settings

    plain = load_settings({"VAR_DIR": str(tmp_path), "BASE_URL": "https://portal.example.test"})
    assert plain.verify_base == "https://portal.example.test"
    assert (
        "localhost"
        not in load_settings(
            {
                "VAR_DIR": str(tmp_path),
                "PORTAL_MODE": "production",
                "SECRET_KEYS": "k" * 40,
                "SIGNING_KEYS": new_signing_key(),
                "BASE_URL": "https://portal.example.test",
            }
        ).host_names
    )
    own = load_settings({"VAR_DIR": str(tmp_path), "VERIFY_BASE_URL": "https://check.example.test/"})
    assert own.verify_base == "https://check.example.test"
    assert "check.example.test" in own.host_names
    with pytest.raises(SettingsError, match="VERIFY_BASE_URL"):
        load_settings({"VAR_DIR": str(tmp_path), "VERIFY_BASE_URL": "check.example.test"})
