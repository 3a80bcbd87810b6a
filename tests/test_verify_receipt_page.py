"""`/verify/receipt` reads a receipt back in words: genuine (when, what it said, whether the status
changed since), changed after signing, or signed by a key that is not ours; pasted or uploaded;
anything else is an error beside the field with the text kept, never a 500. And the verify page's
plain link to a receipt of the check."""

from __future__ import annotations

import base64
import gzip
import json

import pytest

from src.documents import SigningKeys, new_verify_code, printed
from src.settings import new_signing_key
from src.tables.documents import VerifyTally
from tests.support.client import run
from tests.support.pages import html
from tests.support.verify_fixtures import revoke, shelf

PAGE = "/verify/receipt"


def receipt_of(client, code: str) -> str:
    response = client.get(f"/api/v1/verify/{code}/receipt")
    assert response.status_code == 200
    return response.text


def pasted(client, text: str):
    # A browser posts this form as multipart/form-data (it may carry a file).
    return client.post(PAGE, files={"receipt": (None, text)})


def uploaded(client, content: bytes, name: str = "receipt.jws"):
    return client.post(
        PAGE, files={"receipt": (None, ""), "file": (name, content, "application/octet-stream")}
    )


def main_text(response) -> str:
    return " ".join(html(response).css_first("main").text().split())


def heading(response) -> str:
    return html(response).css_first("main h1").text(strip=True)


def assert_public_page(response) -> None:
    assert "set-cookie" not in response.headers
    assert response.headers["cache-control"] == "no-store"
    page = html(response)
    assert page.css("script") == [] and page.css('input[name="_csrf_token"]') == []


def test_the_form_takes_a_paste_or_a_file_with_no_script_no_cookie_and_fits_14_kb(client):
    client.cookies.set("portal_session", "someone-elses-session-id")
    response = client.get(PAGE)
    assert response.status_code == 200
    assert_public_page(response)
    form = html(response).css_first("main form")
    assert (form.attributes["method"], form.attributes["action"]) == ("post", PAGE)
    assert form.attributes["enctype"] == "multipart/form-data"
    assert form.css_first("textarea#receipt") is not None
    assert (
        form.css_first('label[for="receipt"]') is not None and form.css_first('label[for="file"]') is not None
    )
    assert form.css_first('input#file[type="file"]') is not None
    total = len(gzip.compress(response.content, 9))
    for link in html(response).css('link[rel="stylesheet"]'):
        total += len(gzip.compress(client.get(link.attributes["href"]).content, 9))
    assert total <= 14 * 1024


def test_a_genuine_receipt_says_when_what_and_that_nothing_changed(client, day):
    docs = run(shelf(day))
    receipt = receipt_of(client, docs.valid.verify_code)
    claims = client.app.state.signing_keys.read(receipt).claims

    # Pasted as a mail client might wrap it: broken over lines, with spaces.
    response = pasted(
        client, "  " + "\n".join(receipt[i : i + 60] for i in range(0, len(receipt), 60)) + "\n"
    )

    assert response.status_code == 200
    assert_public_page(response)
    assert heading(response) == "Genuine: signed by Achievement Portal"
    text = main_text(response)
    assert claims["headline"] in text
    assert "APC-1" in text and printed(docs.valid.verify_code) in text
    assert day.strftime("%-d %B %Y") in text  # when it was signed, in words
    assert "Its status has not changed since." in text
    link = html(response).css_first(f'main a[href="/v/{docs.valid.verify_code}"]')
    assert link is not None
    # Looking at the live status is a check like any other: counted, nothing about who looked.
    assert run(VerifyTally.select(VerifyTally.checks).where(VerifyTally.document == docs.valid.id)) == [
        {"checks": 2}
    ]


def test_an_uploaded_receipt_file_is_read_too(client, day):
    docs = run(shelf(day))
    receipt = receipt_of(client, docs.expired.verify_code)
    response = uploaded(client, receipt.encode() + b"\n")
    assert response.status_code == 200
    assert heading(response) == "Genuine: signed by Achievement Portal"
    assert "Its status has not changed since." in main_text(response)


def test_a_receipt_of_a_document_revoked_since_says_its_status_changed(client, day):
    docs = run(shelf(day))
    receipt = receipt_of(client, docs.valid.verify_code)
    run(revoke(docs.valid, "awarded in error"))

    response = pasted(client, receipt)

    assert heading(response) == "Genuine: signed by Achievement Portal"
    text = main_text(response)
    assert "Valid" in text  # what it said then
    assert "Its status has changed since. Now: Revoked on 2 June 2026: awarded in error." in text


