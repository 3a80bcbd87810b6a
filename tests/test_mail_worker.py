"""The mail worker: claims due rows once, sends them over real SMTP, retries with backoff after an
outage, parks permanent refusals, and runs as its own `portal worker` process."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jinja2
import pytest
from aiosmtpd.controller import Controller

from src import mail
from src.app import create_app
from src.mail import render_email, send_due, worker
from src.mail.worker import MAX_ATTEMPTS, backoff
from src.tables.outbox import OutboxEmail
from tests.support.client import make_settings, run
from tests.support.environment import BASE_URL, free_port
from tests.support.factories import make_account
from tests.support.outbox import queue, row_for, set_row, stop_when_idle, wait_until
from tests.support.pages import csrf_token
from tests.support.smtp import Handler, Mailbox, assert_no_more_mail, link_in

ROOT = Path(__file__).resolve().parent.parent


# The app's template engine by the overrides it was made with: it reads no SMTP setting, so one
# serves every port, and making an app for each test cost ~0.2 s.
_ENGINES: dict[tuple[tuple[str, Any], ...], Any] = {}


def worker_parts(smtp_port: int, **overrides: Any) -> tuple[Any, Any]:
    """The app's own template engine and settings, without the in-app worker running."""
    settings = make_settings(smtp_port, run_mail_worker="false", **overrides)
    key = tuple(sorted(overrides.items()))
    if key not in _ENGINES:
        _ENGINES[key] = create_app(settings).template_engine
    return _ENGINES[key], settings


def past(seconds: int = 1) -> datetime:
    return datetime.now(UTC) - timedelta(seconds=seconds)


# --- send_due -------------------------------------------------------------------------------------


def test_send_due_sends_due_rows_and_marks_them_sent(smtp_server, mailbox):
    engine, settings = worker_parts(smtp_server.port)
    queue("ann@example.com")
    queue("bob@example.com")

    assert run(send_due(engine, settings)) == 2

    mailbox.wait_for(to="ann@example.com", subject="Your password has been changed")
    mailbox.wait_for(to="bob@example.com", subject="Your password has been changed")
    for recipient in ("ann@example.com", "bob@example.com"):
        row = row_for(recipient)
        assert (row.state, row.attempts, row.last_error, row.lease_until) == ("sent", 1, "", None)
        assert row.sent_at is not None
    assert run(send_due(engine, settings)) == 0  # nothing is sent twice
    assert_no_more_mail(mailbox, "ann@example.com")


def test_rows_not_yet_due_are_left_alone(smtp_server, mailbox):
    engine, settings = worker_parts(smtp_server.port)
    queue("later@example.com")
    set_row("later@example.com", next_attempt_at=datetime.now(UTC) + timedelta(minutes=5))

    assert run(send_due(engine, settings)) == 0

    assert row_for("later@example.com").state == "pending"
    assert_no_more_mail(mailbox, "later@example.com")


async def _two_workers(engine: Any, settings: Any) -> list[int]:
    return list(await asyncio.gather(send_due(engine, settings), send_due(engine, settings)))


def test_two_workers_at_once_send_each_row_once(smtp_server, mailbox):
    engine, settings = worker_parts(smtp_server.port)
    recipients = [f"person{i}@example.com" for i in range(6)]
    for recipient in recipients:
        queue(recipient)

    assert sum(run(_two_workers(engine, settings))) == len(recipients)

    for recipient in recipients:
        mailbox.wait_for(to=recipient)
    assert_no_more_mail(mailbox, "@example.com")
    assert {row_for(r).attempts for r in recipients} == {1}


def test_row_whose_lease_expired_is_claimed_again(smtp_server, mailbox):
    engine, settings = worker_parts(smtp_server.port)
    queue("crashed@example.com")
    queue("busy@example.com")
    # A worker died mid-send on the first; another worker is still sending the second.
    set_row("crashed@example.com", state="sending", lease_until=past(5))
    set_row("busy@example.com", state="sending", lease_until=datetime.now(UTC) + timedelta(minutes=1))

    assert run(send_due(engine, settings)) == 1

    mailbox.wait_for(to="crashed@example.com")
    assert row_for("crashed@example.com").state == "sent"
    assert row_for("busy@example.com").state == "sending"
    assert_no_more_mail(mailbox, "busy@example.com")


