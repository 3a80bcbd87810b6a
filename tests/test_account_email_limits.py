"""Email bombing (issue 9 item 5): forgot-password, resend-verification and registration with a known
address share one budget of emails per recipient an hour, counted first and atomically in the shared
store, and the pages answer exactly the same once it is spent, so nothing is revealed."""

from __future__ import annotations

import itertools
from collections import Counter
from typing import Any

import pytest

import src.accounts.credentials
import src.accounts.registration
import src.routes.account
from src.tables.outbox import OutboxEmail
from src.throttle import EMAILS_PER_RECIPIENT
from tests.support.client import run
from tests.support.factories import STRONG_PASSWORD, make_account
from tests.support.pages import csrf_token
from tests.test_account_limits import fire_together

NINA = "nina@example.com"


@pytest.fixture(autouse=True)
def every_request_in_its_own_minute(monkeypatch: pytest.MonkeyPatch) -> None:
    """The outbox folds repeats within one minute into one email; an attacker spreads them over the
    hour. Each request here gets its own "minute", as if sent a minute apart."""
    minutes = itertools.count()
    for module in (src.accounts.credentials, src.accounts.registration):
        monkeypatch.setattr(module, "minute_key", lambda: f"m{next(minutes)}")


def _form(client: Any, token: str, path: str, data: dict[str, str]) -> Any:
    return lambda: client.post(path, data={"_csrf_token": token, **data}, follow_redirects=False)


def _registration(email_address: str, username: str) -> dict[str, str]:
    return {
        "first_name": "Mallory",
        "last_name": "Sender",
        "username": username,
        "email": email_address,
        "password": STRONG_PASSWORD,
    }


def test_simultaneous_forms_from_every_flow_send_at_most_ten_emails_to_one_person(client, mailbox):
    # Unverified, with a password: each of the three forms would email her.
    run(make_account(username="nina", email_address=NINA, verified=False))
    token = csrf_token(client, "/login")
    requests = (
        [_form(client, token, "/forgot-password", {"login": NINA}) for _ in range(6)]
        + [_form(client, token, "/verify-email/resend", {"email": NINA}) for _ in range(6)]
        + [_form(client, token, "/register", _registration(NINA, f"mallory{n}")) for n in range(6)]
    )
    answers = fire_together(*requests)
    # Every answer is the ordinary one: the page says nothing about a budget being spent.
    assert all(a.status_code == 303 for a in answers), [a.status_code for a in answers]
    assert Counter(a.headers["location"] for a in answers) == Counter(
        {"/forgot-password/sent": 6, "/register/check-email": 12}
    )
    queued = run(OutboxEmail.count().where(OutboxEmail.recipient == NINA))
    assert queued == EMAILS_PER_RECIPIENT
    received = [mailbox.wait_for(to=NINA) for _ in range(EMAILS_PER_RECIPIENT)]
    assert len(received) == EMAILS_PER_RECIPIENT


def test_once_the_budget_is_spent_the_answer_is_the_same_as_for_an_unknown_address(client, monkeypatch):
    # As if from rotating addresses: the per-address limit on the form never bites.
    monkeypatch.setattr(src.routes.account, "EMAIL_FORM_LIMIT", 1000)
    run(make_account(username="nina", email_address=NINA))
    token = csrf_token(client, "/forgot-password")
    for _ in range(EMAILS_PER_RECIPIENT):
        _form(client, token, "/forgot-password", {"login": "nina"})()
    # Rotating addresses would not help: the budget is the recipient's. Same answer, no email.
    capped = _form(client, token, "/forgot-password", {"login": NINA})()
    unknown = _form(client, token, "/forgot-password", {"login": "nobody@example.com"})()
    assert (capped.status_code, capped.headers["location"]) == (
        unknown.status_code,
        unknown.headers["location"],
    )
    assert run(OutboxEmail.count().where(OutboxEmail.recipient == NINA)) == EMAILS_PER_RECIPIENT
