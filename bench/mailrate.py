"""Mail throughput: EMAILS emails queued through the real outbox (`mail.enqueue`), sent by one and
then two `portal worker` processes to a local aiosmtpd server; mails/s from the commit of the
queue to the last message received, and a check that every message arrived exactly once."""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from typing import Any

from aiosmtpd.controller import Controller

from bench.env import ROOT
from bench.server import _free_port
from src import mail
from src.db import write_transaction
from src.settings import new_signing_key
from src.tables.outbox import OutboxEmail

EMAILS = int(os.environ.get("BENCH_EMAILS", "2000"))


class _Counting:
    def __init__(self) -> None:
        self.ids: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.all_in = threading.Event()
        self.expected = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message_id = next(
            (
                line.split(b":", 1)[1].strip().decode()
                for line in envelope.content.splitlines()
                if line.lower().startswith(b"message-id:")
            ),
            "",
        )
        with self.lock:
            self.ids[message_id] += 1
            if sum(self.ids.values()) >= self.expected:
                self.all_in.set()
        return "250 OK"


async def _queue(run: str) -> None:
    await OutboxEmail.delete(force=True)
    async with write_transaction():
        for i in range(EMAILS):
            await mail.enqueue(
                f"bench{i}@example.com", "password_changed", {"first_name": "Bench"}, f"bench:{run}:{i}"
            )


def mails_per_second(database_url: str, workers: int) -> tuple[float, int]:
    """(mails/s, messages received more than once) with `workers` worker processes."""
    handler = _Counting()
    handler.expected = EMAILS
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    env = {
        **os.environ,
        "PORTAL_MODE": "production",
        "SECRET_KEYS": secrets.token_hex(32),
        "SIGNING_KEYS": new_signing_key(),
        "BASE_URL": "http://127.0.0.1:9",
        "DATABASE_URL": database_url,
        "VAR_DIR": tempfile.mkdtemp(prefix="portal-bench-mail-"),
        "MAIL_DELIVERY": "smtp",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(port),
        "MAIL_POLL_SECONDS": "0.2",
        "REMINDER_INTERVAL_SECONDS": "86400",
        "PYTHONPATH": str(ROOT),
    }
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "src.cli", "worker"], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
        )
        for _ in range(workers)
    ]
    try:
        for process in processes:  # each says so once it polls
            assert process.stdout is not None
            process.stdout.readline()
        asyncio.run(_queue(f"{workers}-{secrets.token_hex(3)}"))
        started = time.perf_counter()
        if not handler.all_in.wait(timeout=600):
            raise SystemExit(f"only {sum(handler.ids.values())} of {EMAILS} emails arrived")
        elapsed = time.perf_counter() - started
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        controller.stop()
    duplicates = sum(count - 1 for count in handler.ids.values() if count > 1)
    return EMAILS / elapsed, duplicates
