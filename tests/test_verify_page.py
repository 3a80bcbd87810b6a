"""The public verify page /v/CODE: every status with its HTTP status and words, normalisation and
redirects, typing errors before any lookup, no cookie and no script, live revocation, the document
shown only when its learner allows it, and the Activity's count of checks."""

from __future__ import annotations

import gzip
from datetime import timedelta

import pytest

from src.db import statements_run
from src.documents import new_verify_code, printed
from src.tables.connections import AccessEvent
from src.tables.documents import Document, VerifyTally
from tests.support.client import log_in, run
from tests.support.factories import make_account
from tests.support.pages import errors_on, html
from tests.support.verify_fixtures import break_the_database, revoke, shelf

HEADLINES = {
    "valid": "Valid: issued by Achievement Portal on 14 March 2026",
    "valid_until": "Valid until {until}",
    "expired": "Expired on {yesterday}: valid from 5 January 2024 to {yesterday}",
    "revoked": "Revoked on 2 June 2026: issued in error",
    "superseded": "Replaced on 1 July 2026 by a newer document",
}


def long(value):
    return value.strftime("%-d %B %Y")


def headline(response) -> str:
    return html(response).css_first("main h1").text(strip=True)


def facts(response) -> dict[str, str]:
    page = html(response)
    terms = [n.text(strip=True) for n in page.css("dl.facts dt")]
    return dict(zip(terms, [n.text(strip=True) for n in page.css("dl.facts dd")], strict=True))


def document_on(response):
    return html(response).css_first("main article.document")


@pytest.mark.parametrize("status", list(HEADLINES))
def test_each_standing_answers_200_with_its_headline_and_key_facts(client, day, status):
    docs = run(shelf(day))
    document = docs.by_status(status)
    response = client.get(f"/v/{document.verify_code}")
    assert response.status_code == 200
    expected = HEADLINES[status].format(
        until=long(day + timedelta(days=30)), yesterday=long(day - timedelta(days=1))
    )
    assert headline(response) == expected
    shown = facts(response)
    assert shown["Name"] == "Łucja Nguyễn"
    assert shown["Title"] == document.title
    assert shown["Qualification code"] == "603/1234/5"
    assert shown["Level"] == "3"
    assert shown["Certificate number"] == document.certificate_number
    assert shown["Awarding body"] == "Achievement Portal"
    assert shown["Code"] == printed(document.verify_code)
    assert html(response).css_first("p.checked").text().startswith("Checked ")


def test_expired_says_it_is_not_revoked(client, day):
    docs = run(shelf(day))
    text = html(client.get(f"/v/{docs.expired.verify_code}")).css_first("main").text()
    assert "Expired is not revoked" in text


def test_revoked_shows_public_wording_never_the_staff_note_nor_the_document(client, day):
    docs = run(shelf(day, shown=True))
    response = client.get(f"/v/{docs.revoked.verify_code}")
    assert response.status_code == 200
    assert "issued in error" in headline(response)
    assert "mislaid" not in response.text
    assert document_on(response) is None


def test_superseded_links_to_the_newer_page_only_when_the_newer_one_is_shown(client, day):
    docs = run(shelf(day))
    page = html(client.get(f"/v/{docs.superseded.verify_code}"))
    assert [a.attributes["href"] for a in page.css("main a") if "/v/" in (a.attributes["href"] or "")] == []
    run(Document.update({Document.show_on_verify: True}).where(Document.id == docs.newer.id))
    page = html(client.get(f"/v/{docs.superseded.verify_code}"))
    link = page.css_first('main a[href^="/v/"]')
    assert link is not None and link.text(strip=True) == "See the newer document"
    newer = client.get(link.attributes["href"])
    assert newer.status_code == 200 and facts(newer)["Certificate number"] == "APC-6"


def test_the_document_itself_appears_only_when_its_learner_allows(client, day):
    docs = run(shelf(day))
    hidden = client.get(f"/v/{docs.valid.verify_code}")
    assert document_on(hidden) is None
    run(Document.update({Document.show_on_verify: True}).where(Document.id == docs.valid.id))
    shown = client.get(f"/v/{docs.valid.verify_code}")
    article = document_on(shown)
    assert article is not None
    assert article.css_first("#document-title").text(strip=True) == "Level 3 Diploma in Data"


