"""Racing actions on one connection (issue 3): accept and cancel fired together, approve-extension
and cancel, and a double submit of the same accept. Each round has exactly one winner, the other
gets Conflict (409 for htmx, the "has changed" flash for a form), the final state is the winner's,
the version went up by exactly one, and exactly one set of emails is queued and received.

SQLite decides with BEGIN IMMEDIATE write transactions; PostgreSQL with UPDATE … WHERE id, state,
version. Both run the same rounds.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient

from src import connections as actions
from src.errors import Conflict
from src.routes.common import CONFLICT_TEXT
from src.tables.connections import Connection, ExtensionRequest
from src.tables.outbox import OutboxEmail
from tests.support.client import log_in, run
from tests.support.clocks import today
from tests.support.factories import People, build_connection, make_document, reload
from tests.support.pages import csrf_token, html
from tests.support.smtp import Mailbox

ROUNDS = 30


async def emails_for(connection_id: int) -> list[str]:
    rows = await OutboxEmail.select(OutboxEmail.idempotency_key).where(
        OutboxEmail.idempotency_key.like(f"connection:{connection_id}:%")
    )
    return sorted(row["idempotency_key"] for row in rows)


def receive_all(mailbox: Mailbox) -> Counter[tuple[str, str]]:
    """Every queued email, received on the SMTP server: (recipient, subject) counts. Waits (bounded)
    for as many messages as the outbox holds, then checks nothing else arrived."""
    expected = run(OutboxEmail.count())
    received = [mailbox.wait_for(timeout=10) for _ in range(expected)]
    assert mailbox.received.empty(), "more emails arrived than were queued"
    return Counter((m["To"].split("<")[-1].rstrip(">").lower(), _kind(m["Subject"])) for m in received)


def _kind(subject: str) -> str:
    for words, kind in (
        ("accepted your connection", "accepted"),
        ("cancelled your connection", "cancelled"),
        ("wants to share", "asked"),
        ("asks for more time", "extension_requested"),
        ("has been extended", "extension_approved"),
    ):
        if words in subject:
            return kind
    return subject


def close_round(connection_id: int) -> None:
    """Make room for the next round between the same two people (no rule, so no email)."""
    run(
        Connection.update({Connection.state: "cancelled", Connection.open_pair: None}).where(
            Connection.id == connection_id
        )
    )


def outcome(results: list[Any]) -> int:
    """Index of the one winner among gathered results; the other must be a Conflict."""
    winners = [i for i, result in enumerate(results) if result is None]
    losers = [result for result in results if result is not None]
    assert len(winners) == 1, results
    assert all(isinstance(loser, Conflict) for loser in losers), results
    return winners[0]


# --- through the rules ------------------------------------------------------------------------------


async def _accept_cancel_round(people: People, document: Any) -> tuple[str, Connection, list[str]]:
    connection = await build_connection(
        "awaiting_third_party", people.learner, people.third_party, [document]
    )
    before = await emails_for(connection.id)
    first, second = await reload(connection.id), await reload(connection.id)
    results = await asyncio.gather(
        actions.accept_as_third_party(people.third_party, first, today()),
        actions.cancel(people.learner, second),
        return_exceptions=True,
    )
    winner = ("accept", "cancel")[outcome(results)]
    after = await emails_for(connection.id)
    new = [key for key in after if key not in before]
    return winner, connection, new


def test_accept_and_cancel_together_one_winner_each_round(
    client: Any, people: People, mailbox: Mailbox
) -> None:
    document = run(make_document(people.learner, 1))
    wins: Counter[str] = Counter()
    for _ in range(ROUNDS):
        winner, started, new_emails = run(_accept_cancel_round(people, document))
        wins[winner] += 1
        final = run(reload(started.id))
        assert final.state == ("active" if winner == "accept" else "cancelled")
        assert final.version == started.version + 1
        recipient = people.learner.id if winner == "accept" else people.third_party.id
        assert new_emails == [f"connection:{started.id}:v{final.version}:{recipient}"]
        close_round(started.id)
    received = receive_all(mailbox)
    assert received == Counter(
        {
            (people.third_party.email, "asked"): ROUNDS,
            (people.learner.email, "accepted"): wins["accept"],
            (people.third_party.email, "cancelled"): wins["cancel"],
        }
    )


async def _approve_cancel_round(people: People, document: Any) -> tuple[str, Connection, list[str]]:
    connection = await build_connection(
        "active", people.learner, people.third_party, [document], pending_extension=True
    )
    request = await actions.pending_extension(connection.id)
    assert request is not None
    before = await emails_for(connection.id)
    first, second = await reload(connection.id), await reload(connection.id)
    results = await asyncio.gather(
        actions.approve_extension(people.learner, first, request, today() + timedelta(days=90), today()),
        actions.cancel(people.learner, second),
        return_exceptions=True,
    )
    winner = ("approve", "cancel")[outcome(results)]
    new = [key for key in await emails_for(connection.id) if key not in before]
    return winner, connection, new


def test_approve_extension_and_cancel_together(client: Any, people: People, mailbox: Mailbox) -> None:
    document = run(make_document(people.learner, 1))
    wins: Counter[str] = Counter()
    for _ in range(ROUNDS):
        winner, started, new_emails = run(_approve_cancel_round(people, document))
        wins[winner] += 1
        final = run(reload(started.id))
        assert final.version == started.version + 1
        states = run(
            ExtensionRequest.select(ExtensionRequest.state).where(ExtensionRequest.connection == started.id)
        )
        if winner == "approve":
            assert (final.state, final.expires_on) == ("active", today() + timedelta(days=90))
            assert states == [{"state": "approved"}]
        else:
            assert (final.state, final.expires_on) == ("cancelled", started.expires_on)
            assert states == [{"state": "withdrawn"}]
        assert len(new_emails) == 1, new_emails
        assert new_emails[0].endswith(f":{people.third_party.id}")
        close_round(started.id)
    received = receive_all(mailbox)
    assert received == Counter(
        {
            (people.third_party.email, "asked"): ROUNDS,
            (people.learner.email, "accepted"): ROUNDS,
            (people.learner.email, "extension_requested"): ROUNDS,
            (people.third_party.email, "extension_approved"): wins["approve"],
            (people.third_party.email, "cancelled"): wins["cancel"],
        }
    )


# --- through HTTP: two browsers, two threads --------------------------------------------------------


def fire_together(*requests: Any) -> list[Any]:
    """Send the requests from separate threads, released at the same moment."""
    barrier = threading.Barrier(len(requests))

    def send(request: Any) -> Any:
        barrier.wait(timeout=10)
        return request()

    with ThreadPoolExecutor(len(requests)) as pool:
        return list(pool.map(send, requests))


def poster(browser: TestClient[Litestar], path: str, token: str, htmx: bool) -> Any:
    headers = {"HX-Request": "true"} if htmx else {}
    return lambda: browser.post(path, data={"_csrf_token": token}, headers=headers, follow_redirects=False)


def won(browser: TestClient[Litestar], response: Any, connection_id: int, htmx: bool) -> bool:
    """Whether this response is the winner's; a loser must have the clear conflict answer."""
    if htmx:
        assert response.status_code in (200, 409), response.text
        notice = html(response).css_first(f"#connection-{connection_id} .notice")
        assert notice is not None
        if response.status_code == 409:
            assert notice.text(strip=True) == CONFLICT_TEXT
        return bool(response.status_code == 200)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"/connections/{connection_id}"
    page = browser.get(response.headers["location"])
    notices = [node.text(strip=True) for node in html(page).css(".notice")]
    return CONFLICT_TEXT not in notices


