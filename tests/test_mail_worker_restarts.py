"""A mail worker stopped mid-batch (SIGTERM) finishes what it is sending and hands the rest back at
once. One killed mid-batch (SIGKILL, a crash) leaves its rows claimed for the lease (60 s):
restarted on the same host it takes the same slot (src/mail/slots.py) and sends them at once; rows
claimed by a worker that is still alive, in another slot, are left to it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from src.app import create_app
from src.mail import MailWorker, worker
from src.mail.slots import WorkerSlot
from src.tables.outbox import OutboxEmail
from tests.support.client import make_settings, run
from tests.support.environment import VAR_DIR, free_port
from tests.support.outbox import queue, row_for, set_row, stop_when_idle, wait_until
from tests.support.smtp import Mailbox, assert_no_more_mail
from tests.test_mail_lease_and_priority import _SlowHandler
from tests.test_mail_worker import worker_parts


def _lease_left(seconds: int = 60) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


@pytest.fixture
def start_worker(smtp_server: Any) -> Iterator[Any]:
    """Starts a worker as a `portal worker` process would, on the suite's loop; stopped afterwards."""
    settings = make_settings(smtp_server.port, mail_poll_seconds="0.05")
    engine = create_app(settings).template_engine
    workers: list[MailWorker] = []

    def start() -> MailWorker:
        worker = MailWorker(engine, settings, poll=settings.mail_poll_seconds)

        async def begin() -> None:
            worker.start()

        run(begin())
        workers.append(worker)
        return worker

    yield start
    for each in workers:
        run(each.stop())


def test_a_restarted_worker_sends_at_once_what_its_killed_predecessor_left_claimed(start_worker, mailbox):
    queue("left@example.com")
    killed = WorkerSlot.take(VAR_DIR)
    set_row("left@example.com", state="sending", lease_until=_lease_left(), claimed_by=killed.token())
    killed.give_up()  # what the kernel does with its lock when the process is killed

    worker = start_worker()

    message = mailbox.wait_for(to="left@example.com", timeout=10)  # the lease had 60 s to go
    assert message["Subject"] == "Your password has been changed"
    row = wait_until(lambda: (r := row_for("left@example.com")).state == "sent" and r, what="row sent")
    assert (row.attempts, row.claimed_by, row.lease_until) == (1, "", None)
    stop_when_idle(worker)
    assert_no_more_mail(mailbox, "left@example.com")


def test_rows_claimed_by_a_live_worker_in_another_slot_are_left_to_it(start_worker, mailbox):
    queue("busy@example.com")
    alive = WorkerSlot.take(VAR_DIR)
    token = alive.token()
    try:
        set_row("busy@example.com", state="sending", lease_until=_lease_left(), claimed_by=token)
        start_worker()
        # The new worker took its slot and sent what was due before this row's lease ends.
        queue("later@example.com")
        mailbox.wait_for(to="later@example.com", timeout=10)
        row = row_for("busy@example.com")
        assert (row.state, row.claimed_by, row.attempts) == ("sending", token, 0)
    finally:
        alive.give_up()


def test_two_live_workers_on_a_host_hold_different_slots() -> None:
    first, second = WorkerSlot.take(VAR_DIR), WorkerSlot.take(VAR_DIR)
    try:
        assert first.held and second.held
        assert first.name != second.name
        assert first.token().startswith(f"{first.name}/")
        assert len(first.token()) <= OutboxEmail.claimed_by.length
    finally:
        first.give_up()
        second.give_up()
    again = WorkerSlot.take(VAR_DIR)  # the first free slot again: the one `first` held
    try:
        assert again.name == first.name
    finally:
        again.give_up()


@pytest.fixture
def slow_smtp() -> Iterator[tuple[int, Mailbox]]:
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(_SlowHandler(mailbox), hostname="127.0.0.1", port=port)
    controller.start()
    yield port, mailbox
    controller.stop()


def test_a_worker_stopped_mid_batch_hands_back_what_it_has_not_sent(slow_smtp, monkeypatch):
    """SIGTERM in `portal worker` (and a web process's lifespan) calls `stop()`: the message being
    sent is finished and marked, the rest go back to the outbox at once, due, for any worker."""
    port, mailbox = slow_smtp
    monkeypatch.setattr(worker, "SENDERS", 1)
    recipients = [f"batch{i}@example.com" for i in range(10)]
    for recipient in recipients:
        queue(recipient)
    engine, settings = worker_parts(port)

    async def stop_after_the_first() -> None:
        mail_worker = MailWorker(engine, settings, poll=0.05)
        mail_worker.start()
        await asyncio.to_thread(mailbox.wait_for, timeout=30)
        await mail_worker.stop()

    run(stop_after_the_first())

    rows = [row_for(recipient) for recipient in recipients]
    sent = [row for row in rows if row.state == "sent"]
    assert 1 <= len(sent) < len(rows)
    assert {
        (row.state, row.claimed_by, row.lease_until, row.attempts) for row in rows if row not in sent
    } == {("pending", "", None, 0)}
    assert len(mailbox.drain()) == len(sent) - 1  # what arrived is what was marked sent, once each
