"""A real SMTP server (aiosmtpd) that receives every email the app sends, and readers of those emails."""

from __future__ import annotations

import email
import email.policy
import queue
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.support.environment import BASE_URL, free_port


@dataclass
class Mailbox:
    """Messages received by the test SMTP server, in arrival order.

    In request tests `deliverer` sends what the app's outbox holds (tests/support/client.py's
    `deliver`, set by the `client` fixture), as the mail worker would, each time the test looks for
    mail. Tests of the mail worker itself leave it unset and wait for their worker to send."""

    received: queue.Queue[EmailMessage] = field(default_factory=queue.Queue)
    deliverer: Callable[[], Any] | None = None

    def wait_for(
        self, to: str | None = None, subject: str | None = None, timeout: float = 10
    ) -> EmailMessage:
        """The next message (matching to/subject) that arrives within timeout; fails otherwise."""
        skipped = []
        deadline = time.monotonic() + timeout
        try:
            while True:
                if self.deliverer is not None:
                    self.deliverer()
                try:
                    message = self.received.get(timeout=min(0.05, max(deadline - time.monotonic(), 0)))
                except queue.Empty:
                    if time.monotonic() >= deadline:
                        raise
                    continue
                if (to is None or to.lower() in message["To"].lower()) and (
                    subject is None or subject.lower() in message["Subject"].lower()
                ):
                    return message
                skipped.append(message)
        except queue.Empty:
            summary = [(m["To"], m["Subject"]) for m in skipped]
            raise AssertionError(
                f"no email to={to!r} subject={subject!r} within {timeout}s; got {summary}"
            ) from None
        finally:
            for message in skipped:
                self.received.put(message)

    def drain(self) -> list[EmailMessage]:
        if self.deliverer is not None:
            self.deliverer()
        out = []
        while not self.received.empty():
            out.append(self.received.get_nowait())
        return out


class Handler:
    """Accepts every message and puts it in the mailbox."""

    def __init__(self, mailbox: Mailbox) -> None:
        self.mailbox = mailbox

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.mailbox.received.put(message)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


class SMTPServer:
    def __init__(self) -> None:
        self.mailbox = Mailbox()
        self.port = free_port()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(Handler(self.mailbox), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return part.get_content()  # type: ignore[no-any-return]


def link_in(message: EmailMessage, path_prefix: str) -> str:
    """The path of the first link in the email's text part that starts with BASE_URL + path_prefix."""
    match = re.search(re.escape(BASE_URL) + r"(" + re.escape(path_prefix) + r"[^\s]*)", text_of(message))
    assert match, f"no {path_prefix} link in: {text_of(message)}"
    return match.group(1)


def assert_no_more_mail(mailbox: Mailbox, to: str) -> None:
    """No further email to `to`, checked at once, never by waiting: exact once whatever could send
    has finished, as every SMTP transaction it began has then ended (a message is in the mailbox
    before the server answers 250). With a deliverer, everything due is sent first; a test of the
    mail worker calls this after its `send_due` returned, or after its worker (a task or a process)
    has stopped."""
    with pytest.raises(AssertionError, match="no email"):
        mailbox.wait_for(to=to, timeout=0)