def test_expired_lease_is_taken_by_only_one_of_two_workers(smtp_server, mailbox):
    engine, settings = worker_parts(smtp_server.port)
    recipients = [f"orphan{i}@example.com" for i in range(5)]
    for recipient in recipients:
        queue(recipient)
        set_row(recipient, state="sending", lease_until=past(5))

    assert sum(run(_two_workers(engine, settings))) == len(recipients)

    for recipient in recipients:
        mailbox.wait_for(to=recipient)
    assert_no_more_mail(mailbox, "orphan")


# --- failures and retries -------------------------------------------------------------------------


def test_smtp_outage_delays_mail_which_then_arrives_once(smtp_server, mailbox):
    engine, settings = worker_parts(smtp_server.port)
    smtp_server.stop()
    try:
        queue("patient@example.com")
        assert run(send_due(engine, settings)) == 0

        row = row_for("patient@example.com")
        assert (row.state, row.attempts) == ("pending", 1)
        assert row.last_error
        assert row.next_attempt_at > datetime.now(UTC)  # backoff: not retried at once
        assert row.lease_until is None
    finally:
        smtp_server.start()

    assert run(send_due(engine, settings)) == 0  # still backing off
    set_row("patient@example.com", next_attempt_at=past())
    assert run(send_due(engine, settings)) == 1

    mailbox.wait_for(to="patient@example.com")
    assert_no_more_mail(mailbox, "patient@example.com")
    row = row_for("patient@example.com")
    assert (row.state, row.attempts, row.last_error) == ("sent", 2, "")


@pytest.mark.parametrize("settings", [{"run_mail_worker": "true"}], indirect=True)  # the app's own worker
def test_smtp_outage_through_the_running_app_delays_mail_once(settings, client, smtp_server, mailbox):
    run(make_account(username="pat", email_address="pat@example.com"))
    smtp_server.stop()
    try:
        token = csrf_token(client, "/forgot-password")
        response = client.post(
            "/forgot-password", data={"_csrf_token": token, "login": "pat"}, follow_redirects=False
        )
        assert response.status_code == 303
        row = wait_until(
            lambda: (r := row_for("pat@example.com")).attempts == 1 and r,
            what="the app's worker trying once",
        )
        assert row.state == "pending" and row.last_error
        assert row.next_attempt_at > datetime.now(UTC)
    finally:
        smtp_server.start()

    set_row("pat@example.com", next_attempt_at=past())
    client.app.state.mail_worker.poke()

    message = mailbox.wait_for(to="pat@example.com", subject="Reset your password")
    assert link_in(message, "/reset-password/")
    stop_when_idle(client.app.state.mail_worker)
    assert_no_more_mail(mailbox, "pat@example.com")
    row = wait_until(lambda: (r := row_for("pat@example.com")).state == "sent" and r, what="row sent")
    assert row.attempts == 2


class _Refusing(Handler):
    """An SMTP server that refuses some recipients: 550 (no such user) or 451 (try later)."""

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address.startswith("gone@"):
            return "550 5.1.1 No such user here"
        if address.startswith("later@"):
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.fixture
def refusing_smtp() -> Iterator[tuple[int, Mailbox]]:
    received = Mailbox()
    port = free_port()
    controller = Controller(_Refusing(received), hostname="127.0.0.1", port=port)
    controller.start()
    yield port, received
    controller.stop()


def test_permanent_refusal_is_parked_and_temporary_one_retried(refusing_smtp):
    port, received = refusing_smtp
    engine, settings = worker_parts(port)
    queue("gone@example.com")
    queue("later@example.com")
    queue("fine@example.com")

    assert run(send_due(engine, settings)) == 1

    received.wait_for(to="fine@example.com")
    gone = row_for("gone@example.com")
    assert (gone.state, gone.attempts) == ("failed", 1)
    assert "550" in gone.last_error
    later = row_for("later@example.com")
    assert (later.state, later.attempts) == ("pending", 1)
    assert "451" in later.last_error

    # Even when due again, a parked row is never retried; the temporary one is.
    set_row("gone@example.com", next_attempt_at=past())
    set_row("later@example.com", next_attempt_at=past())
    assert run(send_due(engine, settings)) == 0
    assert (row_for("gone@example.com").state, row_for("gone@example.com").attempts) == ("failed", 1)
    assert (row_for("later@example.com").state, row_for("later@example.com").attempts) == ("pending", 2)
    assert_no_more_mail(received, "gone@example.com")


