"""SMTP connections kept open and reused: opening one (TCP, EHLO, perhaps TLS and a log-in) for
every message capped a worker at about 9 emails a second."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

import aiosmtplib

if TYPE_CHECKING:
    from email.message import Message

    from src.settings import Settings

# A server may close an idle connection; a message refused that way is sent again once, on a new one.
_STALE = (aiosmtplib.SMTPServerDisconnected, ConnectionError)


class SmtpConnections:
    """Open connections to the configured server, each used by one send at a time."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._idle: list[aiosmtplib.SMTP] = []

    async def _connect(self) -> aiosmtplib.SMTP:
        settings = self.settings
        client = aiosmtplib.SMTP(
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_user,
            password=settings.smtp_password,
            use_tls=settings.smtp_tls == "tls",
            start_tls=True if settings.smtp_tls == "starttls" else False,
            timeout=settings.smtp_timeout,
        )
        await client.connect()  # also STARTTLS and the log-in, as configured above
        return client

    async def send(self, message: Message) -> None:
        client = self._idle.pop() if self._idle else None
        if client is not None and client.is_connected:
            try:
                await client.send_message(message)
            except _STALE:
                client.close()
            except BaseException:
                client.close()
                raise
            else:
                self._idle.append(client)
                return
        elif client is not None:
            client.close()
        client = await self._connect()
        try:
            await client.send_message(message)
        except BaseException:
            client.close()  # after any failure the session's state is unknown: start afresh next time
            raise
        self._idle.append(client)

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for client in idle:
            with contextlib.suppress(Exception):
                await client.quit()
            client.close()
