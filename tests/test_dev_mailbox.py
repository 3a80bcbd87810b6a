"""The development mailbox: every email readable in the app, its links clickable; absent in
production. With MAIL_DELIVERY=mailbox the worker keeps mail there instead of using SMTP."""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from src.app import create_app
from src.mail import send_due
from src.settings import new_signing_key
from src.tables.accounts import Account
from src.tables.outbox import OutboxEmail
from tests.support.client import make_settings, post_form, run
from tests.support.environment import free_port
from tests.support.factories import STRONG_PASSWORD, make_account
from tests.support.outbox import queue, row_for, stop_when_idle, wait_until
from tests.support.pages import html
from tests.support.smtp import assert_no_more_mail, link_in

PRODUCTION_KEYS = "k" * 40 + "," + "m" * 40


def register(client: TestClient[Litestar], username: str = "tara", first_name: str = "Tara") -> None:
    response = post_form(
        client,
        "/register",
        {
            "first_name": first_name,
            "last_name": "Patel",
            "username": username,
            "email": f"{username}@example.com",
            "password": STRONG_PASSWORD,
        },
        token_from="/register",
    )
    assert response.status_code == 303, response.text


def account(username: str) -> Account:
    found = run(Account.objects().where(Account.username_key == username).first().run())
    assert found is not None
    return found


def test_mailbox_lists_the_email_and_its_link_verifies_the_account(client, mailbox):
    register(client)
    sent = mailbox.wait_for(to="tara@example.com", subject="Verify your email address")

    listing = client.get("/dev/mailbox")
    assert listing.status_code == 200
    entries = html(listing).css("ul.rows li")
    assert len(entries) == 1
    assert "tara@example.com" in entries[0].text()
    opener = entries[0].css_first("a")
    assert opener.text(strip=True) == "Verify your email address"

    page = client.get(opener.attributes["href"])
    assert page.status_code == 200
    assert html(page).css_first("h1").text(strip=True) == "Verify your email address"
    links = [a.attributes["href"] for a in html(page).css(".mail-body a")]
    verify_links = [href for href in links if href.startswith("/verify-email/")]
    assert verify_links == [link_in(sent, "/verify-email/")]  # the path, same link as the email
    assert account("tara").email_verified_at is None

    followed = client.get(verify_links[0], follow_redirects=False)

    assert followed.status_code == 303 and followed.headers["location"] == "/login"
    assert account("tara").email_verified_at is not None


def test_mailbox_escapes_what_people_typed(client, mailbox):
    # A name from before the name rule (forms refuse markup in names now), in a reset email.
    run(make_account(username="mallory", email_address="mallory@example.com", first_name="<b>Mal</b>"))
    post_form(client, "/forgot-password", {"login": "mallory"}, token_from="/forgot-password")
    mailbox.wait_for(to="mallory@example.com")
    mail_id = run(OutboxEmail.select(OutboxEmail.id).first().run())["id"]

    page = client.get(f"/dev/mailbox/{mail_id}")

    assert page.status_code == 200
    body = html(page).css_first(".mail-body")
    assert body.css("b") == []
    assert "<b>Mal</b>" in body.text()


def test_unknown_mail_is_not_found(client):
    assert client.get("/dev/mailbox/999999").status_code == 404


PRODUCTION = {
    "portal_mode": "production",
    "secret_keys": PRODUCTION_KEYS,
    "signing_keys": new_signing_key(),
    "base_url": "https://portal.example.test",
    "allowed_hosts": "testserver.local",
}


@pytest.mark.parametrize("settings", [PRODUCTION], indirect=True)
def test_production_has_no_mailbox(settings, client):
    assert not settings.development
    queue("someone@example.com")
    mail_id = row_for("someone@example.com").id

    assert client.get("/login").status_code == 200  # the app itself answers
    assert client.get("/dev/mailbox").status_code == 404
    assert client.get(f"/dev/mailbox/{mail_id}").status_code == 404


def test_mailbox_delivery_marks_mail_sent_without_smtp(smtp_server, mailbox):
    # Nothing listens on this port: any SMTP attempt would fail and leave the row pending.
    settings = make_settings(free_port(), mail_delivery="mailbox", run_mail_worker="false")
    queue("kept@example.com")

    assert run(send_due(create_app(settings).template_engine, settings)) == 1

    row = row_for("kept@example.com")
    assert (row.state, row.attempts, row.last_error) == ("sent", 1, "")
    assert_no_more_mail(mailbox, "kept@example.com")


# Nothing listens on the SMTP port: any SMTP attempt would fail and leave the row pending. The
# app's own mail worker runs: what is checked is the app as `make run` serves it.
@pytest.mark.parametrize(
    "settings",
    [{"mail_delivery": "mailbox", "smtp_port": free_port(), "run_mail_worker": "true"}],
    indirect=True,
)
def test_app_with_mailbox_delivery_keeps_mail_on_the_mailbox_page(settings, client, mailbox):
    register(client, username="mona", first_name="Mona")
    wait_until(lambda: row_for("mona@example.com").state == "sent", what="mail kept as sent")

    listing = client.get("/dev/mailbox")
    page = client.get(html(listing).css_first("ul.rows a").attributes["href"])

    assert "Hello Mona" in html(page).css_first(".mail-body").text()
    stop_when_idle(client.app.state.mail_worker)
    assert_no_more_mail(mailbox, "mona@example.com")


def test_an_email_that_cannot_render_does_not_hide_the_others(client):
    queue("broken@example.com", key="broken", template="reset_password", first_name="B")  # no path
    queue("fine@example.com", key="fine")

    listing = client.get("/dev/mailbox")

    assert listing.status_code == 200
    texts = [entry.text() for entry in html(listing).css("ul.rows li")]
    assert len(texts) == 2
    assert any("cannot be rendered" in text and "broken@example.com" in text for text in texts)
    assert any("Your password has been changed" in text for text in texts)