def test_revocation_shows_on_the_very_next_request(client, day):
    docs = run(shelf(day))
    code = docs.valid.verify_code
    first = client.get(f"/v/{code}")
    assert headline(first).startswith("Valid")
    assert first.headers["cache-control"] == "no-store"
    run(revoke(docs.valid, "awarded to the wrong learner"))
    second = client.get(f"/v/{code}")
    assert second.status_code == 200
    assert headline(second) == "Revoked on 2 June 2026: awarded to the wrong learner"


@pytest.mark.parametrize(
    "typed",
    [
        lambda c: c.lower(),
        lambda c: printed(c),
        lambda c: printed(c).lower().replace("-", " "),
        lambda c: c.replace("0", "O").replace("1", "l"),
        lambda c: c.replace("1", "I"),
    ],
    ids=["lower", "printed", "spaces", "O-and-l", "I"],
)
def test_non_canonical_forms_redirect_to_the_canonical_page(client, day, typed):
    docs = run(shelf(day))
    code = docs.valid.verify_code
    # A code with at least one 0 and one 1 makes the O/I/L cases meaningful.
    while not ("0" in code and "1" in code):
        code = new_verify_code()
        run(Document.update({Document.verify_code: code}).where(Document.id == docs.valid.id))
    variant = typed(code)
    if variant == code:
        pytest.skip("this form is already canonical")
    response = client.get(f"/v/{variant}", follow_redirects=False)
    assert response.status_code == 301
    assert response.headers["location"] == f"/v/{code}"
    assert "set-cookie" not in response.headers
    assert client.get(response.headers["location"]).status_code == 200


@pytest.mark.parametrize("bad", ["ABCD", "x" * 17, "€€€€-€€€€", "9" * 200, "", "-"])
def test_a_code_that_cannot_be_right_is_a_typing_error(client, bad):
    response = client.get(f"/v/{bad}", follow_redirects=False) if bad else client.get("/v/%20")
    assert response.status_code == 400
    assert headline(response) == "This code has a typing error"
    assert html(response).css_first('form[action="/verify"] input[name="code"]') is not None


def test_a_nul_byte_in_a_code_is_a_bad_request_before_any_lookup(client):
    """A NUL byte is refused for every address before any handler runs (see src/security.py)."""
    response = client.get("/v/%00%00", follow_redirects=False)
    assert response.status_code == 400
    assert "set-cookie" not in response.headers


def test_a_typing_error_is_decided_before_any_database_lookup(client, day, monkeypatch):
    docs = run(shelf(day))
    code = docs.valid.verify_code
    wrong_check = code[:-1] + ("0" if code[-1] != "0" else "1")
    swapped = code[1] + code[0] + code[2:] if code[0] != code[1] else None
    # With the database gone, any lookup would answer 503 "could not check".
    break_the_database(monkeypatch)
    assert client.get(f"/v/{code}").status_code == 503
    for typo in filter(None, [wrong_check, swapped]):
        response = client.get(f"/v/{typo}")
        assert response.status_code == 400, typo
        assert headline(response) == "This code has a typing error"


def test_not_found_is_404_and_identical_whatever_the_code(client, day):
    run(shelf(day))
    bodies = set()
    for _ in range(3):
        code = new_verify_code()
        response = client.get(f"/v/{code}")
        assert response.status_code == 404
        assert headline(response) == "No document has this code"
        main = html(response).css_first("main")
        assert "support@portal.invalid" in main.text()
        # The code checked is said back; apart from it, nothing tells one unknown code from another.
        assert main.css_first("span.code").text(strip=True) == printed(code)
        bodies.add(response.content.replace(printed(code).encode(), b"CODE"))
    assert len(bodies) == 1


def test_every_verify_page_links_to_the_typed_check(client, day):
    docs = run(shelf(day))
    for path in (f"/v/{docs.valid.verify_code}", f"/v/{new_verify_code()}"):
        link = html(client.get(path)).css_first("main p.hint a")
        assert link.attributes["href"] == "/verify"
        assert link.text(strip=True).endswith("/verify")


@pytest.mark.parametrize("status", ["valid", "revoked", "not_found", "typing_error"])
def test_no_cookie_no_script_and_the_privacy_headers(client, day, status):
    docs = run(shelf(day, shown=True))
    path = {
        "not_found": f"/v/{new_verify_code()}",
        "typing_error": "/v/ABCD",
    }.get(status) or f"/v/{docs.by_status(status).verify_code}"
    # A visitor who is logged in elsewhere on the site sends cookies: they are neither read nor renewed.
    client.cookies.set("portal_session", "someone-elses-session-id")
    response = client.get(path)
    assert "set-cookie" not in response.headers
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-robots-tag"] == "noindex"
    page = html(response)
    assert page.css("script") == [] and page.css("[hx-get],[hx-post],[onclick]") == []
    assert page.css('input[name="_csrf_token"]') == []


