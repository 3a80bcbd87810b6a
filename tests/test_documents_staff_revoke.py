"""Staff revoke and supersede a document: a confirmation first, the learner emailed once, the change
seen on the very next request, and racing actions give one winner on both engines."""

from __future__ import annotations

import asyncio
from typing import Any

from src import documents
from src.clock import today_in
from src.errors import Conflict
from src.tables.connections import AccessEvent
from src.tables.documents import Document
from src.tables.outbox import OutboxEmail
from tests.support.client import log_in, post_form, run
from tests.support.document_staff_fixtures import issued, make_learner, reload, row, staff_client
from tests.support.pages import errors_on, html, notices
from tests.support.smtp import Mailbox, text_of

ROUNDS = 15


def _revoke(client: Any, document: Any, **data: str) -> Any:
    form = {
        "version": str(document.version),
        "category": "issued_in_error",
        "wording": "Issued in error.",
        "note": "Ticket 42",
    }
    form.update(data)
    return post_form(client, f"/staff/documents/{document.id}/revoke", form, token_from="/staff/documents")


def test_revoke_asks_first_then_revokes_for_good_and_emails_the_learner(
    client: Any, other_client: Any, mailbox: Mailbox
) -> None:
    staff_client(client)
    lena = run(make_learner("lena"))
    document = run(issued(lena, title="Award in Safety"))

    confirm = _revoke(client, document)
    assert confirm.status_code == 200
    page = html(confirm)
    assert "cannot be undone" in page.css_first(".panel").text()
    assert page.css_first('input[name="confirmed"]').attributes["value"] == "yes"
    assert run(reload(document.id)).status == "valid"  # nothing yet

    done = _revoke(client, document, confirmed="yes")
    assert done.status_code == 303
    after = run(reload(document.id))
    assert (after.status, after.revoked_category, after.revoked_reason, after.revoked_note) == (
        "revoked",
        "issued_in_error",
        "Issued in error.",
        "Ticket 42",
    )
    assert after.version == document.version + 1
    staff_page = client.get(done.headers["location"])
    assert "has been revoked" in " ".join(notices(staff_page))
    history = [li.text(strip=True) for li in html(staff_page).css("ol.rows li")]
    assert "Revoked (Issued in error)" in history[-1] and "Sam Tester" in history[-1]
    assert not html(staff_page).css('a[href$="/revoke"]')

    message = mailbox.wait_for(to=lena.email, subject="revoked")
    assert "Issued in error." in text_of(message) and "Ticket 42" not in text_of(message)
    # The learner sees it at once: no cached copy.
    log_in(other_client, "lena")
    mine = html(other_client.get("/documents"))
    assert "Revoked" in mine.css_first(".cards").text()
    assert run(OutboxEmail.count()) == 1

    again = _revoke(client, document, confirmed="yes")
    assert again.status_code == 303
    assert "has changed" in " ".join(notices(client.get(again.headers["location"])))
    assert run(OutboxEmail.count()) == 1


def test_revoke_refuses_a_missing_reason_or_wording_and_keeps_what_was_typed(client: Any) -> None:
    staff_client(client)
    document = run(issued(run(make_learner("lena"))))
    response = _revoke(client, document, category="", wording="", note="<b>kept</b>")
    assert response.status_code == 422
    assert set(errors_on(response)) == {"category", "wording"}
    assert html(response).css_first("#note").text() == "<b>kept</b>"
    only_nul = _revoke(client, document, category="other", wording="\x00\x00")
    assert only_nul.status_code == 400  # a NUL byte is refused for every form before any handler
    too_long = _revoke(client, document, wording="x" * 501, category="nonsense")
    assert "500 characters" in errors_on(too_long)["wording"] and "category" in errors_on(too_long)
    assert run(reload(document.id)).status == "valid"


def test_supersede_prefills_from_the_old_document_and_links_them(client: Any, mailbox: Mailbox) -> None:
    staff = staff_client(client)
    lena = run(make_learner("lena"))
    old = run(
        issued(
            lena,
            "OLD-1",
            "Award in Safety",
            grade="Pass",
            units=[{"code": "U1", "title": "Ladders"}],
            issued_by=staff,
        )
    )
    form = html(client.get(f"/staff/documents/{old.id}/supersede"))
    values = {
        node.attributes["name"]: node.attributes.get("value") for node in form.css("#document-form input")
    }
    assert values["learner_email"] == lena.email and values["qualification_title"] == "Award in Safety"
    assert values["grade"] == "Pass" and values["certificate_number"] == ""
    assert form.css_first("#units").text().startswith("U1,Ladders")
    values["kind"] = form.css_first("#kind option[selected]").attributes["value"]

    sent = {
        **{k: v or "" for k, v in values.items() if k != "_csrf_token"},
        "certificate_number": "NEW-1",
        "grade": "Merit",
        "units": "U1,Ladders,,,",
    }
    response = post_form(client, f"/staff/documents/{old.id}/supersede", sent, token_from="/staff/documents")
    assert response.status_code == 303, errors_on(response)
    new = run(Document.objects().where(Document.certificate_number == "NEW-1").first())
    before = run(reload(old.id))
    assert (before.status, before.superseded_by, before.version) == ("superseded", new.id, old.version + 1)
    assert documents.content_of(new)["grade"] == "Merit" and new.owner == lena.id
    page = html(client.get(f"/staff/documents/{old.id}"))
    assert page.css_first(f'a[href="/staff/documents/{new.id}"]') is not None
    new_page = html(client.get(f"/staff/documents/{new.id}"))
    assert any("Replaces certificate OLD-1" in li.text() for li in new_page.css("ol.rows li"))
    mailbox.wait_for(to=lena.email, subject="replaced")
    mailbox.wait_for(to=lena.email, subject="new document")
    assert run(OutboxEmail.count()) == 2


