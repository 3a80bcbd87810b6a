"""A process of the deployment the check starts, stops, kills and reads the log of."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Process:
    name: str
    command: list[str]
    env: dict[str, str]
    log: Path
    popen: subprocess.Popen[bytes] | None = None
    starts: list[float] = field(default_factory=list)

    def start(self) -> None:
        with self.log.open("ab") as log:
            log.write(f"\n--- start at {time.strftime('%H:%M:%S')} ---\n".encode())
            self.popen = subprocess.Popen(  # noqa: S603 - our own interpreter and nginx
                self.command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        self.starts.append(time.monotonic())

    def signal(self, sig: signal.Signals) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.send_signal(sig)

    async def exited(self, seconds: float) -> int | None:
        """Wait for the process to end; its exit code, or None when it outlived `seconds`."""
        deadline = time.monotonic() + seconds
        while self.popen is not None and self.popen.poll() is None:
            if time.monotonic() > deadline:
                return None
            await asyncio.sleep(0.05)
        return None if self.popen is None else self.popen.returncode

    def stop(self) -> None:
        """At the end: SIGTERM, then SIGKILL if it does not go."""
        if self.popen is None or self.popen.poll() is not None:
            return
        self.popen.terminate()
        try:
            self.popen.wait(timeout=25)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()

    async def said(self, line: str, seconds: float) -> float:
        """Wait until the latest start's log has `line`; the time it was seen (monotonic)."""
        deadline = time.monotonic() + seconds
        while True:
            with contextlib.suppress(OSError):
                if line in self.log.read_text(errors="replace").rpartition("--- start at")[2]:
                    return time.monotonic()
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not say {line!r} within {seconds:.0f} s:\n{self.tail()}")
            await asyncio.sleep(0.1)

    def tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return ""