def test_a_receipt_changed_after_signing_is_not_genuine(client, day):
    docs = run(shelf(day))
    header, payload, signature = receipt_of(client, docs.revoked.verify_code).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims.update(status="valid", headline="Valid: all good", status_on=None)
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()

    response = pasted(client, f"{header}.{forged_payload}.{signature}")

    assert response.status_code == 200
    assert heading(response) == "Not genuine: this receipt has been changed"
    assert "Valid: all good" not in response.text  # what a forgery says is not repeated as fact


def test_a_receipt_signed_with_another_key_is_not_ours(client, day):
    docs = run(shelf(day))
    claims = client.app.state.signing_keys.read(receipt_of(client, docs.valid.verify_code)).claims
    foreign = SigningKeys((new_signing_key(),))
    forged = foreign.sign(
        {k: v for k, v in claims.items() if k not in {"iss", "iat", "jti"}},
        issuer=claims["iss"],
        at=client.app.state.signing_keys.read(receipt_of(client, docs.valid.verify_code)).signed_at,
    )

    response = pasted(client, forged)

    assert response.status_code == 200
    assert heading(response) == "Not signed by us"
    assert docs.valid.certificate_number not in response.text


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n  ",
        "hello",
        "a.b.c",
        "..",
        "e30.e30.",  # {} . {} . no signature
        "eyJhbGciOiJub25lIn0.eyJzdGF0dXMiOiJ2YWxpZCJ9.",  # alg none
        "\x00\x00.\x00.\x00",
        "ünïcödé.ünïcödé.ünïcödé",
        "A" * 60_000,
        "[" * 5000 + "." + "{" * 5000 + ".x",
        "eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCJ9.e30.AAAA",  # a JWT of another type
    ],
)
def test_anything_that_is_not_a_receipt_is_an_error_beside_the_field(client, text):
    response = pasted(client, text)
    assert response.status_code == 422
    assert_public_page(response)
    page = html(response)
    assert page.css_first("title").text().startswith("Error:")
    assert page.css_first("#receipt-error") is not None
    assert page.css_first("textarea#receipt").attributes["aria-invalid"] == "true"
    if text.strip() and len(text) < 1000:
        assert page.css_first("textarea#receipt").text() == text.replace("\x00", "")


@pytest.mark.parametrize(
    "content", [b"\xff\xfe\x00garbage", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 20, b"", b"x" * 60_000]
)
def test_a_file_that_is_not_a_receipt_is_an_error_not_a_500(client, content):
    response = uploaded(client, content, "photo.png")
    assert response.status_code == 422
    assert html(response).css_first("#receipt-error") is not None


def test_a_body_beyond_any_receipt_is_refused_before_it_is_read(client):
    response = client.post(PAGE, files={"receipt": (None, "A" * 200_000)})
    assert response.status_code == 413


def test_a_form_from_another_site_is_refused(client, day):
    docs = run(shelf(day))
    receipt = receipt_of(client, docs.valid.verify_code)
    response = client.post(PAGE, files={"receipt": (None, receipt)}, headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 403


def test_the_verify_page_links_to_a_receipt_of_the_check_and_says_what_it_proves(client, day):
    docs = run(shelf(day, shown=True))
    page = client.get(f"/v/{docs.valid.verify_code}")
    link = next(
        a for a in html(page).css("main a") if a.text(strip=True) == "Download a signed receipt of this check"
    )
    assert link.attributes["href"] == f"/api/v1/verify/{docs.valid.verify_code}/receipt"
    assert "download" in link.attributes
    assert "proves what we said and when" in main_text(page)
    assert html(page).css_first(f'main a[href="{PAGE}"]') is not None
    download = client.get(link.attributes["href"])
    assert download.headers["content-disposition"].endswith('.jws"')
    assert "set-cookie" not in download.headers
    assert pasted(client, download.text).status_code == 200


@pytest.mark.parametrize("path", ["/v/ABCD", "unknown"])
def test_no_receipt_link_where_there_is_no_document(client, path):
    path = f"/v/{new_verify_code()}" if path == "unknown" else path
    page = client.get(path)
    assert "receipt" not in page.text.lower()


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("multipart/form-data", b"garbage"),
        ("multipart/form-data; boundary=xyz", b"--xyz\r\nnonsense"),
        ("application/json", b'{"receipt": "a.b.c"}'),
        ("application/x-www-form-urlencoded", b"receipt=%00%00.a.b"),
        ("text/plain", b"\xff\xfe"),
    ],
)
def test_a_body_no_form_would_send_is_a_4xx_never_a_500(client, content_type, body):
    response = client.post(PAGE, content=body, headers={"content-type": content_type})
    assert 400 <= response.status_code < 500
    assert "set-cookie" not in response.headers
