"""Passwords: forgotten (the same answer for everyone, a link that works once, for an hour, and dies
when the password changes), change while logged in (other sessions end, this one stays), and a
learner's first password from the activation link staff send."""

from __future__ import annotations

import re

import pytest

from src.tables.accounts import Account
from src.tables.outbox import OutboxEmail
from src.tokens import ACTIVATE_MAX_AGE, Tokens, password_fingerprint
from tests.support.client import log_in, post_form, run
from tests.support.factories import OTHER_PASSWORD, STRONG_PASSWORD, make_account
from tests.support.pages import errors_on, heading, html, is_logged_in, notices
from tests.support.smtp import link_in, text_of

NEW_PASSWORD = "amber-quiet-river-tulip"


def can_log_in(client, login: str, password: str) -> bool:
    response = post_form(client, "/login", {"login": login, "password": password})
    if response.status_code == 303:
        post_form(client, "/logout", {}, token_from="/dashboard")
        return True
    assert response.status_code == 422, response.status_code
    return False


def ask_for_reset(client, login: str):
    return post_form(client, "/forgot-password", {"login": login}, token_from="/forgot-password")


def set_password(client, path: str, password: str, htmx: bool = False):
    return post_form(client, path, {"password": password}, htmx=htmx)


# --- forgotten password ---------------------------------------------------------------------------


def test_forgot_password_page_and_fragment(client):
    page = client.get("/forgot-password")
    assert page.status_code == 200 and heading(page) == "Reset your password"
    fragment = client.get("/forgot-password", headers={"HX-Request": "true"})
    assert "<html" not in fragment.text.lower()
    assert html(fragment).css_first('form[action="/forgot-password"] input[name="login"]') is not None


def test_forgot_password_answers_the_same_for_known_and_unknown_accounts(client, tess, mailbox):
    answers = []
    for login in ("tess", "TESS@example.com", "nobody", "nobody@example.com"):
        response = ask_for_reset(client, login)
        sent = client.get(response.headers["location"])
        answers.append((response.status_code, response.headers["location"], sent.status_code, heading(sent)))
    assert len(set(answers)) == 1
    assert answers[0] == (303, "/forgot-password/sent", 200, "Check your email")
    mailbox.wait_for(to="tess@example.com", subject="Reset your password")
    recipients = {row["recipient"] for row in run(OutboxEmail.select(OutboxEmail.recipient).run())}
    assert recipients == {"tess@example.com"}


def test_forgot_password_needs_something_typed(client):
    response = ask_for_reset(client, " ")
    assert response.status_code == 422
    assert errors_on(response) == {"login": "Enter your user name or email address"}


def test_reset_link_sets_a_new_password_once(client, other_client, tess, mailbox):
    log_in(other_client, "tess")  # the same person, logged in elsewhere
    ask_for_reset(client, "tess")
    message = mailbox.wait_for(to="tess@example.com", subject="Reset your password")
    assert "60 minutes" in text_of(message) or "an hour" in text_of(message)
    link = link_in(message, "/reset-password/")

    form = client.get(link)
    assert form.status_code == 200 and heading(form) == "Choose a new password"
    assert html(form).css_first(f'form[action="{link}"] input[name="password"]') is not None

    weak = set_password(client, link, "password")
    assert weak.status_code == 422
    assert errors_on(weak) == {"password": "Enter a password of at least 15 characters"}

    done = set_password(client, link, NEW_PASSWORD)
    assert done.status_code == 303 and done.headers["location"] == "/login"
    assert "Your password has been changed. Log in with your new password." in notices(client.get("/login"))
    mailbox.wait_for(to="tess@example.com", subject="Your password has been changed")

    # The other session has ended; the old password no longer works; the new one does.
    assert not is_logged_in(other_client)
    assert not can_log_in(client, "tess", STRONG_PASSWORD)
    assert can_log_in(client, "tess", NEW_PASSWORD)

    again = client.get(link)
    assert again.status_code == 400 and heading(again) == "This link has already been used"
    assert html(again).css_first('main a[href="/forgot-password"]') is not None
    replay = set_password(
        client,
        link,
        OTHER_PASSWORD,
    )
    assert replay.status_code == 400
    assert can_log_in(client, "tess", NEW_PASSWORD)


def test_reset_link_expires_after_an_hour(client, tess, mailbox, clock_ahead):
    ask_for_reset(client, "tess")
    link = link_in(mailbox.wait_for(to="tess@example.com", subject="Reset"), "/reset-password/")
    clock_ahead.seconds = 59 * 60
    assert client.get(link).status_code == 200
    clock_ahead.seconds = 61 * 60
    expired = client.get(link)
    assert expired.status_code == 400 and heading(expired) == "This link has expired"
    assert set_password(client, link, NEW_PASSWORD).status_code == 400
    assert can_log_in(client, "tess", STRONG_PASSWORD)