def logged_in(browser: TestClient[Litestar], username: str) -> str:
    log_in(browser, username)
    return csrf_token(browser, "/profile")  # tokens are bound to the session: taken after log-in


def test_accept_and_cancel_over_http(
    client: Any, other_client: Any, people: People, mailbox: Mailbox
) -> None:
    tp_token = logged_in(client, people.third_party.username)
    learner_token = logged_in(other_client, people.learner.username)
    document = run(make_document(people.learner, 1))
    wins: Counter[str] = Counter()
    for round_number in range(ROUNDS):
        htmx = round_number % 2 == 0
        started = run(
            build_connection("awaiting_third_party", people.learner, people.third_party, [document])
        )
        before = run(emails_for(started.id))
        accept, cancel = fire_together(
            poster(client, f"/connections/{started.id}/accept", tp_token, htmx),
            poster(other_client, f"/connections/{started.id}/cancel", learner_token, htmx),
        )
        accept_won = won(client, accept, started.id, htmx)
        cancel_won = won(other_client, cancel, started.id, htmx)
        assert accept_won or cancel_won, (accept.text, cancel.text)
        final = run(reload(started.id))
        new_emails = [key for key in run(emails_for(started.id)) if key not in before]
        if accept_won and cancel_won:
            # No overlap on a busy machine: the accept finished first, and cancelling an active
            # connection is allowed. Two changes, each counted once, in that order.
            assert final.state == "cancelled" and final.version == started.version + 2
            assert len(new_emails) == 2
        else:
            # They overlapped: the compare-and-set gave one winner and one clear conflict answer.
            assert final.state == ("active" if accept_won else "cancelled")
            assert final.version == started.version + 1
            assert len(new_emails) == 1
        wins["accept"] += accept_won
        wins["cancel"] += cancel_won
        close_round(started.id)
    received = receive_all(mailbox)
    assert received == Counter(
        {
            (people.third_party.email, "asked"): ROUNDS,
            (people.learner.email, "accepted"): wins["accept"],
            (people.third_party.email, "cancelled"): wins["cancel"],
        }
    )


