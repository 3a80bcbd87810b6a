"""The mail worker: claims due outbox rows, renders them, sends them over SMTP, retries with backoff.

A batch is claimed in one UPDATE into state "sending" with a short lease and a random claim token;
the claimer renews the lease while it sends, so a slow server never lets a second worker take rows
that are still being sent, and the rows of a worker that died are taken within about a minute. A
worker whose renewals stall (a busy machine, a slow database) stops starting messages while a
third of its lease is still left, so a row another worker may take is never sent by both.
Every message carries a Message-ID made from the idempotency key, so a resend after a crash
between "sent" and "marked sent" is recognisable as the same email.

Throughput: the worker keeps claiming while mail is due, sends a batch over a few reused SMTP
connections at once, and takes urgent mail (a reset link) before routine mail (reminders).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import secrets
import time
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import aiosmtplib

from src.clock import utcnow
from src.db import engine_kind
from src.mail.render import build_message, render_email
from src.mail.slots import WorkerSlot
from src.mail.smtp import SmtpConnections
from src.tables.outbox import OutboxEmail

if TYPE_CHECKING:
    from collections.abc import Callable

    from litestar.template import TemplateEngineProtocol

    from src.settings import Settings

log = logging.getLogger("portal.mail")

MAX_ATTEMPTS = 12
LEASE = timedelta(seconds=60)  # renewed every third of it while sending; a dead worker's rows wait this long
BATCH = 50
SENDERS = 4  # messages in flight at once per worker (and so open SMTP connections)


def backoff(attempts: int) -> timedelta:
    """Exponential backoff from 15 s to an hour, with jitter so retries of many rows spread out."""
    base = min(15 * 2 ** max(attempts - 1, 0), 3600)
    return timedelta(seconds=base * random.uniform(0.5, 1.0))  # noqa: S311 - jitter, not secrecy


_DUE = "(state = 'pending' AND next_attempt_at <= {}) OR (state = 'sending' AND lease_until < {})"
_COLUMNS = "id, recipient, template, context, idempotency_key, attempts, priority"


async def _claim(now: datetime, token: str) -> list[OutboxEmail]:
    """Take up to BATCH due rows, urgent first, in one statement: pending rows whose time has come,
    and rows whose sender's lease ran out (it died mid-send). On PostgreSQL, SKIP LOCKED lets two
    workers claim different rows at once; SQLite runs one writer at a time anyway."""
    # Only constants are put into the text; every value is a parameter.
    if engine_kind() == "postgres":
        # The rows are picked once, in a MATERIALIZED CTE. As `id IN (SELECT … LIMIT … FOR UPDATE
        # SKIP LOCKED)`, a plan that rescans the subquery (a nested-loop semi join, chosen when the
        # statistics say the table is small) skips the rows this statement has just claimed and
        # picks the next ones at each rescan: one claim took all 61 due rows, not 50.
        picked = f"SELECT id FROM outbox_email WHERE {_DUE} ORDER BY priority DESC, next_attempt_at LIMIT {{}} FOR UPDATE SKIP LOCKED"  # noqa: S608
        claim = (
            f"WITH picked AS MATERIALIZED ({picked}) UPDATE outbox_email SET state = 'sending', "  # noqa: S608
            "lease_until = {}, claimed_by = {} FROM picked WHERE outbox_email.id = picked.id "
            f"RETURNING outbox_email.{_COLUMNS}"
        )
        rows = await OutboxEmail.raw(claim, now, now, BATCH, now + LEASE, token)
    else:
        select = (
            f"SELECT id FROM outbox_email WHERE {_DUE} ORDER BY priority DESC, next_attempt_at LIMIT {{}}"  # noqa: S608
        )
        claim = f"UPDATE outbox_email SET state = 'sending', lease_until = {{}}, claimed_by = {{}} WHERE id IN ({select}) RETURNING {_COLUMNS}"  # noqa: S608
        rows = await OutboxEmail.raw(claim, now + LEASE, token, now, now, BATCH)
    return [OutboxEmail(**row) for row in sorted(rows, key=lambda row: (-row["priority"], row["id"]))]


class _Lease:
    """How long a claim's rows are surely still its own, by this process's clock.

    The deadline is timed from just before the lease was written (the claim, then each renewal), so
    it is never later than the `lease_until` the database holds: another worker can take the rows
    only after it has passed."""

    def __init__(self, token: str, written_from: float) -> None:
        self.token = token
        self.until = written_from + LEASE.total_seconds()

    def fresh(self) -> bool:
        """True while a third of the lease is left: room for one more message to go out (the renewer
        normally keeps two thirds or more). When renewals stall, the claim stops sending and hands
        its unsent rows back rather than race whoever takes them next."""
        return self.until - time.monotonic() > LEASE.total_seconds() / 3

    async def keep(self) -> None:
        """Renew the lease of the rows this claim still sends, for as long as the sending takes."""
        while True:
            await asyncio.sleep(LEASE.total_seconds() / 3)
            written_from = time.monotonic()
            try:
                await OutboxEmail.update({OutboxEmail.lease_until: utcnow() + LEASE}).where(
                    (OutboxEmail.claimed_by == self.token) & (OutboxEmail.state == "sending")
                )
            except Exception:
                log.exception("renewing the lease of claim %s failed; retrying", self.token)
            else:
                self.until = written_from + LEASE.total_seconds()


def _permanent(exc: Exception) -> bool:
    """Any 5xx answer is permanent (RFC 5321: do not repeat the same command), including 552
    "mailbox full", which some servers use for a lasting refusal: the row is parked as "failed",
    where it can be looked at, rather than retried for hours. 4xx, timeouts and refused
    connections are transient and retried with backoff."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return all(500 <= e.code < 600 for e in exc.recipients)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return 500 <= exc.code < 600
    return False


