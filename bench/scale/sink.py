"""The mail sink: a local SMTP server (aiosmtpd) that counts messages by Message-ID, one port per mail
worker, so the check knows whose message it is holding.

To kill a worker in the middle of a batch, not between two, the check asks the sink to hold every
message at its end of DATA (the worker is then mid-send, with the rest of its batch claimed),
kills the worker whose message is held, and lets the others through. A held message of the killed
worker is answered with an error, never accepted, since its sender is gone: it was never delivered,
so the worker that takes the row over must deliver it once, and anything else is a loss or a duplicate.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from typing import Any

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, ports: list[int]) -> None:
        self.ids: Counter[str] = Counter()
        self.ports = ports
        self._lock = threading.Lock()
        self._hold = threading.Event()  # set: messages pass; clear: they wait
        self._hold.set()
        self.held: dict[int, set[str]] = {port: set() for port in ports}
        self.gone: set[int] = set()  # ports whose worker was killed while its message was held
        self.arrived_at: dict[str, float] = {}
        self.last_at = 0.0
        self._controllers = [
            Controller(_Handler(self, port), hostname="127.0.0.1", port=port) for port in ports
        ]

    def start(self) -> None:
        for controller in self._controllers:
            controller.start()

    def stop(self) -> None:
        for controller in self._controllers:
            controller.stop()

    def hold(self) -> None:
        self._hold.clear()

    def release(self) -> None:
        self._hold.set()

    def holding(self) -> dict[int, set[str]]:
        """The Message-IDs held at each port just now."""
        with self._lock:
            return {port: set(ids) for port, ids in self.held.items()}

    async def deliver(self, port: int, message_id: str) -> str:
        with self._lock:
            self.held[port].add(message_id)
        try:
            # Polled: the flag is set from the check's thread, and each port's server runs a loop
            # of its own in another.
            while not self._hold.is_set():  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        finally:
            with self._lock:
                self.held[port].discard(message_id)
        with self._lock:
            if port in self.gone:
                return "421 4.3.0 sender gone before the message was accepted"
            self.ids[message_id] += 1
            self.arrived_at.setdefault(message_id, time.monotonic())
            self.last_at = time.monotonic()
        return "250 OK"


class _Handler:
    def __init__(self, sink: Sink, port: int) -> None:
        self.sink = sink
        self.port = port

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message_id = next(
            (
                line.split(b":", 1)[1].strip().decode()
                for line in envelope.content.splitlines()
                if line.lower().startswith(b"message-id:")
            ),
            "",
        )
        return await self.sink.deliver(self.port, message_id)