def test_approve_extension_and_cancel_over_http(
    client: Any, other_client: Any, people: People, mailbox: Mailbox
) -> None:
    """The learner approves in one tab while the third party cancels in another."""
    learner_token = logged_in(client, people.learner.username)
    tp_token = logged_in(other_client, people.third_party.username)
    document = run(make_document(people.learner, 1))
    new_date = today() + timedelta(days=90)
    date_fields = {
        "new_expiry-day": str(new_date.day),
        "new_expiry-month": str(new_date.month),
        "new_expiry-year": str(new_date.year),
    }
    wins: Counter[str] = Counter()
    for _ in range(ROUNDS // 2):
        started = run(
            build_connection("active", people.learner, people.third_party, [document], pending_extension=True)
        )
        before = run(emails_for(started.id))
        approve, cancel = fire_together(
            lambda cid=started.id: client.post(
                f"/connections/{cid}/extension/approve",
                data={"_csrf_token": learner_token, **date_fields},
                headers={"HX-Request": "true"},
            ),
            poster(other_client, f"/connections/{started.id}/cancel", tp_token, True),
        )
        approve_won = won(client, approve, started.id, True)
        cancel_won = won(other_client, cancel, started.id, True)
        assert approve_won or cancel_won, (approve.text, cancel.text)
        final = run(reload(started.id))
        new_emails = [key for key in run(emails_for(started.id)) if key not in before]
        if approve_won and cancel_won:
            # No overlap on a busy machine: the approval finished first, and cancelling an active
            # connection is allowed. Two changes, each counted once, in that order.
            assert final.state == "cancelled" and final.version == started.version + 2
            assert len(new_emails) == 2
        else:
            # They overlapped: the compare-and-set gave one winner and one clear conflict answer.
            assert final.state == ("active" if approve_won else "cancelled")
            assert final.version == started.version + 1
            assert len(new_emails) == 1
        wins["approve"] += approve_won
        wins["cancel"] += cancel_won
        close_round(started.id)
    received = receive_all(mailbox)
    assert received[(people.third_party.email, "extension_approved")] == wins["approve"]
    assert received[(people.learner.email, "cancelled")] == wins["cancel"]


def test_double_submit_of_the_same_accept(
    client: Any, other_client: Any, people: People, mailbox: Mailbox
) -> None:
    """The same third party presses Accept twice (two tabs, or a double click without JavaScript)."""
    first_token = logged_in(client, people.third_party.username)
    second_token = logged_in(other_client, people.third_party.username)
    document = run(make_document(people.learner, 1))
    for round_number in range(ROUNDS // 2):
        htmx = round_number % 2 == 0
        started = run(
            build_connection("awaiting_third_party", people.learner, people.third_party, [document])
        )
        one, two = fire_together(
            poster(client, f"/connections/{started.id}/accept", first_token, htmx),
            poster(other_client, f"/connections/{started.id}/accept", second_token, htmx),
        )
        assert won(client, one, started.id, htmx) != won(other_client, two, started.id, htmx)
        final = run(reload(started.id))
        assert (final.state, final.version) == ("active", started.version + 1)
        assert run(emails_for(started.id)) == sorted(
            [
                f"connection:{started.id}:asked:{people.third_party.id}",
                f"connection:{started.id}:v{final.version}:{people.learner.id}",
            ]
        )
        close_round(started.id)
    received = receive_all(mailbox)
    assert received[(people.learner.email, "accepted")] == ROUNDS // 2