class _Marks:
    """Writes a batch's outcomes one at a time (group commit): the "sent" marks that gather while
    one write runs go in the next single UPDATE. Several senders writing at once would only wait on
    SQLite's write lock, whose busy handler sleeps, and that capped a worker at ~10 emails/s."""

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.sent: list[int] = []

    async def mark_sent(self, row_id: int) -> None:
        self.sent.append(row_id)
        async with self.lock:
            ids, self.sent = self.sent, []
            if ids:  # empty when an earlier write already took this row's mark
                await OutboxEmail.update(
                    {
                        OutboxEmail.state: "sent",
                        OutboxEmail.attempts: OutboxEmail.attempts + 1,
                        OutboxEmail.sent_at: utcnow(),
                        OutboxEmail.lease_until: None,
                        OutboxEmail.claimed_by: "",
                        OutboxEmail.last_error: "",
                    }
                ).where(OutboxEmail.id.is_in(ids))

    async def mark_failed(self, row: OutboxEmail, exc: Exception, now: datetime) -> None:
        attempts = row.attempts + 1
        give_up = _permanent(exc) or attempts >= MAX_ATTEMPTS
        log.warning("email %s to %s failed (attempt %d): %s", row.id, row.recipient, attempts, exc)
        async with self.lock:
            await OutboxEmail.update(
                {
                    OutboxEmail.state: "failed" if give_up else "pending",
                    OutboxEmail.attempts: attempts,
                    OutboxEmail.next_attempt_at: now + backoff(attempts),
                    OutboxEmail.lease_until: None,
                    OutboxEmail.claimed_by: "",
                    OutboxEmail.last_error: f"{type(exc).__name__}: {exc}"[:2000],
                }
            ).where(OutboxEmail.id == row.id)


async def _send_one(
    row: OutboxEmail,
    engine: TemplateEngineProtocol[Any, Any],
    settings: Settings,
    connections: SmtpConnections,
    marks: _Marks,
    now: datetime,
) -> bool:
    try:
        rendered = render_email(engine, row, settings)
        if settings.mail_delivery == "smtp":
            await connections.send(build_message(row, rendered, settings))
    except Exception as exc:  # every failure is recorded on the row, never swallowed silently
        await marks.mark_failed(row, exc, now)
        return False
    await marks.mark_sent(row.id)
    return True