def test_supersede_with_a_used_number_or_bad_field_writes_nothing(client: Any) -> None:
    staff_client(client)
    lena = run(make_learner("lena", email_address="lena@example.com"))
    old = run(issued(lena, "OLD-1"))
    run(issued(lena, "TAKEN-1"))
    base = {**row(), "version": str(old.version)}
    taken = post_form(
        client,
        f"/staff/documents/{old.id}/supersede",
        {**base, "certificate_number": "TAKEN-1"},
        token_from="/staff/documents",
    )
    assert taken.status_code == 422 and "number of its own" in errors_on(taken)["certificate_number"]
    bad = post_form(
        client,
        f"/staff/documents/{old.id}/supersede",
        {**base, "awarded_on": "1/1/26"},
        token_from="/staff/documents",
    )
    assert bad.status_code == 422 and "awarded_on" in errors_on(bad)
    assert run(reload(old.id)).status == "valid"
    assert run(Document.count()) == 2 and run(OutboxEmail.count()) == 0


async def _race(staff: Any, document: Document, kinds: tuple[str, str], round_number: int) -> list[Any]:
    today = today_in(__import__("zoneinfo").ZoneInfo("Europe/London"))

    def action(kind: str, n: int) -> Any:
        if kind == "revoke":
            return documents.revoke(staff, document.id, document.version, "other", f"Reason {n}", "")
        raw = row(certificate_number=f"R{round_number}-{n}", learner_email="lena@example.com")
        return documents.supersede(None, staff, document.id, document.version, raw, [], today=today)  # type: ignore[arg-type]

    return await asyncio.gather(*(action(kind, n) for n, kind in enumerate(kinds)), return_exceptions=True)


def test_racing_revoke_and_revoke_or_supersede_gives_one_winner(client: Any, mailbox: Mailbox) -> None:
    staff = staff_client(client)
    lena = run(make_learner("lena", email_address="lena@example.com"))
    wins = 0
    for n in range(ROUNDS):
        kinds = ("revoke", "revoke") if n % 2 else ("revoke", "supersede")
        document = run(issued(lena, f"RACE-{n}"))
        results = run(_race(staff, document, kinds, n))
        losers = [r for r in results if isinstance(r, Conflict)]
        assert len(losers) == 1, results
        assert not any(isinstance(r, Exception) and not isinstance(r, Conflict) for r in results), results
        after = run(reload(document.id))
        assert after.version == document.version + 1
        assert after.status in ("revoked", "superseded")
        keys = run(
            OutboxEmail.select(OutboxEmail.idempotency_key).where(
                OutboxEmail.idempotency_key.like(f"document:{document.id}:%")
            )
        )
        assert [k["idempotency_key"] for k in keys] == [f"document:{document.id}:{after.status}"]
        events = run(AccessEvent.count().where(AccessEvent.document == document.id))
        assert events == 1
        wins += 1
    # The losing supersedes left no replacement behind.
    superseded = run(Document.count().where(Document.status == "superseded"))
    assert run(Document.count()) == ROUNDS + superseded
    expected = run(OutboxEmail.count())
    received = [mailbox.wait_for(timeout=10) for _ in range(expected)]
    assert len(received) == expected and mailbox.received.empty()
    assert wins == ROUNDS


def test_html_in_the_public_wording_is_text_in_the_email_and_on_the_page(
    client: Any, mailbox: Mailbox
) -> None:
    staff_client(client)
    lena = run(make_learner("lena"))
    document = run(issued(lena))
    wording = '<a href="https://evil.example" hx-get="/logout">Click</a>'
    assert _revoke(client, document, wording=wording, confirmed="yes").status_code == 303
    message = mailbox.wait_for(to=lena.email, subject="revoked")
    body = message.get_body(preferencelist=("html",)).get_content()
    assert "evil.example" in body and '<a href="https://evil.example"' not in body
    page = html(client.get(f"/staff/documents/{document.id}"))
    assert wording in page.css_first(".summary").text()
    assert not page.css('main a[href="https://evil.example"]')
