"""A mail worker's name that outlives the process: a slot on this host, held by one live process.

A worker killed mid-batch (SIGKILL, a crash) leaves its rows claimed until their lease runs out.
Each worker takes the first free slot under VAR_DIR (an exclusive `flock`, which the kernel drops
when the process dies, however it dies) and claims rows under that slot's name. A slot that could
be taken has no live holder, so the worker that takes it hands back, at once, whatever the slot's
earlier holder left claimed: a worker restarted on the same host sends those mails straight away
instead of after the lease. Rows of a slot whose holder is alive are never touched.
"""

from __future__ import annotations

import fcntl
import hashlib
import secrets
import socket
from pathlib import Path
from typing import IO

MAX_SLOTS = 64


class WorkerSlot:
    def __init__(self, name: str, lock: IO[str] | None) -> None:
        self.name = name  # 15 hex characters; a claim's token is "<name>/<16 hex>" (claimed_by holds 32)
        self._lock = lock

    @classmethod
    def take(cls, var_dir: Path) -> WorkerSlot:
        """The first free slot; without a writable VAR_DIR, a name of its own (no slot: what a killed
        worker leaves then comes back after the lease, as before)."""
        folder = var_dir / "mail-workers"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            for number in range(MAX_SLOTS):
                lock = (folder / f"slot-{number}.lock").open("a")
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    lock.close()
                    continue
                place = f"{socket.gethostname()}\0{folder.resolve()}\0{number}"
                return cls(hashlib.sha256(place.encode()).hexdigest()[:15], lock)
        except OSError:
            pass
        return cls(secrets.token_hex(8)[:15], None)

    @property
    def held(self) -> bool:
        return self._lock is not None

    def token(self) -> str:
        """A new claim's token: this slot's name and a random part."""
        return f"{self.name}/{secrets.token_hex(8)}"

    def give_up(self) -> None:
        if self._lock is not None:
            self._lock.close()  # the flock goes with the file
            self._lock = None
