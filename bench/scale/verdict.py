"""What the check concludes: the table of requests by phase, and every rule of issue 23 it holds the
run to, each failure said in words a person would use."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from bench.scale import env  # noqa: F401 - first: the database named before src is imported
from bench.scale.users import Action, Record, Sample
from src.tables.connections import AccessEvent, Connection, SharedDocument
from src.tables.outbox import OutboxEmail

RECOVERY_LIMIT = 5.0  # seconds after the database is back by which everything must answer again


@dataclass
class Phases:
    """When each disturbance began and ended, in seconds from the start of the load."""

    windows: list[tuple[str, float, float]] = field(default_factory=list)
    cut: tuple[float, float] | None = None

    def add(self, name: str, start: float, end: float) -> None:
        self.windows.append((name, start, end))

    def of(self, sample: Sample) -> str:
        if self.cut is not None:
            cut_start, restored = self.cut
            if sample.started < restored and sample.ended > cut_start:
                return "database cut"
            if restored <= sample.started < restored + RECOVERY_LIMIT:
                return "after the cut (5 s)"
        for name, start, end in self.windows:
            if sample.started < end and sample.ended > start:  # in flight when it began counts too
                return name
        return "steady"

    def names(self) -> list[str]:
        names = ["steady", *(name for name, _, _ in self.windows)]
        if self.cut is not None:
            names += ["database cut", "after the cut (5 s)"]
        return list(dict.fromkeys(names))


def _outcome(sample: Sample) -> str:
    if sample.status == 0:
        return "no answer"
    if sample.status == 503:
        return "503+RA" if sample.retry_after else "503"
    if sample.status >= 500:
        return "5xx"
    if sample.status == 429:
        return "429"
    return f"{sample.status // 100}xx"


COLUMNS = ["2xx", "3xx", "4xx", "429", "503+RA", "503", "5xx", "no answer"]


def p99(values: list[float]) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def table(record: Record, phases: Phases) -> list[str]:
    by_phase: dict[str, Counter[str]] = {name: Counter() for name in phases.names()}
    times: dict[str, list[float]] = {name: [] for name in phases.names()}
    for sample in record.samples:
        phase = phases.of(sample)
        by_phase.setdefault(phase, Counter())[_outcome(sample)] += 1
        by_phase[phase]["signed out"] += sample.signed_out
        times.setdefault(phase, []).append(sample.ended - sample.started)
    head = (
        f"{'phase':<22}{'requests':>9}"
        + "".join(f"{c:>10}" for c in COLUMNS)
        + f"{'signed out':>11}{'p99':>9}"
    )
    lines = [head]
    for name, counts in by_phase.items():
        total = sum(counts[c] for c in COLUMNS)
        lines.append(
            f"{name:<22}{total:>9}"
            + "".join(f"{counts[c]:>10}" for c in COLUMNS)
            + f"{counts['signed out']:>11}{1000 * p99(times[name]):>7.0f}ms"
        )
    return lines


def request_failures(record: Record, phases: Phases) -> list[str]:
    failures = []
    gets: Counter[str] = Counter()
    during_cut: Counter[str] = Counter()
    for sample in record.samples:
        phase = phases.of(sample)
        error = sample.status == 0 or sample.status >= 500
        if phase in ("database cut", "after the cut (5 s)"):
            if error and not (sample.status == 503 and sample.retry_after):
                during_cut[f"{sample.method} {sample.what} {_outcome(sample)} {sample.error}".strip()] += 1
        elif error and sample.method == "GET":
            gets[f"{sample.what} {_outcome(sample)} {sample.error} ({phase})".strip()] += 1
    failures += [f"GET answered {what}: {n} times outside the database cut" for what, n in gets.items()]
    failures += [
        f"during or just after the database cut, {what}: {n} times" for what, n in during_cut.items()
    ]
    signed_out = sum(s.signed_out for s in record.samples)
    if signed_out:
        failures.append(f"{signed_out} requests of signed-in people were sent to the log-in page")
    return failures


def recovery_seconds(record: Record, phases: Phases) -> float | None:
    """Seconds after the database came back until the last request that still failed was sent."""
    if phases.cut is None:
        return None
    restored = phases.cut[1]
    late = [
        s.started - restored
        for s in record.samples
        if s.started >= restored and (s.status == 0 or s.status >= 500)
    ]
    return max(late, default=0.0)


async def action_failures(actions: list[Action]) -> tuple[list[str], Counter[str]]:
    """Each POST asked in the database: applied at most once, whole, and applied when it said so."""
    failures: list[str] = []
    seen: Counter[str] = Counter()
    for action in actions:
        done = action.status == 303
        seen[f"{action.kind} {'done' if done else action.status or 'no answer'}"] += 1
        problem = await _applied(action)
        if problem is None and not done:
            continue
        if problem == "not applied" and not done:
            continue
        if problem is not None:
            failures.append(
                f"{action.kind} {action.marker} (answered {action.status or 'nothing'}): {problem}"
            )
    return failures, seen


async def _applied(action: Action) -> str | None:
    """None when the action is in the database once and whole; otherwise what is wrong."""
    if action.kind in ("share", "add"):
        column = Connection.third_party_email if action.kind == "share" else Connection.learner_email
        ids = [row["id"] for row in await Connection.select(Connection.id).where(column == action.marker)]
        if not ids:
            return "not applied"
        if len(ids) > 1:
            return f"applied {len(ids)} times"
        audit = await AccessEvent.count().where(AccessEvent.connection == ids[0])
        if audit != 1:
            return f"half-applied: {audit} audit records"
        if action.kind == "share":
            shared = await SharedDocument.count().where(SharedDocument.connection == ids[0])
            mails = await OutboxEmail.count().where(OutboxEmail.recipient == action.marker)
            if shared != 2 or mails != 1:
                return f"half-applied: {shared} documents shared of 2, {mails} emails of 1"
        return None
    connection_id = int(action.marker)
    state = await Connection.select(Connection.state).where(Connection.id == connection_id).first()
    wanted = {"accept": "active", "cancel": "cancelled"}[action.kind]
    if state is None or state["state"] != wanted:
        return "not applied"
    audit = await AccessEvent.count().where(
        (AccessEvent.connection == connection_id)
        & (AccessEvent.action == {"accept": "accepted", "cancel": "cancelled"}[action.kind])
    )
    template = {"accept": "connection_accepted", "cancel": "connection_cancelled"}[action.kind]
    mails = await OutboxEmail.count().where(
        OutboxEmail.idempotency_key.like(f"connection:{connection_id}:%") & (OutboxEmail.template == template)
    )
    if audit != 1 or mails != 1:
        return f"applied with {audit} audit records and {mails} emails (1 each wanted)"
    return None


def message_id(idempotency_key: str, base_url: str) -> str:
    """The Message-ID the worker gives an outbox row (src/mail/render.py, build_message)."""
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]
    return f"<{digest}@{urlsplit(base_url).hostname or 'portal.invalid'}>"


async def mail_failures(received: Counter[str], base_url: str) -> tuple[list[str], dict[str, int]]:
    rows = await OutboxEmail.select(OutboxEmail.idempotency_key, OutboxEmail.state)
    expected = {message_id(row["idempotency_key"], base_url): row["state"] for row in rows}
    states = Counter(row["state"] for row in rows)
    lost = [key for key, state in expected.items() if received[key] == 0]
    twice = {key: n for key, n in received.items() if n > 1}
    strangers = [key for key in received if key not in expected]
    figures = {
        "queued": len(rows),
        "delivered": sum(1 for key in expected if received[key] > 0),
        "duplicated": sum(n - 1 for n in twice.values()),
        "lost": len(lost),
        "not sent": len(rows) - states["sent"],
    }
    failures = []
    if lost:
        failures.append(f"{len(lost)} emails never arrived (outbox states: {dict(states)})")
    if twice:
        failures.append(f"{len(twice)} emails arrived more than once ({figures['duplicated']} extra copies)")
    if strangers:
        failures.append(f"{len(strangers)} messages arrived that the outbox does not hold")
    return failures, figures