def test_the_page_fits_14_kb_with_its_stylesheet(client, day):
    docs = run(shelf(day, shown=True))
    units = [
        {"code": f"U{n}", "title": "Unit " * 8, "level": "3", "credits": "10", "grade": "Pass"}
        for n in range(15)
    ]
    content = {**docs.valid.content, "units": units}
    run(Document.update({Document.content: content}).where(Document.id == docs.valid.id))
    response = client.get(f"/v/{docs.valid.verify_code}")
    assert len(html(response).css("table.document-units tbody tr")) == 15
    total = len(gzip.compress(response.content, 9))
    for link in html(response).css('link[rel="stylesheet"]'):
        total += len(gzip.compress(client.get(link.attributes["href"]).content, 9))
    assert total <= 14 * 1024, total


def test_each_check_of_an_existing_code_is_counted_for_its_day_only(client, day):
    docs = run(shelf(day))
    client.get(f"/v/{docs.valid.verify_code}")
    client.get(f"/v/{docs.revoked.verify_code}")
    client.get(f"/v/{docs.valid.verify_code}")
    client.get(f"/v/{new_verify_code()}")  # nothing to record against
    tallies = run(VerifyTally.select(VerifyTally.document, VerifyTally.day, VerifyTally.checks))
    assert sorted((t["document"], t["day"], t["checks"]) for t in tallies) == sorted(
        [(docs.valid.id, day, 2), (docs.revoked.id, day, 1)]
    )
    assert set(VerifyTally._meta.columns) == {  # a number a day: nothing about who checked
        VerifyTally.id,
        VerifyTally.document,
        VerifyTally.day,
        VerifyTally.checks,
        VerifyTally.last_at,
    }
    assert run(AccessEvent.count()) == 0  # the event log keeps what people did, not every scan


def test_a_database_failure_is_never_a_verdict(client, day, monkeypatch):
    docs = run(shelf(day))
    break_the_database(monkeypatch)
    response = client.get(f"/v/{docs.valid.verify_code}")
    assert response.status_code == 503
    assert headline(response) == "We could not check this document just now; try again shortly"
    assert "Valid" not in html(response).css_first("main").text()
    assert "No document" not in response.text