async def send_due(
    engine: TemplateEngineProtocol[Any, Any],
    settings: Settings,
    connections: SmtpConnections | None = None,
    stopping: Callable[[], bool] = lambda: False,
    slot: WorkerSlot | None = None,
) -> int:
    """Send one batch of due emails; returns how many were sent. Safe to run in several processes.

    `connections` are reused across calls by the worker; without them the call opens its own.
    When `stopping()` turns true, or less than a third of the lease is surely left (the renewals
    stalled), no further message is started and the unstarted rows are handed back at once rather
    than after their lease. A worker's `slot` names its claims, so that its successor in the slot
    can take them back (src/mail/slots.py)."""
    written_from = time.monotonic()  # before `now`: the local deadline is never later than the row's
    now = utcnow()
    token = slot.token() if slot is not None else secrets.token_hex(16)
    rows = await _claim(now, token)
    if not rows:
        return 0
    own = connections is None
    smtp = connections if connections is not None else SmtpConnections(settings)
    pending = list(reversed(rows))
    marks = _Marks()
    lease = _Lease(token, written_from)
    renewer = asyncio.create_task(lease.keep(), name="mail-lease")

    async def sender() -> int:
        sent = 0
        while pending and not stopping() and lease.fresh():
            sent += await _send_one(pending.pop(), engine, settings, smtp, marks, now)
        return sent

    try:
        return sum(await asyncio.gather(*(sender() for _ in range(min(SENDERS, len(rows))))))
    finally:
        if pending:
            await OutboxEmail.update(
                {OutboxEmail.state: "pending", OutboxEmail.lease_until: None, OutboxEmail.claimed_by: ""}
            ).where(OutboxEmail.id.is_in([row.id for row in pending]) & (OutboxEmail.claimed_by == token))
        renewer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await renewer
        if own:
            await smtp.close()


async def _take_back(slot: WorkerSlot) -> None:
    """Hand back, at once, the rows an earlier holder of this slot left claimed (it was killed)."""
    try:
        rows = (
            await OutboxEmail.update(
                {OutboxEmail.state: "pending", OutboxEmail.lease_until: None, OutboxEmail.claimed_by: ""}
            )
            .where((OutboxEmail.state == "sending") & OutboxEmail.claimed_by.like(f"{slot.name}/%"))
            .returning(OutboxEmail.id)
        )
    except Exception:
        log.exception("taking back the claims of worker slot %s failed; they wait for their lease", slot.name)
        return
    if rows:
        log.warning("took back %d email(s) an earlier worker in slot %s left claimed", len(rows), slot.name)


class MailWorker:
    """Polls the outbox; `poke()` makes it look at once (after a request queued mail)."""

    def __init__(
        self, engine: TemplateEngineProtocol[Any, Any], settings: Settings, poll: float = 5.0
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.poll = poll
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False

    def poke(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def run_forever(self) -> None:
        # A flag as well as the cancel: a library awaited inside a pass (wait_for on Python 3.11) can
        # swallow the cancel, and stop() would then wait forever.
        slot = WorkerSlot.take(self.settings.var_dir)
        connections = SmtpConnections(self.settings)
        try:
            if slot.held:
                await _take_back(slot)
            await self._loop_until_stopped(connections, slot)
        finally:
            await connections.close()
            slot.give_up()

    async def _loop_until_stopped(self, connections: SmtpConnections, slot: WorkerSlot) -> None:
        while not self._stopping:
            try:
                if await send_due(self.engine, self.settings, connections, lambda: self._stopping, slot):
                    continue  # more mail may be due: claim the next batch without waiting
            except Exception:
                log.exception("mail worker pass failed; retrying at the next poll")
            await connections.close()  # idle: do not hold the server's connections open
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a cancel that arrives as
            # the event is set (a poke racing shutdown), and stop() would then wait forever.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll):
                    await self._wake.wait()
            self._wake.clear()

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.create_task(self.run_forever(), name="mail-worker")

    async def stop(self, grace_seconds: float = 15.0) -> None:
        """Finish the messages being sent (their rows marked sent, the rest handed back), then stop;
        cancelled only if that takes longer than `grace_seconds`. A message cancelled between "sent"
        and "marked sent" would go out again after its lease."""
        if self._task is not None:
            self._stopping = True
            self._wake.set()
            try:
                async with asyncio.timeout(grace_seconds):
                    await asyncio.shield(self._task)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
