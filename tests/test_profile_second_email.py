"""A second email address (issue 22 item 5): added with the current password and confirmed by a link
sent to it; sign in and reset the password with either address; security notices go to both; either
can be the main one; it can be removed. An address belongs to one account only, main or second, also
under parallel requests on both engines, and asking for someone else's address answers as for a free
one while that person is emailed instead."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from src import accounts, connections
from src.db import unique_violation
from src.errors import Refused
from src.tables.accounts import Account, EmailAddress, Role
from src.tables.connections import Connection
from src.tables.documents import Document
from src.tables.outbox import OutboxEmail
from src.tokens import TokenError
from tests.support.client import log_in, post_form, run
from tests.support.clocks import today
from tests.support.document_staff_fixtures import row as import_row
from tests.support.document_staff_fixtures import staff_client
from tests.support.factories import (
    OTHER_PASSWORD,
    STRONG_PASSWORD,
    make_account,
    make_document,
    with_fast_password,
)
from tests.support.imports import confirm, csv_bytes, outcomes, upload
from tests.support.pages import errors_on, html, is_logged_in, notices
from tests.support.smtp import assert_no_more_mail, link_in, text_of
from tests.support.two_step import code_at, enrol, key_of, step_now
from tests.test_connections_concurrency import fire_together

ADD = "/profile/second-email"
CONFIRM = "/profile/second-email/confirm/"


def person(username: str, role: str = "learner", **extra: Any) -> Account:
    account = run(make_account(role, username, password=None, **extra))
    run(with_fast_password(account))
    return account  # type: ignore[no-any-return]


def row(username: str) -> dict[str, Any]:
    return run(Account.select().where(Account.username_key == username).first().run())  # type: ignore[no-any-return]


def holders(email: str) -> list[int]:
    """The accounts holding an address, by their EmailAddress rows and by either Account column."""
    claimed = run(EmailAddress.select(EmailAddress.account).where(EmailAddress.email == email).run())
    columns = run(
        Account.select(Account.id).where((Account.email == email) | (Account.second_email == email)).run()
    )
    return sorted({r["account"] for r in claimed} | {r["id"] for r in columns})


def add(client: Any, email: str, password: str | None = STRONG_PASSWORD, htmx: bool = False) -> Any:
    data = {"second_email": email}
    if password is not None:
        data["password_for_second"] = password
    return post_form(client, ADD, data, htmx=htmx, token_from="/profile")


def added(client: Any, mailbox: Any, email: str) -> str:
    """Ask for `email` and return the confirm link that arrives there."""
    assert add(client, email).status_code == 303
    return link_in(mailbox.wait_for(to=email, subject="Confirm your second email address"), CONFIRM)


def with_second(client: Any, mailbox: Any, username: str, email: str, **extra: Any) -> Account:
    account = person(username, **extra)
    log_in(client, username)
    assert client.get(added(client, mailbox, email), follow_redirects=False).status_code == 303
    mailbox.drain()
    return account


def test_adding_needs_the_current_password_which_counts_like_a_log_in(client):
    person("lena")
    log_in(client, "lena")
    missing = add(client, "lena.home@example.com", None)
    assert missing.status_code == 422
    assert errors_on(missing) == {
        "password_for_second": "Enter your current password to add an email address"
    }
    wrong = add(client, "lena.home@example.com", OTHER_PASSWORD)
    assert wrong.status_code == 422
    assert errors_on(wrong) == {"password_for_second": "Your current password is not right"}
    page = html(wrong)
    assert page.css_first('input[name="second_email"]').attributes["value"] == "lena.home@example.com"
    assert page.css_first('input[name="password_for_second"]').attributes.get("value") is None
    assert (row("lena")["pending_second_email"], row("lena")["failed_logins"]) == (None, 1)
    assert run(OutboxEmail.count().run()) == 0


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ("", "Enter your email address"),
        ("not an address", "Enter an email address in the correct format, like name@example.com"),
        ("LENA@example.com", "This is already your main email address"),
        ("x" * 250 + "@example.com", "Enter an email address in the correct format, like name@example.com"),
    ],
)
def test_a_bad_address_is_refused_beside_its_field_before_the_password_is_checked(client, typed, error):
    person("lena")
    log_in(client, "lena")
    response = add(client, typed, OTHER_PASSWORD)
    assert response.status_code == 422
    assert errors_on(response) == {"second_email": error}
    assert row("lena")["failed_logins"] == 0  # a typo costs no password attempt


def test_add_confirm_then_sign_in_and_reset_with_it(client, other_client, mailbox):
    lena = person("lena")
    log_in(client, "lena")
    response = add(client, "Lena.Home@Example.com")
    assert (response.status_code, response.headers["location"]) == (303, "/profile#second-email")
    shown = client.get("/profile")
    assert "We have sent a link to lena.home@example.com" in " ".join(notices(shown))
    section = html(shown).css_first("#second-email")
    assert "Waiting for you to open the link we sent to lena.home@example.com" in section.text()

    told = mailbox.wait_for(to=lena.email, subject="A second email address is being added")
    assert "lena.home@example.com" in text_of(told)
    link = link_in(mailbox.wait_for(to="lena.home@example.com", subject="Confirm your second"), CONFIRM)
    opened = client.get(link, follow_redirects=False)
    assert (opened.status_code, opened.headers["location"]) == (303, "/profile#second-email")
    assert (row("lena")["second_email"], row("lena")["pending_second_email"]) == (
        "lena.home@example.com",
        None,
    )
    assert holders("lena.home@example.com") == [lena.id]
    for address in (lena.email, "lena.home@example.com"):
        mailbox.wait_for(to=address, subject="A second email address was added")
    assert client.get(link, follow_redirects=False).status_code == 400  # the link works once

    log_in(other_client, "LENA.HOME@example.com")
    assert is_logged_in(other_client)

    mailbox.drain()
    post_form(other_client, "/logout", {}, token_from="/dashboard")
    sent = post_form(other_client, "/forgot-password", {"login": "lena.home@example.com"})
    assert sent.status_code == 303
    reset = link_in(mailbox.wait_for(to="lena.home@example.com", subject="Reset"), "/reset-password/")
    assert_no_more_mail(mailbox, lena.email)  # the link goes to the address typed
    done = post_form(other_client, reset, {"password": OTHER_PASSWORD}, token_from=reset)
    assert done.status_code == 303
    for address in (lena.email, "lena.home@example.com"):
        mailbox.wait_for(to=address, subject="Your password has been changed")


def test_a_reset_asked_by_user_name_goes_to_the_main_address(client, mailbox):
    lena = with_second(client, mailbox, "lena", "lena.home@example.com")
    post_form(client, "/forgot-password", {"login": "lena"})
    mailbox.wait_for(to=lena.email, subject="Reset")
    assert_no_more_mail(mailbox, "lena.home@example.com")


def test_security_notices_go_to_both_addresses(client, mailbox):
    lena = with_second(client, mailbox, "lena", "lena.home@example.com")
    changed = post_form(
        client,
        "/profile/password",
        {"current_password": STRONG_PASSWORD, "password": OTHER_PASSWORD},
        token_from="/profile/password",
    )
    assert changed.status_code == 303
    for address in (lena.email, "lena.home@example.com"):
        mailbox.wait_for(to=address, subject="Your password has been changed")

    details = {"first_name": "Lena", "last_name": "Tester", "username": "lena"}
    asked = post_form(
        client,
        "/profile/details",
        {**details, "email": "lena.new@example.com", "current_password": OTHER_PASSWORD},
        token_from="/profile",
    )
    assert asked.status_code == 303
    for address in (lena.email, "lena.home@example.com"):
        mailbox.wait_for(to=address, subject="Your email address is about to change")
    confirm = link_in(mailbox.wait_for(to="lena.new@example.com", subject="Confirm"), "/profile/email/")
    assert client.get(confirm, follow_redirects=False).status_code == 303
    for address in (lena.email, "lena.home@example.com"):
        mailbox.wait_for(to=address, subject="Your email address has been changed")
    # The main address moved: the old one is free again, the new one is Lena's.
    assert holders(lena.email) == []
    assert holders("lena.new@example.com") == [lena.id]


def test_make_the_second_address_the_main_one(client, other_client, mailbox):
    lena = with_second(client, mailbox, "lena", "lena.home@example.com")
    response = post_form(client, "/profile/second-email/main", {}, token_from="/profile")
    assert (response.status_code, response.headers["location"]) == (303, "/profile#second-email")
    assert (row("lena")["email"], row("lena")["second_email"]) == ("lena.home@example.com", lena.email)
    page = client.get("/profile")
    assert html(page).css_first('input[name="email"]').attributes["value"] == "lena.home@example.com"
    assert "lena.home@example.com is now your main email address." in notices(page)
    for address in (lena.email, "lena.home@example.com"):
        mailbox.wait_for(to=address, subject="Your email address has been changed")
    for login in (lena.email, "lena.home@example.com"):
        log_in(other_client, login)


def test_remove_the_second_address_frees_it(client, other_client, mailbox):
    lena = with_second(client, mailbox, "lena", "lena.home@example.com")
    response = post_form(client, "/profile/second-email/remove", {}, htmx=True, token_from="/profile")
    assert response.status_code == 200
    section = html(response).css_first("section#second-email")
    assert section is not None and "Your second email address is removed." in section.text()
    assert section.css_first('input[name="second_email"]') is not None  # the form to add one again
    assert row("lena")["second_email"] is None
    assert holders("lena.home@example.com") == []
    for address in (lena.email, "lena.home@example.com"):
        mailbox.wait_for(to=address, subject="Your second email address was removed")
    refused = post_form(
        other_client, "/login", {"login": "lena.home@example.com", "password": STRONG_PASSWORD}
    )
    assert refused.status_code != 303
    # Free again: someone else may now make it theirs.
    mailbox.drain()
    with_second(other_client, mailbox, "olga", "lena.home@example.com")
    assert holders("lena.home@example.com") == [row("olga")["id"]]


def _section_text(response: Any) -> str:
    return " ".join(html(response).css_first("section#second-email").text().split())


@pytest.mark.parametrize("held_as", ["main", "second"])
def test_someone_elses_address_answers_like_a_free_one_and_emails_them(
    client, other_client, mailbox, held_as
):
    if held_as == "main":
        owner = person("olga", email_address="olga@example.com")
    else:
        owner = with_second(
            other_client, mailbox, "olga", "olga@example.com", email_address="olga.work@example.com"
        )
    person("lena")
    log_in(client, "lena")
    taken = add(client, "olga@example.com", htmx=True)
    free = add(client, "free@example.com", htmx=True)
    assert (taken.status_code, free.status_code) == (200, 200)
    assert _section_text(taken).replace("olga@example.com", "X") == _section_text(free).replace(
        "free@example.com", "X"
    )
    notice = mailbox.wait_for(to="olga@example.com", subject="Someone tried to add your email address")
    assert "Hello Olga" in text_of(notice)
    assert "/profile/second-email/confirm/" not in text_of(notice)
    mailbox.wait_for(to="free@example.com", subject="Confirm your second email address")
    assert holders("olga@example.com") == [owner.id]
    assert row("lena")["second_email"] is None


def test_someone_elses_link_or_a_tampered_one_is_refused(client, other_client, mailbox):
    person("lena")
    log_in(client, "lena")
    link = added(client, mailbox, "lena.home@example.com")
    person("olga")
    log_in(other_client, "olga")
    # The link names Lena's account: whoever opens it, only Lena's pending address can be confirmed.
    assert other_client.get(link + "x", follow_redirects=False).status_code == 400
    assert row("olga")["second_email"] is None
    # A later request replaces the earlier one: its link dies.
    later = added(client, mailbox, "lena.other@example.com")
    assert client.get(link, follow_redirects=False).status_code == 400
    assert client.get(later, follow_redirects=False).status_code == 303
    assert row("lena")["second_email"] == "lena.other@example.com"


def test_registration_with_a_second_address_makes_no_account(client, other_client, mailbox):
    with_second(other_client, mailbox, "lena", "lena.home@example.com")
    response = post_form(
        client,
        "/register",
        {
            "first_name": "Rita",
            "last_name": "Race",
            "username": "rita",
            "email": "lena.home@example.com",
            "password": STRONG_PASSWORD,
        },
        token_from="/register",
    )
    assert (response.status_code, response.headers["location"]) == (303, "/register/check-email")
    assert run(Account.count().where(Account.username_key == "rita").run()) == 0
    mailbox.wait_for(to="lena.home@example.com", subject="already")


def test_the_main_address_cannot_move_to_ones_own_second_address(client, mailbox):
    with_second(client, mailbox, "lena", "lena.home@example.com")
    response = post_form(
        client,
        "/profile/details",
        {
            "first_name": "Lena",
            "last_name": "Tester",
            "username": "lena",
            "email": "lena.home@example.com",
            "current_password": STRONG_PASSWORD,
        },
        token_from="/profile",
    )
    assert response.status_code == 422
    assert errors_on(response)["email"].startswith("This is already your second email address")


def test_deleting_the_account_frees_both_addresses_and_tells_both(client, mailbox):
    lena = with_second(client, mailbox, "lena", "lena.home@example.com")
    deleted = post_form(
        client, "/profile/delete", {"password": STRONG_PASSWORD}, token_from="/profile/delete"
    )
    assert deleted.status_code == 303
    for address in (lena.email, "lena.home@example.com"):
        mailbox.wait_for(to=address, subject="deleted")
        assert holders(address) == []


# --- one account per address, whoever asks at the same moment --------------------------------------


async def _pending(tokens: Any, username: str, email: str) -> str:
    account = await make_account("learner", username, password=None)
    await Account.update({Account.pending_second_email: email}).where(Account.id == account.id)
    return tokens.sign("second-email", {"a": account.id, "e": email})


async def _race(tokens: Any, email: str, round_number: int) -> list[Any]:
    links = [await _pending(tokens, f"racer{round_number}x{n}", email) for n in range(6)]
    mover = await make_account("third_party", f"mover{round_number}", password=None)
    await Account.update({Account.pending_email: email}).where(Account.id == mover.id)
    move = tokens.sign("change-email", {"a": mover.id, "old": mover.email, "e": email})

    async def attempt(work: Any) -> Any:
        try:
            return await work
        except TokenError as exc:
            return exc

    async def nothing(_: Account) -> None:
        return None

    newcomer = accounts.NewAccount(
        Role.third_party, f"newcomer{round_number}", email, "New", "Comer", verified=True
    )
    works = [
        *(accounts.confirm_second_email(tokens, link) for link in links),
        accounts.confirm_email_change(tokens, move, on_verified=nothing),
        accounts.create_account(newcomer, "not-a-real-hash"),
    ]
    return await asyncio.gather(*(attempt(work) for work in works), return_exceptions=True)


def test_one_account_per_address_under_parallel_requests(client, app):
    tokens = app.state.tokens
    for round_number in range(5):
        email = f"contested{round_number}@example.com"
        results = run(_race(tokens, email, round_number))
        winners = [r for r in results if isinstance(r, Account)]
        assert len(winners) == 1, results
        for loser in results:
            if not isinstance(loser, Account):  # a used-up link, or the unique row's refusal
                assert isinstance(loser, TokenError) or unique_violation(loser) == "email", loser
        assert holders(email) == [winners[0].id]


def test_two_browsers_confirming_one_address_at_once(client, other_client, mailbox):
    person("lena")
    person("olga")
    log_in(client, "lena")
    log_in(other_client, "olga")
    first = added(client, mailbox, "shared@example.com")
    second = added(other_client, mailbox, "shared@example.com")
    answers = fire_together(
        lambda: client.get(first, follow_redirects=False),
        lambda: other_client.get(second, follow_redirects=False),
    )
    assert sorted(r.status_code for r in answers) == [303, 400]
    assert len(holders("shared@example.com")) == 1


# --- a second address finds its account wherever an address is typed -------------------------------


def test_a_csv_import_to_a_second_address_issues_to_its_account(client, other_client, mailbox):
    lena = with_second(other_client, mailbox, "lena", "lena.home@example.com")
    staff_client(client)
    checked = upload(client, csv_bytes([import_row(learner_email="lena.home@example.com")]))
    assert [outcome for _, outcome in outcomes(checked)] == ["New"]
    assert confirm(client, checked).status_code == 303
    [document] = run(Document.objects().run())
    assert document.owner == lena.id
    assert run(Account.count().where(Account.role == "learner").run()) == 1  # no second account made


def test_a_request_waiting_for_the_address_becomes_the_learners_when_she_adds_it(client, mailbox):
    tess = person("tess", role="third_party", company_name="Acme Care")
    waiting = run(connections.add_connection(tess, "lena.home@example.com", "Please connect.", today()))
    assert waiting.learner is None
    lena = with_second(client, mailbox, "lena", "lena.home@example.com")
    assert run(Connection.select(Connection.learner).where(Connection.id == waiting.id).first().run()) == {
        "learner": lena.id
    }


def test_htmx_refusal_answers_422_with_the_section_alone(client):
    person("lena")
    log_in(client, "lena")
    response = add(client, "lena@example.com", htmx=True)
    assert response.status_code == 422
    page = html(response)
    assert page.css_first("main") is None  # the fragment, not the page
    assert page.css_first("section#second-email #second_email-error") is not None


def test_cancelling_an_address_that_waits_kills_its_link(client, mailbox):
    person("lena")
    log_in(client, "lena")
    link = added(client, mailbox, "lena.home@example.com")
    cancelled = post_form(client, "/profile/second-email/remove", {}, token_from="/profile")
    assert cancelled.status_code == 303
    assert "The address is no longer waiting: its link no longer works." in notices(client.get("/profile"))
    assert row("lena")["pending_second_email"] is None
    assert client.get(link, follow_redirects=False).status_code == 400
    assert row("lena")["second_email"] is None


# --- step-up: a change of a sign-in address needs a recent step -------------------------------------

STALE = 16  # minutes since the log-in: beyond the 15 a step-up counts for


def test_making_it_main_or_removing_it_with_a_stale_session_asks_for_the_password(client, mailbox, clock):
    with_second(client, mailbox, "lena", "lena.home@example.com")
    clock.minutes = STALE
    section = html(client.get("/profile")).css_first("section#second-email")
    assert section.css_first("input#step_up_password-second") is not None
    for path in ("/profile/second-email/main", "/profile/second-email/remove"):
        refused = post_form(client, path, {}, token_from="/profile")
        assert refused.status_code == 422
        assert errors_on(refused) == {
            "step_up_password-second": "To do this, first confirm it is you: enter your password"
        }
    assert (row("lena")["email"], row("lena")["second_email"]) == (
        "lena@example.com",
        "lena.home@example.com",
    )
    refused = post_form(
        client, "/profile/second-email/remove", {"step_up_password": OTHER_PASSWORD}, htmx=True
    )
    assert refused.status_code == 422
    assert html(refused).css_first("section#second-email #step_up_password-second-error") is not None
    done = post_form(client, "/profile/second-email/main", {"step_up_password": STRONG_PASSWORD})
    assert done.status_code == 303
    assert row("lena")["email"] == "lena.home@example.com"


def test_adding_with_two_step_on_and_a_stale_session_needs_a_code_too(client, mailbox, clock):
    lena = person("lena")
    run(enrol(lena))
    log_in(client, "lena")
    clock.minutes = STALE
    refused = add(client, "lena.home@example.com")
    assert refused.status_code == 422 and "step_up_code-second" in errors_on(refused)
    assert row("lena")["pending_second_email"] is None
    done = post_form(
        client,
        ADD,
        {
            "second_email": "lena.home@example.com",
            "password_for_second": STRONG_PASSWORD,
            "step_up_code": code_at(key_of("lena"), step_now() + 1),
        },
    )
    assert done.status_code == 303
    mailbox.wait_for(to="lena.home@example.com", subject="Confirm your second email address")


def test_staff_have_no_second_address(client):
    person("sam", role="staff")
    log_in(client, "sam")
    assert html(client.get("/profile")).css_first("#second-email") is None
    assert add(client, "sam.home@example.com").status_code == 404


@pytest.mark.parametrize("typed", ["lena\x00@example.com", "é" * 5000 + "@example.com", "@", "a@b@c.d"])
def test_strange_input_is_refused_beside_the_field_never_a_500(client, typed):
    person("lena")
    log_in(client, "lena")
    response = add(client, typed)
    assert response.status_code in (400, 422), response.status_code
    assert row("lena")["pending_second_email"] is None


def test_after_an_htmx_change_the_message_takes_focus(client, mailbox):
    person("lena")
    log_in(client, "lena")
    response = add(client, "lena.home@example.com", htmx=True)
    notice = html(response).css_first("section#second-email .notice")
    assert notice is not None and "autofocus" in notice.attributes and notice.attributes["tabindex"] == "-1"


def test_sharing_with_a_second_address_reaches_its_account_once(client, other_client, mailbox):
    lena = with_second(client, mailbox, "lena", "lena.home@example.com")
    tess = with_second(
        other_client, mailbox, "tess", "tess.home@example.com", role="third_party", company_name="Acme Care"
    )
    lena, tess = run(Account.by_id(lena.id)), run(Account.by_id(tess.id))  # as a request loads them
    document = run(make_document(lena, 1))
    day = today()
    with pytest.raises(Refused, match="not your own"):
        run(connections.share(lena, "lena.home@example.com", [document.id], day + timedelta(days=30), day))
    shared = run(
        connections.share(lena, "TESS.HOME@example.com", [document.id], day + timedelta(days=30), day)
    )
    assert shared.third_party == tess.id
    with pytest.raises(Refused, match="already share"):
        run(connections.share(lena, "tess@example.com", [document.id], day + timedelta(days=30), day))
    with pytest.raises(Refused, match="not your own"):
        run(connections.add_connection(tess, "tess.home@example.com", "Hello", day))
