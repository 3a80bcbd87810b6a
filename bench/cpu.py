"""Where a measurement's CPU went: the portal's processes, PostgreSQL, Redis and the load generator.

Read from /proc (Linux) before and after a wrk run. On a 2-core machine the portal shares the cores
with the database and with wrk, so how far a second process can raise throughput is bounded by the
CPU every request costs all of them together, not by the portal alone: this prints that bound from
the same run, beside the ratio measured.
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

PROC = Path("/proc")
TICKS = os.sysconf("SC_CLK_TCK")
GROUPS = {"postgres": "PostgreSQL", "redis-server": "Redis"}

T = TypeVar("T")


def _processes() -> dict[int, tuple[int, str, float]]:
    """pid -> (parent pid, command name, CPU seconds so far) for every process still running."""
    found = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:
            continue  # it ended while we read
        # The command name is in parentheses and may hold spaces; the fields after it are numbered
        # from 3 (state), so utime and stime (fields 14 and 15) are at 11 and 12 here.
        name = text[text.index("(") + 1 : text.rindex(")")]
        fields = text[text.rindex(")") + 2 :].split()
        found[int(entry.name)] = (int(fields[1]), name, (int(fields[11]) + int(fields[12])) / TICKS)
    return found


def _by_group(server_pid: int) -> dict[str, float]:
    processes = _processes()
    portal = {server_pid}
    grew = True
    while grew:  # the server and every process under it (uvicorn's workers)
        children = {pid for pid, (parent, _, _) in processes.items() if parent in portal} - portal
        portal |= children
        grew = bool(children)
    totals = dict.fromkeys(["portal", *GROUPS.values()], 0.0)
    for pid, (_, name, seconds) in processes.items():
        if pid in portal:
            totals["portal"] += seconds
        elif name in GROUPS:
            totals[GROUPS[name]] += seconds
    return totals


def _children_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass
class CpuSplit:
    """CPU milliseconds a request, by who spent them, during one measured run."""

    per_request_ms: dict[str, float]

    @property
    def total_ms(self) -> float:
        return sum(self.per_request_ms.values())

    def ceiling(self, cores: int) -> float:
        """Requests/s the machine's cores could serve at this cost if nothing else ran."""
        return 1000 * cores / self.total_ms if self.total_ms else float("inf")

    def describe(self) -> str:
        parts = ", ".join(f"{who} {ms:.2f}" for who, ms in self.per_request_ms.items() if ms >= 0.005)
        return f"{parts} ms of CPU a request ({self.total_ms:.2f} in all)"

    @property
    def deployment_ms(self) -> float:
        """What a request costs the portal, its database and Redis: all but the load generator."""
        return self.total_ms - self.per_request_ms.get("wrk", 0.0)


def mean(splits: list[CpuSplit]) -> CpuSplit:
    """The average cost a request over several runs of the same page."""
    names = {who for split in splits for who in split.per_request_ms}
    return CpuSplit({who: sum(s.per_request_ms.get(who, 0.0) for s in splits) / len(splits) for who in names})


CAPACITY_HEADER = [
    "| page | portal CPU ms | database CPU ms | Redis CPU ms | requests/s per core |",
    "|---|---:|---:|---:|---:|",
]


def capacity_row(page: str, split: CpuSplit, database: str) -> str:
    """One line of the README's capacity table (markdown): CPU milliseconds a request for the portal
    and the database (`database`: "PostgreSQL", or "SQLite", which runs inside the portal's process
    and so is counted in its column), and the requests a core serves at that cost, the load
    generator's share left out."""
    ms = split.per_request_ms
    db_ms = f"{ms.get(database, 0.0):.2f}" if database in ms else "(in portal)"
    per_core = 1000 / split.deployment_ms if split.deployment_ms else float("inf")
    return (
        f"| {page} | {ms.get('portal', 0.0):.2f} | {db_ms} | {ms.get('Redis', 0.0):.2f} | {per_core:,.0f} |"
    )


def measured(
    server_pid: int, run: Callable[[], T], requests_per_second: Callable[[T], float]
) -> tuple[T, CpuSplit]:
    """Run `run` (a wrk run, the bench's only child process meanwhile) and split the CPU it caused."""
    before, wrk_before = _by_group(server_pid), _children_seconds()
    started = time.monotonic()
    result = run()
    elapsed = time.monotonic() - started
    after, wrk_after = _by_group(server_pid), _children_seconds()
    requests = requests_per_second(result) * elapsed
    spent = {who: after[who] - before.get(who, 0.0) for who in after}
    spent["wrk"] = wrk_after - wrk_before
    return result, CpuSplit({who: 1000 * seconds / requests for who, seconds in spent.items()})


def cores() -> int:
    return len(os.sched_getaffinity(0))
