"""An email change needs the current password (counted like a log-in) and tells the old address at
once, with a link that stops the change (issue 9 item 2): a stolen session alone cannot move the
account to another inbox and then reset its password from there."""

from __future__ import annotations

from src.tables.accounts import Account
from src.tables.outbox import OutboxEmail
from tests.support.client import log_in, post_form, run
from tests.support.factories import STRONG_PASSWORD, make_account
from tests.support.pages import errors_on, html, is_logged_in
from tests.support.smtp import link_in, text_of
from tests.test_profile_details import DETAILS, account_row


def change_email(client, new_email: str, password: str | None):
    data = {**DETAILS, "email": new_email}
    if password is None:
        data.pop("current_password")
    else:
        data["current_password"] = password
    return post_form(client, "/profile/details", data, token_from="/profile")


def test_changing_the_email_address_needs_the_current_password(client, mailbox):
    run(make_account(username="tess"))
    log_in(client, "tess")
    missing = change_email(client, "thief@example.com", None)
    assert missing.status_code == 422
    assert errors_on(missing) == {
        "current_password": "Enter your current password to change your email address"
    }
    wrong = change_email(client, "thief@example.com", "not-the-right-password-at-all")
    assert wrong.status_code == 422
    assert errors_on(wrong) == {"current_password": "Your current password is not right"}
    # What was typed is kept, except the password.
    assert html(wrong).css_first('input[name="email"]').attributes["value"] == "thief@example.com"
    assert html(wrong).css_first('input[name="current_password"]').attributes.get("value") is None
    row = account_row()
    assert (row["pending_email"], row["failed_logins"]) == (None, 1)  # the wrong guess counts
    assert run(OutboxEmail.count()) == 0


def test_other_details_save_without_the_password(client):
    run(make_account(username="tess"))
    log_in(client, "tess")
    data = {**DETAILS, "job_title": "Assessor"}
    data.pop("current_password")
    assert post_form(client, "/profile/details", data, token_from="/profile").status_code == 303
    assert account_row()["job_title"] == "Assessor"


def test_the_old_address_is_told_at_once_and_can_stop_the_change(client, other_client, mailbox):
    run(make_account(username="tess"))
    log_in(client, "tess")  # think of it as a stolen session
    assert change_email(client, "thief@example.com", STRONG_PASSWORD).status_code == 303
    notice = mailbox.wait_for(to="tess@example.com", subject="Your email address is about to change")
    assert "thief@example.com" in text_of(notice)
    confirm = link_in(mailbox.wait_for(to="thief@example.com", subject="Confirm"), "/profile/email/")
    stop = link_in(notice, "/email-change/stop/")

    # The owner opens the stop link in another browser: a page with a button (a GET changes nothing).
    page = other_client.get(stop)
    assert page.status_code == 200
    assert html(page).css_first("main h1").text() == "Stop the email address change"
    assert account_row()["pending_email"] == "thief@example.com"
    stopped = post_form(other_client, stop, {}, token_from=stop)
    assert stopped.status_code == 200
    assert html(stopped).css_first("main h1").text() == "The change is stopped"

    # The change is gone, the confirm link is dead, and the stolen session has ended.
    assert not is_logged_in(client)
    log_in(client, "tess")
    assert client.get(confirm, follow_redirects=False).status_code == 400
    row = account_row()
    assert (row["email"], row["pending_email"]) == ("tess@example.com", None)
    # The stop link works once.
    assert post_form(other_client, stop, {}, token_from="/login").status_code == 400


def test_a_stop_link_does_nothing_once_the_change_is_confirmed(client, mailbox):
    run(make_account(username="tess"))
    log_in(client, "tess")
    change_email(client, "new@example.com", STRONG_PASSWORD)
    stop = link_in(mailbox.wait_for(to="tess@example.com", subject="about to change"), "/email-change/stop/")
    confirm = link_in(mailbox.wait_for(to="new@example.com", subject="Confirm"), "/profile/email/")
    assert client.get(confirm, follow_redirects=False).status_code == 303
    assert client.get(stop).status_code == 400
    assert post_form(client, stop, {}, token_from="/profile").status_code == 400
    assert run(Account.select(Account.email).first())["email"] == "new@example.com"
    assert is_logged_in(client)


def test_a_tampered_stop_link_is_refused(client):
    assert client.get("/email-change/stop/not-a-real-token").status_code == 400
