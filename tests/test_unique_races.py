"""A check-then-write can lose a race to another request; the unique indexes decide, and the person
gets the same clear answer as when the check itself had caught it (never a 500)."""

from __future__ import annotations

from typing import Any

import src.accounts.registration
from src import accounts
from src.tables.accounts import Account
from src.tables.outbox import OutboxEmail
from tests.support.client import log_in, post_form, run
from tests.support.factories import STRONG_PASSWORD, make_account
from tests.support.pages import errors_on

REGISTRATION = {
    "first_name": "Rita",
    "last_name": "Race",
    "username": "rita",
    "email": "rita@example.com",
    "password": STRONG_PASSWORD,
}
TAKEN = "This user name is taken. Choose another"


async def _nobody(_: str) -> None:
    return None


async def _not_taken(_: str) -> bool:
    return False


def _once(real: Any, stand_in: Any) -> Any:
    """The stand-in answers the first call (the check that the other request beat), the real one after."""
    calls: list[int] = []

    async def check(value: str) -> Any:
        calls.append(1)
        return await (stand_in if len(calls) == 1 else real)(value)

    return check


def test_registration_that_loses_the_user_name_race_answers_like_any_registration(client, monkeypatch):
    run(make_account(username="rita", email_address="first@example.com"))
    module = src.accounts.registration
    # The other request took the name after our check.
    monkeypatch.setattr(module, "username_taken", _once(module.username_taken, _not_taken))
    response = post_form(client, "/register", REGISTRATION, token_from="/register")
    assert (response.status_code, response.headers["location"]) == (303, "/register/check-email")
    assert run(Account.count().where(Account.email == "rita@example.com")) == 0
    queued = run(OutboxEmail.select(OutboxEmail.template).where(OutboxEmail.recipient == "rita@example.com"))
    assert queued == [{"template": "username_taken"}]


def test_registration_that_loses_the_email_race_answers_like_any_registration(client, monkeypatch):
    run(make_account(username="someone", email_address="rita@example.com"))
    module = src.accounts.registration
    monkeypatch.setattr(module, "account_with_email", _once(module.account_with_email, _nobody))
    response = post_form(client, "/register", REGISTRATION, token_from="/register")
    assert response.status_code == 303
    assert response.headers["location"] == "/register/check-email"
    assert run(Account.count().where(Account.email == "rita@example.com")) == 1


def test_profile_user_name_change_that_loses_the_race_says_it_is_taken(client, monkeypatch):
    run(make_account(username="taken"))
    run(make_account(username="mover"))
    log_in(client, "mover")
    monkeypatch.setattr(accounts, "username_taken", _not_taken)
    response = post_form(
        client,
        "/profile/details",
        {"first_name": "Mo", "last_name": "Ver", "username": "taken", "email": "mover@example.com"},
        token_from="/profile",
    )
    assert response.status_code == 422
    assert errors_on(response)["username"] == TAKEN
    assert run(Account.count().where(Account.username_key == "taken")) == 1
    assert run(Account.count().where(Account.username_key == "mover")) == 1