def test_gives_up_after_max_attempts_of_transient_failure():
    engine, settings = worker_parts(free_port())  # nothing listens there: connection refused
    queue("last-try@example.com")
    queue("second-last@example.com")
    set_row("last-try@example.com", attempts=MAX_ATTEMPTS - 1)
    set_row("second-last@example.com", attempts=MAX_ATTEMPTS - 2)

    assert run(send_due(engine, settings)) == 0

    last = row_for("last-try@example.com")
    assert (last.state, last.attempts) == ("failed", MAX_ATTEMPTS)
    assert last.last_error
    second = row_for("second-last@example.com")
    assert (second.state, second.attempts) == ("pending", MAX_ATTEMPTS - 1)


def test_backoff_grows_and_is_capped(monkeypatch):
    monkeypatch.setattr(worker.random, "uniform", lambda low, high: high)
    longest = [backoff(n).total_seconds() for n in range(1, 16)]
    assert longest[:4] == [15, 30, 60, 120]
    assert longest == sorted(longest)
    assert max(longest) == 3600 and longest[-1] == 3600

    monkeypatch.setattr(worker.random, "uniform", lambda low, high: low)
    shortest = [backoff(n).total_seconds() for n in range(1, 16)]
    assert shortest[0] == 7.5 and shortest[-1] == 1800  # jitter spreads retries by up to half


def test_backoff_jitter_stays_within_bounds():
    for attempts in (1, 3, 8, 30):
        top = min(15 * 2 ** (attempts - 1), 3600)
        delay = backoff(attempts).total_seconds()
        assert top / 2 <= delay <= top


# --- rendering (the templates alone: tests/test_mail_templates.py) ------------------------------


def test_a_missing_variable_is_an_error_not_an_empty_link(smtp_server, mailbox):
    settings = make_settings(smtp_server.port, run_mail_worker="false")
    engine = create_app(settings).template_engine
    row = OutboxEmail(recipient="t@example.com", template="reset_password", context={"first_name": "T"})
    with pytest.raises(jinja2.UndefinedError, match="token"):
        render_email(engine, row, settings)

    run(mail.enqueue("broken@example.com", "reset_password", {"first_name": "T"}, "broken"))
    assert run(send_due(engine, settings)) == 0
    row = row_for("broken@example.com")
    assert row.state == "pending" and "UndefinedError" in row.last_error
    assert_no_more_mail(mailbox, "broken@example.com")


# --- `portal worker` as its own process -----------------------------------------------------------


def test_portal_worker_process_sends_mail_and_stops_cleanly_on_sigterm(smtp_server, mailbox):
    env = {
        **os.environ,
        "PORTAL_MODE": "development",
        "DATABASE_URL": os.environ["DATABASE_URL"],
        "VAR_DIR": os.environ["VAR_DIR"],
        "BASE_URL": BASE_URL,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_server.port),
        "MAIL_DELIVERY": "smtp",
        "MAIL_POLL_SECONDS": "0.1",
    }
    process = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "portal"), "worker"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    arrived = None
    try:
        queue("separate@example.com", first_name="Sep")
        arrived = mailbox.wait_for(to="separate@example.com", timeout=20)
        wait_until(lambda: row_for("separate@example.com").state == "sent", what="row marked sent")
    except AssertionError:
        arrived = None
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            out, err = process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate()
            pytest.fail(f"worker did not stop within 10 s of SIGTERM; stderr: {err}")
    assert arrived is not None, f"the worker sent nothing; its stderr: {err}"
    assert arrived["Subject"] == "Your password has been changed"
    assert row_for("separate@example.com").attempts == 1
    assert process.returncode == 0, err
    assert "Mail worker running" in out
    assert_no_more_mail(mailbox, "separate@example.com")