def test_reset_link_dies_when_the_password_changes_another_way(client, other_client, tess, mailbox):
    log_in(client, "tess")
    ask_for_reset(other_client, "tess")
    link = link_in(mailbox.wait_for(to="tess@example.com", subject="Reset"), "/reset-password/")
    changed = post_form(
        client,
        "/profile/password",
        {"current_password": STRONG_PASSWORD, "password": NEW_PASSWORD},
        token_from="/profile/password",
    )
    assert changed.status_code == 303
    refused = other_client.get(link)
    assert refused.status_code == 400 and heading(refused) == "This link has already been used"
    assert set_password(other_client, link, OTHER_PASSWORD).status_code == 400
    assert can_log_in(other_client, "tess", NEW_PASSWORD)


def test_bad_reset_links_are_refused(client, app, tess):
    tokens = app.state.tokens
    payload = {"a": tess.id, "e": tess.email, "f": password_fingerprint(tess.password_hash, None)}
    good = tokens.sign("reset-password", payload)
    assert client.get(f"/reset-password/{good}").status_code == 200  # the control: a right link works
    bad = {
        "tampered": good[:-2] + ("AA" if not good.endswith("AA") else "BB"),
        "verify token": tokens.sign("verify-email", payload),
        "activate token": tokens.sign("activate", payload),
        "unknown key": Tokens(("k" * 48,)).sign("reset-password", payload),
    }
    for how, token in bad.items():
        response = client.get(f"/reset-password/{token}")
        assert response.status_code == 400 and heading(response) == "This link is not valid", how
        assert set_password(client, f"/reset-password/{token}", NEW_PASSWORD).status_code == 400, how
    assert can_log_in(client, "tess", STRONG_PASSWORD)


# --- change password while logged in --------------------------------------------------------------


def change_password(client, current: str, new: str, htmx: bool = False):
    return post_form(
        client,
        "/profile/password",
        {"current_password": current, "password": new},
        htmx=htmx,
        token_from="/profile/password",
    )


