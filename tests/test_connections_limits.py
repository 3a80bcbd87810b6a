"""Limits on connections (issue 9 items 4, 5 and 11): one open connection between two people, decided
by the database's unique index however many requests race (on both engines); a cap on shares (and so
invitations) per learner per day; at most 3 extension requests per connection a day, and none once
access has ended."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from src import connections as actions
from src.errors import Refused
from src.routes.sharing import SHARES_PER_DAY
from src.tables.connections import Connection, ExtensionRequest
from src.tables.outbox import OutboxEmail
from tests.support.client import log_in, post_form, run
from tests.support.connection_fixtures import (
    People,
    build_connection,
    make_document,
    prepare_people,
    reload,
    today,
)
from tests.support.pages import csrf_token, errors_on
from tests.test_account_limits import fire_together

ALREADY = "You already have a request waiting or an active connection with this learner"


@pytest.fixture
def people(client: Any) -> People:
    return run(prepare_people())  # type: ignore[no-any-return]


async def _gathered(*coroutines: Any) -> list[Any]:
    return await asyncio.gather(*coroutines, return_exceptions=True)


def test_ten_simultaneous_add_connection_requests_make_one_connection_and_one_email(
    people: People, mailbox: Any
) -> None:
    results = run(
        _gathered(
            *[
                actions.add_connection(people.third_party, people.learner.email, "Hi", today())
                for _ in range(10)
            ]
        )
    )
    made = [r for r in results if isinstance(r, Connection)]
    refused = [r for r in results if isinstance(r, Refused)]
    assert len(made) == 1 and len(refused) == 9, results
    assert {(str(r), r.field) for r in refused} == {(ALREADY, "email")}
    assert run(Connection.count()) == 1
    assert run(OutboxEmail.count()) == 1
    mailbox.wait_for(to=people.learner.email)
    assert mailbox.received.empty()


def test_ten_simultaneous_add_connection_posts_give_one_connection_and_the_normal_answer(
    client: Any, people: People, mailbox: Any
) -> None:
    log_in(client, "tara")
    token = csrf_token(client, "/connections/new")
    data = {"_csrf_token": token, "email": people.learner.email, "message": "Hi"}
    answers = fire_together(
        *[lambda: client.post("/connections/new", data=data, follow_redirects=False)] * 10
    )
    assert sorted(a.status_code for a in answers) == [303] + [422] * 9
    assert all(errors_on(a) == {"email": ALREADY} for a in answers if a.status_code == 422)
    assert run(Connection.count()) == 1
    mailbox.wait_for(to=people.learner.email)
    assert mailbox.received.empty()


def test_simultaneous_shares_with_one_person_make_one_connection(people: People, mailbox: Any) -> None:
    document = run(make_document(people.learner, 1))
    until = today() + timedelta(days=30)
    results = run(
        _gathered(
            *[
                actions.share(people.learner, people.third_party.email, [document.id], until, today())
                for _ in range(10)
            ]
        )
    )
    assert sum(isinstance(r, Connection) for r in results) == 1
    assert all(
        isinstance(r, Refused) and r.field == "email" for r in results if not isinstance(r, Connection)
    )
    assert run(Connection.count()) == 1
    assert run(OutboxEmail.count()) == 1


@pytest.mark.parametrize("ending", ["declined", "cancelled", "expired"])
def test_a_new_request_is_possible_once_the_open_one_has_ended(people: People, ending: str) -> None:
    document = run(make_document(people.learner, 1))
    first = run(build_connection(ending, people.learner, people.third_party, [document]))
    again = run(actions.add_connection(people.third_party, people.learner.email, "Again", today()))
    assert again.id != first.id
    assert run(reload(again.id)).open_pair is not None
    assert run(reload(first.id)).open_pair is None or ending == "expired"
    # and the database still refuses a second open one
    with pytest.raises(Refused):
        run(actions.add_connection(people.third_party, people.learner.email, "Third", today()))


# --- shares (and so invitations) per learner per day -------------------------------------------------


def test_a_learner_can_share_at_most_so_many_times_a_day(client: Any, people: People) -> None:
    document = run(make_document(people.learner, 1))
    log_in(client, "lena")
    token = csrf_token(client, "/share")
    until = today() + timedelta(days=10)

    def share_with(number: int) -> Any:
        data = {
            "_csrf_token": token,
            "email": f"stranger{number}@example.com",
            "documents": str(document.id),
            "expires_on-day": str(until.day),
            "expires_on-month": str(until.month),
            "expires_on-year": str(until.year),
        }
        return lambda: client.post("/share", data=data, follow_redirects=False)

    answers = fire_together(*[share_with(n) for n in range(SHARES_PER_DAY + 5)])
    assert sorted(a.status_code for a in answers) == [303] * SHARES_PER_DAY + [429] * 5
    assert run(OutboxEmail.count().where(OutboxEmail.template == "invite_third_party")) == SHARES_PER_DAY


# --- extension requests ------------------------------------------------------------------------------


def test_no_more_than_three_extension_requests_a_day(people: People) -> None:
    document = run(make_document(people.learner, 1))
    connection = run(build_connection("active", people.learner, people.third_party, [document]))
    for number in range(3):
        connection = run(reload(connection.id))
        request = run(
            actions.request_extension(
                people.third_party, connection, today() + timedelta(days=40 + number), "Please", today()
            )
        )
        run(actions.decline_extension(people.learner, run(reload(connection.id)), request))
    with pytest.raises(Refused, match="3 times on this connection today"):
        run(
            actions.request_extension(
                people.third_party, run(reload(connection.id)), today() + timedelta(days=50), "", today()
            )
        )
    assert run(ExtensionRequest.count()) == 3


def test_no_extension_request_once_access_has_ended(client: Any, people: People) -> None:
    document = run(make_document(people.learner, 1))
    connection = run(build_connection("expired", people.learner, people.third_party, [document]))
    log_in(client, "tara")
    path = f"/connections/{connection.id}/extension"
    wanted = today() + timedelta(days=20)
    response = post_form(
        client,
        path,
        {
            "wanted_until-day": str(wanted.day),
            "wanted_until-month": str(wanted.month),
            "wanted_until-year": str(wanted.year),
        },
        token_from="/dashboard",
    )
    assert response.status_code == 422
    message = errors_on(response)["wanted_until"]
    assert message.startswith("Access through this connection has ended")
    assert "The learner can share their documents with you again" in message
    assert run(ExtensionRequest.count()) == 0