def test_the_typed_check_leads_to_the_same_page(client, day):
    docs = run(shelf(day))
    form = client.get("/verify")
    assert form.status_code == 200
    assert "set-cookie" not in form.headers
    assert html(form).css_first('form[method="get"][action="/verify"] input#code') is not None
    typed = printed(docs.valid.verify_code).lower()
    response = client.get("/verify", params={"code": typed}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/v/{docs.valid.verify_code}"


def test_the_typed_check_keeps_a_mistyped_code_with_the_error_beside_it(client, day):
    docs = run(shelf(day))
    typo = printed(docs.valid.verify_code)[:-1] + ("0" if docs.valid.verify_code[-1] != "0" else "1")
    response = client.get("/verify", params={"code": typo})
    assert response.status_code == 400
    page = html(response)
    assert errors_on(response) == {"code": "This code has a typing error"}
    assert page.css_first("input#code").attributes["value"] == typo
    assert page.css_first("input#code").attributes["aria-describedby"] == "code-hint code-error"
    empty = client.get("/verify", params={"code": "  "})
    assert empty.status_code == 400
    assert errors_on(empty) == {"code": "Enter the code as printed"}


def test_the_home_page_links_to_the_typed_check(client):
    links = [a.attributes.get("href") for a in html(client.get("/")).css("main a")]
    assert "/verify" in links


def test_the_learner_sees_the_day_s_checks_in_their_activity_and_nobody_else_does(client, day):
    docs = run(shelf(day, can_log_in=True))
    client.get(f"/v/{docs.valid.verify_code}")
    client.get(f"/v/{docs.valid.verify_code}")
    log_in(client, "lena")
    rows = [" ".join(r.text().split()) for r in html(client.get("/activity")).css("#activity-list li")]
    assert len(rows) == 1
    assert f"“Level 3 Diploma in Data” checked on the verify page 2 times on {long(day)}" in rows[0]
    client.cookies.clear()
    run(make_account("learner", "olga"))
    log_in(client, "olga")
    assert html(client.get("/activity")).css("#activity-list li") == []


def test_a_parallel_burst_of_checks_is_recorded_once_each(client, day):
    from concurrent.futures import ThreadPoolExecutor

    docs = run(shelf(day))
    codes = [docs.valid.verify_code, docs.expired.verify_code, docs.revoked.verify_code] * 10
    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(pool.map(lambda c: client.get(f"/v/{c}").status_code, codes))
    assert statuses == [200] * 30
    # Requests that found another writing returned at once; the writer's request ended only when
    # nothing was left pending, so every check is counted once all answers are in.
    tallies = run(VerifyTally.select(VerifyTally.document, VerifyTally.checks))
    counts = {t["document"]: t["checks"] for t in tallies}
    assert counts == {docs.valid.id: 10, docs.expired.id: 10, docs.revoked.id: 10}
    assert len(tallies) == 3


def test_a_scan_reads_the_database_once_through_the_counted_way(client, day):
    """The verify lookup is a db.fetch statement like every hand-written read: db.statements_run
    (what the bench and the statement-count tests use) sees it, on SQLite's inline read connection
    as on PostgreSQL."""
    docs = run(shelf(day))
    with statements_run() as seen:
        response = client.get(f"/v/{docs.valid.verify_code}")
    assert response.status_code == 200
    reads = [sql for sql in seen if sql.lstrip().upper().startswith("SELECT")]
    assert len(reads) == 1, reads
    assert "verify_code" in reads[0]


# --- the scan path (ScanPage) answers as the handler would, inside the app's middleware -----------


def _without_date(response) -> list[tuple[str, str]]:
    return sorted((k, v) for k, v in response.headers.items() if k != "date")


@pytest.mark.parametrize("status", [*HEADLINES, "not_found", "unavailable"])
def test_the_scan_path_and_the_handler_give_the_same_answer(client, day, monkeypatch, status):
    """ScanPage answers a canonical code before the route's handler runs; with ScanPage passing
    everything on, the handler answers the same scan with the same status, headers and page, and
    records the check the same way. (The README's "Fast paths" names this test.)"""
    from src.routes.verify import ScanPage

    docs = run(shelf(day, shown=True))
    code = docs.valid.verify_code if status == "unavailable" else None
    code = code or (new_verify_code() if status == "not_found" else docs.by_status(status).verify_code)
    if status == "unavailable":
        break_the_database(monkeypatch)
    scanned = client.get(f"/v/{code}", headers={"Accept-Encoding": "gzip"})

    passed_on = []

    async def pass_on(self, scope, receive, send):
        passed_on.append(scope["path"])
        await self.app(scope, receive, send)

    monkeypatch.setattr(ScanPage, "__call__", pass_on)
    handled = client.get(f"/v/{code}", headers={"Accept-Encoding": "gzip"})
    assert passed_on == [f"/v/{code}"]  # the handler, not ScanPage, answered this one
    assert (
        handled.status_code == scanned.status_code == {"not_found": 404, "unavailable": 503}.get(status, 200)
    )
    assert _without_date(handled) == _without_date(scanned)
    assert scanned.headers["content-encoding"] == "gzip"
    # The same page, but for the minute of "Checked …", which may have turned between the two.
    checked = html(scanned).css_first("p.checked")
    if checked is not None:
        assert handled.text.replace(html(handled).css_first("p.checked").html, checked.html) == scanned.text
    else:
        assert handled.text == scanned.text
    if status == "unavailable":
        monkeypatch.undo()
    counted = run(VerifyTally.select(VerifyTally.checks))
    assert counted == ([] if status in ("not_found", "unavailable") else [{"checks": 2}])
    assert run(AccessEvent.count()) == 0


def test_a_scan_from_a_host_that_is_not_ours_is_refused(client, day):
    docs = run(shelf(day))
    response = client.get(f"/v/{docs.valid.verify_code}", headers={"Host": "evil.example"})
    assert response.status_code == 400
    assert "Valid" not in response.text
    assert run(VerifyTally.count()) == 0


def test_an_unexpected_failure_in_a_scan_is_the_500_page_with_every_header(client, day, monkeypatch):
    from src.routes import verify as verify_routes

    docs = run(shelf(day))

    async def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(verify_routes.documents, "verify", broken)
    response = client.get(f"/v/{docs.valid.verify_code}", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 500
    assert "a bug" not in response.text
    assert html(response).css_first("main h1") is not None
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"
