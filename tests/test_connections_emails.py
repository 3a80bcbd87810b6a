"""Every connection email, received on the real SMTP server: the right recipient, a link that works for
that recipient, and exactly one of each (the reminder job is safe to run twice; a new end date earns a
new 'ending' reminder)."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from email.message import EmailMessage
from typing import Any

from selectolax.lexbor import LexborHTMLParser as HTMLParser

from src import connections as actions
from src.connections import send_reminders
from src.documents import issue
from src.tables.accounts import Account
from src.tables.outbox import OutboxEmail
from tests.support.client import log_in, post_form, run
from tests.support.clocks import fmt
from tests.support.factories import STRONG_PASSWORD
from tests.support.pages import html
from tests.support.smtp import Mailbox, link_in, text_of


def opens(browser: Any, message: EmailMessage, connection_id: int | None = None) -> None:
    """The email's link, followed by its recipient, shows the connection (or the list holding it)."""
    path = link_in(message, "/connections")
    if connection_id is not None:
        assert path in (f"/connections/{connection_id}", "/connections")
    response = browser.get(path)
    assert response.status_code == 200, path
    page = html(response)
    if path == "/connections":
        assert page.css_first(f"#connection-{connection_id}") is not None
    else:
        assert page.css_first('a[href="/connections"]') is not None and page.css_first("h1") is not None


def sent_once(mailbox: Mailbox, expected: dict[str, int]) -> None:
    """Each template was queued exactly as often as expected, and nothing else of it is in the mailbox."""
    rows = run(OutboxEmail.select(OutboxEmail.template))
    queued = Counter(r["template"] for r in rows if r["template"] in expected)
    assert queued == Counter(expected)
    leftover = [(m["To"], m["Subject"]) for m in mailbox.drain()]
    assert leftover == []


def test_a_learners_share_through_to_the_end_sends_each_email_once(
    client: Any, other_client: Any, lena: Account, tess: Account, mailbox: Mailbox, day: date
) -> None:
    log_in(other_client, "tess")  # Tess follows her emails' links in the other browser
    doc = run(issue(lena, "Level 3 Diploma", "APC-1", day - timedelta(days=300)))

    connection = run(actions.share(lena, tess.email, [doc.id], day + timedelta(days=10), day))
    asked = mailbox.wait_for(to=tess.email, subject="wants to share documents with you")
    assert "Lena Lovelace" in asked["Subject"] and fmt(day + timedelta(days=10)) in text_of(asked)
    opens(other_client, asked, connection.id)

    run(actions.accept_as_third_party(tess, connection, day))
    accepted = mailbox.wait_for(to=lena.email, subject="accepted your connection")
    assert accepted["Subject"].startswith("Tess Turner")
    opens(client, accepted, connection.id)

    request = run(actions.request_extension(tess, connection, day + timedelta(days=40), "Audit", day))
    requested = mailbox.wait_for(to=lena.email, subject="asks for more time")
    assert fmt(day + timedelta(days=40)) in text_of(requested) and "Audit" in text_of(requested)
    opens(client, requested, connection.id)

    run(actions.approve_extension(lena, connection, request, day + timedelta(days=30), day))
    approved = mailbox.wait_for(to=tess.email, subject="access has been extended")
    assert fmt(day + timedelta(days=30)) in approved["Subject"]
    opens(other_client, approved, connection.id)

    request = run(actions.request_extension(tess, connection, day + timedelta(days=60), "", day))
    mailbox.wait_for(to=lena.email, subject="asks for more time")
    run(actions.decline_extension(lena, connection, request))
    declined = mailbox.wait_for(to=tess.email, subject="request for more time was declined")
    assert fmt(day + timedelta(days=30)) in text_of(declined)
    opens(other_client, declined, connection.id)

    run(actions.extend(lena, connection, day + timedelta(days=35), day))
    extended = mailbox.wait_for(to=tess.email, subject="extended your access")
    assert fmt(day + timedelta(days=35)) in extended["Subject"]
    opens(other_client, extended, connection.id)

    # The reminder job: 7 days before the end, twice; then after a new end date; then after the end.
    for _ in range(2):
        run(send_reminders(day + timedelta(days=30)))
    ending = mailbox.wait_for(to=tess.email, subject="documents ends on")
    assert fmt(day + timedelta(days=35)) in ending["Subject"]
    opens(other_client, ending, connection.id)
    run(actions.extend(lena, connection, day + timedelta(days=45), day))
    mailbox.wait_for(to=tess.email, subject="extended your access")
    for _ in range(2):
        run(send_reminders(day + timedelta(days=40)))
    again = mailbox.wait_for(to=tess.email, subject="documents ends on")
    assert fmt(day + timedelta(days=45)) in again["Subject"]
    for _ in range(2):
        run(send_reminders(day + timedelta(days=46)))
    for browser, account in ((other_client, tess), (client, lena)):
        ended = mailbox.wait_for(to=account.email, subject="has ended")
        assert fmt(day + timedelta(days=45)) in text_of(ended)
        opens(browser, ended, connection.id)

    # Cancelling tells the other side.
    run(actions.cancel(lena, connection))
    cancelled = mailbox.wait_for(to=tess.email, subject="cancelled your connection")
    assert cancelled["Subject"].startswith("Lena Lovelace")
    opens(other_client, cancelled, connection.id)

    sent_once(
        mailbox,
        {
            "learner_asked": 1,
            "connection_accepted": 1,
            "extension_requested": 2,
            "extension_approved": 1,
            "extension_declined": 1,
            "connection_extended": 2,
            "access_ending": 2,
            "access_ended": 2,
            "connection_cancelled": 1,
        },
    )


