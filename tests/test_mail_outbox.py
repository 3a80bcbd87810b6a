"""The outbox: an email is written with the change that causes it, once per event, and arrives on a
real SMTP server with both parts and a link built from BASE_URL."""

from __future__ import annotations

import pytest
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from src import mail
from src.db import write_transaction
from src.tables.accounts import Account
from src.tables.outbox import OutboxEmail
from tests.support.client import post_form, run
from tests.support.environment import BASE_URL
from tests.support.factories import make_account
from tests.support.pages import csrf_token
from tests.support.smtp import link_in, text_of


class Boom(Exception):
    pass


async def _enqueue_then_fail() -> None:
    async with write_transaction():
        await Account.update({Account.first_name: "Changed"}).where(Account.username_key == "tess")
        await mail.enqueue("tess@example.com", "password_changed", {"first_name": "Tess"}, "boom:1")
        raise Boom


def test_email_is_not_queued_when_its_transaction_fails():
    run(make_account(username="tess"))

    with pytest.raises(Boom):
        run(_enqueue_then_fail())

    assert run(OutboxEmail.count().run()) == 0
    account = run(Account.objects().where(Account.username_key == "tess").first().run())
    assert account.first_name == "Tess"  # the change and its email went together


async def _enqueue_in_transaction(key: str) -> bool:
    async with write_transaction():
        return await mail.enqueue("tess@example.com", "password_changed", {"first_name": "Tess"}, key)


def test_email_commits_with_its_transaction():
    assert run(_enqueue_in_transaction("changed:1")) is True

    rows = run(OutboxEmail.select(OutboxEmail.recipient, OutboxEmail.state, OutboxEmail.attempts).run())
    assert rows == [{"recipient": "tess@example.com", "state": "pending", "attempts": 0}]


def test_same_idempotency_key_queues_one_email():
    assert run(_enqueue_in_transaction("password-changed:7:2")) is True
    assert run(_enqueue_in_transaction("password-changed:7:2")) is False
    assert run(_enqueue_in_transaction("password-changed:7:3")) is True

    keys = sorted(
        row["idempotency_key"] for row in run(OutboxEmail.select(OutboxEmail.idempotency_key).run())
    )
    assert keys == ["password-changed:7:2", "password-changed:7:3"]


def test_forgotten_password_email_arrives_with_both_parts_and_base_url_link(client, mailbox):
    run(make_account(username="pat", email_address="pat@example.com"))

    # The request comes in under another host the app answers to: the link must not follow it.
    token = csrf_token(client, "/forgot-password")
    response = client.post(
        "/forgot-password",
        data={"_csrf_token": token, "login": "pat"},
        headers={"Host": "127.0.0.1:8000"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text

    rows = run(OutboxEmail.select(OutboxEmail.recipient, OutboxEmail.template).run())
    assert rows == [{"recipient": "pat@example.com", "template": "reset_password"}]

    message = mailbox.wait_for(to="pat@example.com", subject="Reset your password")
    assert message["From"] == "Achievement Portal <no-reply@portal.invalid>"
    assert message["To"] == "pat@example.com"
    assert message["Subject"] == "Reset your password"
    assert message["Message-ID"].startswith("<") and message["Message-ID"].endswith("@testserver.local>")
    assert message.is_multipart()
    assert message.get_body(preferencelist=("plain",)) is not None
    html_part = message.get_body(preferencelist=("html",))
    assert html_part is not None

    path = link_in(message, "/reset-password/")
    assert len(path) > len("/reset-password/") + 20  # a real token, not an empty link
    assert "127.0.0.1" not in text_of(message)
    anchors = [a.attributes.get("href") for a in HTMLParser(html_part.get_content()).css("a")]
    assert BASE_URL + path in anchors
    assert not any("127.0.0.1" in (href or "") for href in anchors)

    # The link works: it opens the page to choose a new password.
    page = client.get(path)
    assert page.status_code == 200
    assert HTMLParser(page.text).css_first('input[name="password"]') is not None


def test_forgotten_password_for_unknown_account_queues_nothing(client, mailbox):
    response = post_form(client, "/forgot-password", {"login": "nobody"}, token_from="/forgot-password")

    assert response.status_code == 303
    assert run(OutboxEmail.count().run()) == 0