def test_change_password_page_needs_log_in(client):
    response = client.get("/profile/password", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/profile/password"


def test_change_password_needs_the_current_one(client, tess):
    log_in(client, "tess")
    response = change_password(client, "not-my-password-at-all", NEW_PASSWORD)
    assert response.status_code == 422
    assert errors_on(response) == {"current_password": "Your current password is not right"}
    assert html(response).css_first(".error-summary a").attributes["href"] == "#current_password"
    missing = change_password(client, "", NEW_PASSWORD)
    assert errors_on(missing) == {"current_password": "Enter your current password"}
    assert is_logged_in(client)
    assert run(OutboxEmail.count().run()) == 0
    assert can_log_in(client, "tess", STRONG_PASSWORD)


def test_change_password_refuses_a_weak_new_one(client, tess):
    log_in(client, "tess")
    for new, message in [
        ("short", "Enter a password of at least 15 characters"),
        ("123456789012345", "This password is too common. Try a few unrelated words together"),
        ("TESS@example.com", "Your password must not be your user name or email address"),
        ("Tess@Example.com.", "Your password must not be your user name or email address"),  # a dot added
        ("violet-harbour-stone-kettle", None),
    ]:
        response = change_password(client, STRONG_PASSWORD, new, htmx=True)
        if message is None:
            break
        assert response.status_code == 422, new
        assert "<html" not in response.text.lower()  # htmx gets the form alone
        assert errors_on(response) == {"password": message}, new
        assert run(OutboxEmail.count().run()) == 0
    # The control: a password that only contains the address is accepted.
    assert response.status_code == 200 and response.headers["hx-redirect"] == "/profile"


def test_change_password_ends_other_sessions_but_keeps_this_one(client, other_client, tess, mailbox):
    log_in(other_client, "tess")
    log_in(client, "tess")
    before = client.cookies.get("portal_session")
    response = change_password(client, STRONG_PASSWORD, NEW_PASSWORD)
    assert response.status_code == 303 and response.headers["location"] == "/profile"
    assert client.cookies.get("portal_session") != before  # a new id for the session that stays
    assert is_logged_in(client)
    assert not is_logged_in(other_client)
    assert "Your session ended, so you need to log in again." in notices(other_client.get("/login"))
    notice = mailbox.wait_for(to="tess@example.com", subject="Your password has been changed")
    assert "Tess" in text_of(notice)
    assert not can_log_in(other_client, "tess", STRONG_PASSWORD)
    assert can_log_in(other_client, "tess", NEW_PASSWORD)


# --- learners: staff add them, they activate from the email ---------------------------------------


@pytest.fixture
def staff_client(client):
    run(make_account(role="staff", username="sam"))
    log_in(client, "sam")
    return client


def add_learner(client, **values: str):
    data = {"first_name": "Lara", "last_name": "Learner", "email": "lara@example.com", **values}
    return post_form(client, "/staff/learners", data, token_from="/staff/learners")


def test_staff_adds_a_learner_who_activates_and_logs_in(staff_client, other_client, mailbox):
    page = staff_client.get("/staff/learners")
    assert page.status_code == 200 and heading(page) == "Learners"
    response = add_learner(staff_client)
    assert response.status_code == 303 and response.headers["location"] == "/staff/learners"
    listing = staff_client.get("/staff/learners")
    assert "Lara Learner has been added and sent an activation email." in notices(listing)
    row = [cell.text(strip=True) for cell in html(listing).css("tbody tr td")]
    assert row == ["Lara Learner", "lara@example.com", "Not yet activated"]

    message = mailbox.wait_for(to="lara@example.com", subject="ready to activate")
    username = run(Account.select(Account.username).where(Account.email == "lara@example.com").first().run())[
        "username"
    ]
    assert re.search(rf"\b{re.escape(username)}\b", text_of(message))
    link = link_in(message, "/activate/")
    # The learner cannot log in or reset a password before activating.
    assert not can_log_in(other_client, username, STRONG_PASSWORD)

    form = other_client.get(link)
    assert form.status_code == 200 and heading(form) == "Activate your account"
    assert html(form).css_first("main strong").text() == username
    weak = set_password(other_client, link, username)
    assert weak.status_code == 422 and "password" in errors_on(weak)
    done = set_password(other_client, link, NEW_PASSWORD)
    assert done.status_code == 303 and done.headers["location"] == "/login"
    assert "Your account is ready" in notices(other_client.get("/login"))[0]
    assert can_log_in(other_client, username, NEW_PASSWORD)
    assert can_log_in(other_client, "LARA@example.com", NEW_PASSWORD)

    reused = other_client.get(link)
    assert reused.status_code == 400 and heading(reused) == "This link has already been used"
    assert set_password(other_client, link, OTHER_PASSWORD).status_code == 400
    assert can_log_in(other_client, username, NEW_PASSWORD)
    status = html(staff_client.get("/staff/learners")).css("tbody tr td")[2].text(strip=True)
    assert status == "Active"


def test_activation_link_expires_after_seven_days(staff_client, other_client, mailbox, clock_ahead):
    add_learner(staff_client)
    link = link_in(mailbox.wait_for(to="lara@example.com", subject="activate"), "/activate/")
    clock_ahead.seconds = ACTIVATE_MAX_AGE + 60
    expired = other_client.get(link)
    assert expired.status_code == 400 and heading(expired) == "This link has expired"
    assert set_password(other_client, link, NEW_PASSWORD).status_code == 400


def test_adding_a_learner_with_a_used_address_is_refused(staff_client):
    run(make_account(username="lara", email_address="lara@example.com"))
    response = add_learner(staff_client, email="LARA@example.com")
    assert response.status_code == 422
    assert errors_on(response) == {"email": "An account already uses this email address"}
    assert html(response).css_first('input[name="first_name"]').attributes["value"] == "Lara"
    assert run(Account.count().run()) == 2
    assert run(OutboxEmail.count().run()) == 0


def test_adding_a_learner_with_missing_fields_is_refused(staff_client):
    response = add_learner(staff_client, first_name="", email="not-an-email")
    assert response.status_code == 422
    assert set(errors_on(response)) == {"first_name", "email"}
    assert run(Account.count().where(Account.role == "learner").run()) == 0


def test_learners_page_is_for_staff_only(client, other_client):
    anonymous = other_client.get("/staff/learners", follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/login?next=/staff/learners"
    run(make_account(role="third_party", username="tess"))
    log_in(client, "tess")
    page = client.get("/staff/learners")
    assert page.status_code == 404 and heading(page) == "Page not found"
    token = html(client.get("/dashboard")).css_first('input[name="_csrf_token"]').attributes["value"]
    post = client.post(
        "/staff/learners",
        data={
            "_csrf_token": token,
            "first_name": "Lara",
            "last_name": "Learner",
            "email": "lara@example.com",
        },
        follow_redirects=False,
    )
    assert post.status_code == 404
    assert run(Account.count().where(Account.role == "learner").run()) == 0


def test_adding_a_learner_whose_name_is_not_a_name_is_refused(staff_client):
    response = add_learner(staff_client, first_name="=SUM(A1)", last_name="Lee 3")
    assert response.status_code == 422
    errors = errors_on(response)
    assert errors["first_name"].startswith("First name must start with a letter")
    assert errors["last_name"].startswith("Last name may use only letters")
    assert run(Account.count().where(Account.role == "learner").run()) == 0
