"""The mail worker: claims due outbox rows, renders them, sends them over SMTP, retries with backoff.

A row is claimed by a compare-and-set into state "sending" with a lease, so two workers never send
the same row and a worker that dies mid-send leaves a row that another claims when the lease ends.
Every message carries a Message-ID made from the idempotency key, so a resend after a crash
between "sent" and "marked sent" is recognisable as the same email.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from weakref import WeakKeyDictionary

import aiosmtplib
from jinja2 import Environment, Undefined

from src.db import compare_and_set
from src.tables.outbox import OutboxEmail

if TYPE_CHECKING:
    from litestar.template import TemplateEngineProtocol

    from src.settings import Settings

log = logging.getLogger("portal.mail")

MAX_ATTEMPTS = 12
LEASE = timedelta(minutes=2)
BATCH = 20


class _PrintingMissingIsAnError(Undefined):
    """Printing a variable the row's context lacks (say, the link's path) is an error, recorded on
    the row, never an email with an empty link; testing one (`{% if message %}`) is allowed."""

    __slots__ = ()

    def __str__(self) -> str:
        self._fail_with_undefined_error()
        return ""  # not reached


# One overlay of the app's own environment (same loader, filters, globals) per app.
_email_environments: WeakKeyDictionary[Environment, Environment] = WeakKeyDictionary()


def _email_environment(engine: TemplateEngineProtocol[Any, Any]) -> Environment:
    environment: Environment = engine.engine  # type: ignore[attr-defined]
    strict = _email_environments.get(environment)
    if strict is None:
        strict = environment.overlay(undefined=_PrintingMissingIsAnError, cache_size=100)
        _email_environments[environment] = strict
    return strict


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def render_email(
    engine: TemplateEngineProtocol[Any, Any], row: OutboxEmail, settings: Settings
) -> RenderedEmail:
    """Render emails/<template>.{subject.txt,txt,html} with the row's context and site facts."""
    # Piccolo hands a JSON column back as text unless asked to load it.
    saved = json.loads(row.context) if isinstance(row.context, str) else row.context
    context = {
        **(saved if isinstance(saved, dict) else {}),
        "org_name": settings.org_name,
        "support_email": settings.support_email,
        "base_url": settings.base_url,
    }
    name = f"emails/{row.template}"
    environment = _email_environment(engine)
    subject = environment.get_template(f"{name}.subject.txt").render(**context).strip()
    text = environment.get_template(f"{name}.txt").render(**context)
    html = environment.get_template(f"{name}.html").render(**context)
    return RenderedEmail(subject=" ".join(subject.split()), text=text, html=html)


def build_message(row: OutboxEmail, rendered: RenderedEmail, settings: Settings) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = row.recipient
    message["Subject"] = rendered.subject
    message["Date"] = formatdate(localtime=False)
    digest = hashlib.sha256(row.idempotency_key.encode()).hexdigest()[:32]
    message["Message-ID"] = f"<{digest}@{urlsplit(settings.base_url).hostname or 'portal.invalid'}>"
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    return message


def backoff(attempts: int) -> timedelta:
    """Exponential backoff from 15 s to an hour, with jitter so retries of many rows spread out."""
    base = min(15 * 2 ** max(attempts - 1, 0), 3600)
    return timedelta(seconds=base * random.uniform(0.5, 1.0))  # noqa: S311 - jitter, not secrecy


def _due(now: datetime) -> Any:
    """Pending rows whose time has come, and rows whose sender's lease ran out (it died mid-send)."""
    return ((OutboxEmail.state == "pending") & (OutboxEmail.next_attempt_at <= now)) | (
        (OutboxEmail.state == "sending") & (OutboxEmail.lease_until < now)
    )


async def _claim(now: datetime) -> list[OutboxEmail]:
    candidates = (
        await OutboxEmail.objects().where(_due(now)).order_by(OutboxEmail.next_attempt_at).limit(BATCH)
    )
    claimed = []
    for row in candidates:
        # Compare-and-set: the row must still be due when we take it. Checking the state alone is
        # not enough for an expired lease: the first claimer leaves it "sending", so a second one
        # would win too; the new lease (in the future) is what makes the second one lose.
        won = await compare_and_set(
            OutboxEmail,
            row.id,
            {OutboxEmail.attempts: row.attempts},
            {OutboxEmail.state: "sending", OutboxEmail.lease_until: now + LEASE},
            also=_due(now),
        )
        if won:
            claimed.append(row)
    return claimed


async def _send(message: EmailMessage, settings: Settings) -> None:
    await aiosmtplib.send(
        message,
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.smtp_user,
        password=settings.smtp_password,
        use_tls=settings.smtp_tls == "tls",
        start_tls=True if settings.smtp_tls == "starttls" else False,
        timeout=settings.smtp_timeout,
    )


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


async def send_due(engine: TemplateEngineProtocol[Any, Any], settings: Settings) -> int:
    """Send every due email once; returns how many were sent. Safe to run in several processes."""
    now = datetime.now(UTC)
    sent = 0
    for row in await _claim(now):
        attempts = row.attempts + 1
        try:
            rendered = render_email(engine, row, settings)
            if settings.mail_delivery == "smtp":
                await _send(build_message(row, rendered, settings), settings)
        except Exception as exc:  # every failure is recorded on the row, never swallowed silently
            give_up = _permanent(exc) or attempts >= MAX_ATTEMPTS
            log.warning("email %s to %s failed (attempt %d): %s", row.id, row.recipient, attempts, exc)
            await OutboxEmail.update(
                {
                    OutboxEmail.state: "failed" if give_up else "pending",
                    OutboxEmail.attempts: attempts,
                    OutboxEmail.next_attempt_at: now + backoff(attempts),
                    OutboxEmail.lease_until: None,
                    OutboxEmail.last_error: f"{type(exc).__name__}: {exc}"[:2000],
                }
            ).where(OutboxEmail.id == row.id)
            continue
        await OutboxEmail.update(
            {
                OutboxEmail.state: "sent",
                OutboxEmail.attempts: attempts,
                OutboxEmail.sent_at: datetime.now(UTC),
                OutboxEmail.lease_until: None,
                OutboxEmail.last_error: "",
            }
        ).where(OutboxEmail.id == row.id)
        sent += 1
    return sent


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
        while not self._stopping:
            try:
                await send_due(self.engine, self.settings)
            except Exception:
                log.exception("mail worker pass failed; retrying at the next poll")
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a cancel that arrives as
            # the event is set (a poke racing shutdown), and stop() would then wait forever.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll):
                    await self._wake.wait()
            self._wake.clear()

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.create_task(self.run_forever(), name="mail-worker")

    async def stop(self) -> None:
        if self._task is not None:
            self._stopping = True
            self._wake.set()
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
