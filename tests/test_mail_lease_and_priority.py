"""The outbox under load: a slow mail server never makes two workers send one message, a dead
worker's messages are taken within about a minute, a reset link goes before a batch of reminders,
and the same event queued twice at once is one email and no error (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import email
import email.policy
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from src import mail
from src.db import write_transaction
from src.mail import MailWorker, worker
from src.tables.outbox import OutboxEmail
from tests.support.client import run
from tests.support.environment import IS_POSTGRES
from tests.support.environment import free_port as _free_port
from tests.support.smtp import Mailbox
from tests.test_mail_templates import REALISTIC
from tests.test_mail_worker import queue, row_for, set_row, wait_until, worker_parts

SLOW_SECONDS = 0.2
MESSAGES = 20  # one at a time: 4 s of sending, twice the lease below
LEASE = timedelta(seconds=2)  # renewed every 0.67 s: room for a busy machine's pauses


class _SlowHandler:
    """A mail server that takes its time over every message, as a busy relay does."""

    def __init__(self, mailbox: Mailbox) -> None:
        self.mailbox = mailbox

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(SLOW_SECONDS)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.mailbox.received.put(message)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


@pytest.fixture
def slow_smtp():
    mailbox = Mailbox()
    port = _free_port()
    controller = Controller(_SlowHandler(mailbox), hostname="127.0.0.1", port=port)
    controller.start()
    yield port, mailbox
    controller.stop()


async def _two_workers_until(engine: Any, settings: Any, mailbox: Mailbox, count: int) -> None:
    workers = [MailWorker(engine, settings, poll=0.05) for _ in range(2)]
    for each in workers:
        each.start()
    try:
        for _ in range(count):
            await asyncio.to_thread(mailbox.wait_for, timeout=30)
    finally:
        for each in workers:
            await each.stop()


def _two_workers_send_each_once(slow_smtp: tuple[int, Mailbox], name: str) -> None:
    """MESSAGES rows queued, two workers sending them to the slow server until as many arrived: then
    nothing more may arrive, and every row is sent after one attempt."""
    port, mailbox = slow_smtp
    engine, settings = worker_parts(port)
    recipients = [f"{name}{i}@example.com" for i in range(MESSAGES)]
    for recipient in recipients:
        queue(recipient)

    run(_two_workers_until(engine, settings, mailbox, len(recipients)))

    received = [message["To"] for message in mailbox.drain()]
    assert not received, f"more messages than rows: {received}"
    states = {recipient: row_for(recipient) for recipient in recipients}
    assert {(row.state, row.attempts) for row in states.values()} == {("sent", 1)}


def test_a_slow_server_and_two_workers_deliver_each_message_once(slow_smtp, monkeypatch):
    # One message at a time and a short lease: the first worker's batch takes several leases long,
    # and the second worker polls all the while.
    monkeypatch.setattr(worker, "LEASE", LEASE)
    monkeypatch.setattr(worker, "SENDERS", 1)
    _two_workers_send_each_once(slow_smtp, "slow")


def test_a_worker_whose_renewals_stall_stops_sending_before_its_lease_can_be_taken(slow_smtp, monkeypatch):
    """The renewer never gets through (a busy machine, a database that hangs): the first claim's
    batch outlasts its lease, and the other worker may take its rows. The first must have stopped
    starting messages by then and handed the rest back, so none goes out twice."""
    monkeypatch.setattr(worker, "LEASE", LEASE)
    monkeypatch.setattr(worker, "SENDERS", 1)

    async def stalled(self: Any) -> None:
        await asyncio.Event().wait()

    monkeypatch.setattr(worker._Lease, "keep", stalled)
    _two_workers_send_each_once(slow_smtp, "stalled")


def test_every_message_arrives_exactly_once_with_a_slow_server(slow_smtp, monkeypatch):
    port, mailbox = slow_smtp
    monkeypatch.setattr(worker, "LEASE", LEASE)
    monkeypatch.setattr(worker, "SENDERS", 1)
    engine, settings = worker_parts(port)
    for i in range(MESSAGES):
        queue(f"once{i}@example.com")
    collected: list[str] = []

    async def collect() -> None:
        workers = [MailWorker(engine, settings, poll=0.05) for _ in range(2)]
        for each in workers:
            each.start()
        try:
            while len(collected) < MESSAGES:
                message = await asyncio.to_thread(mailbox.wait_for, timeout=30)
                collected.append(message["To"])
        finally:
            for each in workers:
                await each.stop()
        collected.extend(message["To"] for message in mailbox.drain())

    run(collect())
    assert Counter(collected) == Counter(f"once{i}@example.com" for i in range(MESSAGES))


def _claimed_seconds_ago(recipient: str, seconds: int) -> None:
    """A worker claimed the row `seconds` ago (the lease it took then) and has not been heard of since."""
    claimed_at = datetime.now(UTC) - timedelta(seconds=seconds)
    set_row(recipient, state="sending", claimed_by="dead-worker", lease_until=claimed_at + worker.LEASE)


def test_a_dead_workers_messages_are_sent_by_another_within_a_minute(smtp_server, mailbox):
    engine, settings = worker_parts(smtp_server.port)
    queue("orphan@example.com")
    _claimed_seconds_ago("orphan@example.com", 61)
    queue("recent@example.com")
    _claimed_seconds_ago("recent@example.com", 30)

    assert run(mail.send_due(engine, settings)) == 1

    mailbox.wait_for(to="orphan@example.com")
    assert row_for("orphan@example.com").state == "sent"
    assert row_for("recent@example.com").state == "sending"  # its sender may still be at it


def test_a_reset_link_goes_before_a_batch_of_reminders(smtp_server, mailbox):
    for i in range(worker.BATCH + 10):
        queue(f"reminded{i}@example.com", template="access_ending", **REALISTIC)
    queue("waiting@example.com", template="reset_password", **REALISTIC)

    claimed = run(worker._claim(datetime.now(UTC), "first-pass"))

    assert len(claimed) == worker.BATCH
    assert claimed[0].recipient == "waiting@example.com"
    assert row_for("waiting@example.com").state == "sending"


def test_a_claim_takes_one_batch_when_the_statistics_say_the_outbox_is_small(
    smtp_server, mailbox, monkeypatch
):
    """Statistics taken while the outbox held one row, and a table still of one page, make
    PostgreSQL rescan the picking subquery (a nested-loop semi join, nothing materialised); a claim
    must still take one batch, not every due row. (A batch of 3 keeps the rows in one page.)"""
    monkeypatch.setattr(worker, "BATCH", 3)
    if IS_POSTGRES:
        # An empty file (the suite empties tables with DELETE, which leaves their pages behind).
        run(OutboxEmail.raw("TRUNCATE outbox_email"))
    queue("early@example.com")
    set_row("early@example.com", state="sent")
    if IS_POSTGRES:
        run(OutboxEmail.raw("ANALYZE outbox_email"))
    for i in range(5):
        queue(f"later{i}@example.com")

    first = run(worker._claim(datetime.now(UTC), "first"))
    second = run(worker._claim(datetime.now(UTC), "second"))

    assert len(first) == 3
    assert len(second) == 2
    assert not {row.id for row in first} & {row.id for row in second}


async def _enqueue_at_once(times: int) -> list[bool]:
    async def one() -> bool:
        async with write_transaction():
            return await mail.enqueue("tess@example.com", "reset_password", {"first_name": "T"}, "reset:7:1")

    return list(await asyncio.gather(*(one() for _ in range(times))))


def test_the_same_event_queued_at_once_is_one_email_and_no_error():
    results = run(_enqueue_at_once(8))

    assert sorted(results) == [False] * 7 + [True]
    assert run(OutboxEmail.count().where(OutboxEmail.idempotency_key == "reset:7:1").run()) == 1


def test_the_worker_sends_every_due_message_without_waiting_for_the_next_poll(smtp_server, mailbox):
    engine, settings = worker_parts(smtp_server.port)
    total = worker.BATCH * 2 + 5
    for i in range(total):
        queue(f"many{i}@example.com")

    async def drain() -> None:
        # A poll of an hour: only the worker's own "more is due" loop can send the later batches.
        each = MailWorker(engine, settings, poll=3600)
        each.start()
        try:
            for _ in range(total):
                await asyncio.to_thread(mailbox.wait_for, timeout=30)
        finally:
            await each.stop()

    run(drain())
    assert wait_until(lambda: run(OutboxEmail.count().where(OutboxEmail.state == "sent").run()) == total)