def test_a_third_partys_request_and_its_answers_send_each_email_once(
    client: Any, other_client: Any, lena: Account, tess: Account, mailbox: Mailbox, day: date
) -> None:
    log_in(other_client, "tess")  # Tess follows her emails' links in the other browser
    first = run(actions.add_connection(tess, lena.email, "For your job application", day))
    asked = mailbox.wait_for(to=lena.email, subject="asks to see your achievement documents")
    assert asked["Subject"].startswith("Tess Turner") and "For your job application" in text_of(asked)
    opens(client, asked, first.id)

    run(actions.decline(lena, first))
    declined = mailbox.wait_for(to=tess.email, subject="declined your connection request")
    opens(other_client, declined, first.id)

    second = run(actions.add_connection(tess, lena.email, "", day))
    mailbox.wait_for(to=lena.email, subject="asks to see your achievement documents")
    run(actions.cancel(tess, second))
    cancelled = mailbox.wait_for(to=lena.email, subject="cancelled your connection")
    assert cancelled["Subject"].startswith("Tess Turner")
    opens(client, cancelled, second.id)

    sent_once(mailbox, {"third_party_asked": 2, "connection_declined": 1, "connection_cancelled": 1})


def test_sharing_with_an_unknown_address_invites_them_and_attaches_when_they_verify(
    client: Any, other_client: Any, lena: Account, mailbox: Mailbox, day: date
) -> None:
    doc = run(issue(lena, "Level 3 Diploma", "APC-1", day - timedelta(days=300)))
    shared = post_form(
        client,
        "/share",
        {
            "email": "Newcomer@Example.com",
            "documents": str(doc.id),
            "expires_on-day": str((day + timedelta(days=20)).day),
            "expires_on-month": str((day + timedelta(days=20)).month),
            "expires_on-year": str((day + timedelta(days=20)).year),
        },
        token_from="/share",
    )
    assert shared.status_code == 303
    connection_id = int(shared.headers["location"].rsplit("/", 1)[1])

    invite = mailbox.wait_for(to="newcomer@example.com", subject="wants to share achievement documents")
    assert "Lena Lovelace" in invite["Subject"]
    register = link_in(invite, "/register")
    assert register == "/register?email=newcomer%40example.com"
    # The link fills in the invited address; the newcomer need not type it.
    field = html(other_client.get(register)).css_first('form input[name="email"]')
    assert field.attributes["value"] == "newcomer@example.com"
    html_part = HTMLParser(invite.get_body(preferencelist=("html",)).get_content())
    assert html_part.css_first('a[href*="/register"]').attributes["href"].endswith(register)
    registered = post_form(
        other_client,
        register,
        {
            "first_name": "Nia",
            "last_name": "Newcomer",
            "username": "nia",
            "email": "newcomer@example.com",
            "password": STRONG_PASSWORD,
        },
        token_from=register,
    )
    assert registered.status_code == 303, registered.text
    verify = link_in(
        mailbox.wait_for(to="newcomer@example.com", subject="Verify your email"), "/verify-email/"
    )
    assert other_client.get(verify).status_code in (200, 303)
    log_in(other_client, "nia")

    row = html(other_client.get("/connections")).css_first(f"#connection-{connection_id}")
    assert row is not None
    assert row.css_first(".state").text(strip=True) == "Waiting for you to accept"
    assert row.css_first(".connection-name").text(strip=True) == "Lena Lovelace"
    sent_once(mailbox, {"invite_third_party": 1, "learner_asked": 0})
