"""`python -m bench.scale [--short]` (`make scale-check`, `make scale-check-short`): see bench/README.md,
"Scale check". Exits 1 when a rule is broken, 2 when the deployment could not be set up."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import io
import json
import os
import resource
import secrets
import shutil
import signal
import sys
import time
from collections.abc import Awaitable
from dataclasses import dataclass

import redis

from bench.scale import env, nginx, stack, users, verdict
from bench.scale.seed import Cast, seed
from bench.scale.sink import Sink
from bench.scale.tcp_proxy import TcpProxy
from bench.seed import _recreate_postgres, prepare_database
from bench.server import _free_port as free_port
from src import db, mail
from src.accounts.login import LOCK_AFTER
from src.clock import today_in
from src.db import write_transaction
from src.routes.session import IP_FAILURES_LIMIT
from src.settings import load_settings
from src.tables.accounts import Account
from src.tables.outbox import OutboxEmail

WEB_PROCESSES = 3
MAIL_WORKERS = 2
BURST = 60  # emails queued at once so that a worker is killed with a batch in hand
CLAIM_TAKEN_BACK = 15.0  # seconds after a killed worker's successor runs by which its claim must arrive


@dataclass(frozen=True)
class Timeline:
    """Seconds from the start of the load (the full form; `--short` compresses it)."""

    web_kill: float = 8
    web_down: float = 10
    mail_kill: float = 14
    mail_down: float = 5
    cut_not_before: float = 40
    cut_for: float = 5
    load_at_least: float = 60
    after_cut: float = 10
    drain_timeout: float = 90
    seeded: float = 1.0  # share of the full form's offers and connections


SHORT = Timeline(
    web_kill=3,
    web_down=4,
    mail_kill=5,
    mail_down=3,
    cut_not_before=0,
    cut_for=5,
    load_at_least=0,
    after_cut=6,
    drain_timeout=25,
    seeded=0.5,
)


class Check:
    cast: Cast

    def __init__(self, timeline: Timeline) -> None:
        self.timeline = timeline
        self.proxy = TcpProxy(*stack.upstream_address(), free_port())
        self.smtp_ports = [free_port() for _ in range(MAIL_WORKERS)]
        self.sink = Sink(self.smtp_ports)
        self.nginx_port = free_port()
        self.base = f"http://127.0.0.1:{self.nginx_port}"
        self.host = f"127.0.0.1:{self.nginx_port}"
        common = stack.portal_env(env.TMP, "var", self.base, self.proxy.port, secrets.token_urlsafe(48))
        self.webs = [stack.web_process(env.TMP, i, free_port(), common) for i in range(WEB_PROCESSES)]
        self.workers = [
            stack.worker_process(env.TMP, i, port, common) for i, port in enumerate(self.smtp_ports)
        ]
        self.nginx = nginx.nginx_process(env.TMP, [w.port for w in self.webs], self.nginx_port)
        self.record = users.Record()
        self.phases = verdict.Phases()
        self.notes: list[str] = []
        self.failures: list[str] = []
        self.held_back: list[str] = []
        self.worker_back_at = 0.0

    # The deployment
    async def start(self) -> None:
        """The processes, and the people seeded while they start (the tables exist by now)."""
        self.sink.start()
        await self.proxy.restore()
        for process in [*self.webs, *self.workers, self.nginx]:
            process.start()
        seeding = time.monotonic()
        self.cast = await seed(today_in(load_settings().tz), self.timeline.seeded)
        self.notes.append(f"people seeded in {time.monotonic() - seeding:.1f} s while the processes started")
        started = await asyncio.gather(*(stack.wait_ready(web, self.host) for web in self.webs))
        self.notes.append(
            f"web processes ready {', '.join(f'{s:.1f}' for s in started)} s after they started"
        )

    def stop(self) -> None:
        for process in [self.nginx, *self.webs, *self.workers]:
            process.stop()
        self.sink.stop()

    # The disturbances
    async def until(self, at: float) -> None:
        await asyncio.sleep(max(0.0, at - self.record.now()))

    async def restart_web(self, web: stack.Web, sig: signal.Signals, down: float) -> tuple[float, float]:
        """Stop a web process with `sig`, start it `down` seconds later; (seconds it took to stop,
        seconds from its start until /readyz said yes)."""
        stopping = time.monotonic()
        web.signal(sig)
        grace = 35.0  # more than SHUTDOWN_GRACE_SECONDS (20), as the unit's TimeoutStopSec
        if await web.exited(grace) is None:
            raise RuntimeError(f"{web.name} still running {grace:.0f} s after {sig.name}")
        stopped_in = time.monotonic() - stopping
        await asyncio.sleep(down)
        web.start()
        return stopped_in, await stack.wait_ready(web, self.host)

    async def scenario(self, probes: Awaitable[None]) -> None:
        t = self.timeline
        await probes
        await self.until(t.web_kill)
        started = self.record.now()
        _, ready_in = await self.restart_web(self.webs[0], signal.SIGKILL, t.web_down)
        self.phases.add("web SIGKILL", started, self.record.now())
        self.notes.append(f"web SIGKILL phase: {started:.1f}-{self.record.now():.1f} s")
        self.notes.append(
            f"web0 killed, started again {t.web_down:.0f} s later, ready {ready_in:.1f} s after"
        )
        # As the README's rolling restart: one process at a time, each ready, then nginx's
        # fail_timeout, after which nginx sends it requests again.
        settle = nginx.fail_timeout()
        await asyncio.sleep(settle)
        started = self.record.now()
        for web in self.webs:
            stopped_in, ready_in = await self.restart_web(web, signal.SIGTERM, 0)
            self.notes.append(
                f"rolling restart: {web.name} stopped {stopped_in:.1f} s after SIGTERM, "
                f"ready again {ready_in:.1f} s after it started"
            )
            await asyncio.sleep(settle)
        self.phases.add("rolling restart", started, self.record.now())
        self.notes.append(f"rolling restart phase: {started:.1f}-{self.record.now():.1f} s")
        await self.until(t.cut_not_before)
        cut = self.record.now()
        await self.proxy.cut()
        await asyncio.sleep(t.cut_for)
        await self.proxy.restore()
        self.phases.cut = (cut, self.record.now())
        self.notes.append(f"database cut: {cut:.1f}-{self.record.now():.1f} s")
        await self.until(max(t.load_at_least, self.record.now() + t.after_cut))

    async def kill_worker_mid_batch(self) -> None:
        """Hold the sink, queue a burst, kill the first worker caught sending, let the rest through."""
        await self.until(self.timeline.mail_kill)
        self.sink.hold()
        try:
            async with write_transaction():
                for i in range(BURST):
                    await mail.enqueue(
                        f"burst{i}@scale.example.com",
                        "password_changed",
                        {"first_name": "Scale"},
                        f"scale:burst:{i}",
                    )
            burst = {verdict.message_id(f"scale:burst:{i}", self.base) for i in range(BURST)}
            deadline = time.monotonic() + 20
            while not (sending := [p for p, ids in self.sink.holding().items() if ids & burst]):
                if time.monotonic() > deadline:
                    self.failures.append("no mail worker took the burst within 20 s")
                    return
                await asyncio.sleep(0.02)
            port = sending[0]
            # Let the worker's other senders reach the sink too: it is then mid-batch, rows sent and
            # marked, rows in flight, rows claimed and not yet started.
            await asyncio.sleep(0.5)
            worker = self.workers[self.smtp_ports.index(port)]
            in_flight = self.sink.holding()[port]
            claims = await OutboxEmail.select(OutboxEmail.idempotency_key, OutboxEmail.claimed_by).where(
                OutboxEmail.state == "sending"
            )
            self.sink.gone.add(port)
            worker.signal(signal.SIGKILL)
            await worker.exited(5)
        finally:
            self.sink.release()
        ids = {verdict.message_id(row["idempotency_key"], self.base): row["claimed_by"] for row in claims}
        tokens = {ids[mid] for mid in in_flight if mid in ids}
        self.held_back = [mid for mid, token in ids.items() if token in tokens]
        self.notes.append(
            f"{worker.name} killed (SIGKILL) mid-batch: {len(in_flight)} messages in flight, "
            f"{len(self.held_back)} rows in its claim"
        )
        await asyncio.sleep(self.timeline.mail_down)
        self.sink.gone.discard(port)
        worker.start()
        # From when it runs: how long Python takes to start on a busy machine is not the point.
        self.worker_back_at = await worker.said("Mail worker running", 60)

    async def probes(self) -> None:
        """Failed log-ins counted across processes as in one: the account's lock-out (in the
        database) and the per-address limit (in Redis), each sent to one process, then spread."""
        backends = [f"http://127.0.0.1:{w.port}" for w in self.webs]
        half = len(self.cast.address_probes) // 2
        results = await asyncio.gather(
            self._probe("one process", backends[-1:], "lockone", 2, self.cast.address_probes[:half]),
            self._probe("three processes", backends, "lockmany", 3, self.cast.address_probes[half:]),
        )
        wanted = (LOCK_AFTER, IP_FAILURES_LIMIT + 1)
        for label, got in results:
            self.notes.append(
                f"failed log-ins over {label}: the account locked after {got[0]}, "
                f"the address refused (429) at attempt {got[1]}"
            )
            if got != wanted:
                self.failures.append(
                    f"failed log-ins over {label}: lock-out after {got[0]} and address limit at {got[1]}, "
                    f"not {wanted[0]} and {wanted[1]} as the rules say"
                )

    async def _probe(
        self, label: str, backends: list[str], account: str, subnet: int, aimed_at: list[str]
    ) -> tuple[str, tuple[int | None, int | None]]:
        async def locked() -> bool:
            row = await Account.select(Account.locked_until).where(Account.username == account).first()
            return row is not None and row["locked_until"] is not None

        lock, refused = await asyncio.gather(
            users.wrong_log_ins_until(
                backends,
                self.host,
                account,
                functools.partial("127.0.{}.{}".format, subnet),
                self.record,
                locked,
                LOCK_AFTER + 3,
            ),
            users.refused_from(
                backends, self.host, f"127.0.{subnet}.200", aimed_at, self.record, IP_FAILURES_LIMIT + 3
            ),
        )
        return label, (lock, refused)

    async def drain(self) -> float:
        started = time.monotonic()
        deadline = started + self.timeline.drain_timeout
        while await OutboxEmail.count().where(OutboxEmail.state.is_in(["pending", "sending"])):
            if time.monotonic() > deadline:
                break
            await asyncio.sleep(0.25)
        await asyncio.sleep(0.5)  # the last message's answer and mark
        return time.monotonic() - started

    async def run(self) -> None:
        cast = self.cast
        self.record.clock = time.monotonic()  # times are from the start of the load
        stop = asyncio.Event()
        today = today_in(load_settings().tz)
        people = [
            users.signed_in_person(person, self.base, f"127.0.0.{10 + i}", self.record, stop, today)
            for i, person in enumerate([*cast.third_parties, *cast.learners])
        ]
        people += [
            users.scanner(cast.verify_codes, self.base, f"127.0.0.{100 + i}", self.record, stop)
            for i in range(2)
        ]
        people.append(users.logging_in(cast, self.base, self.record, stop))
        load = [asyncio.create_task(p) for p in people]
        mail_kill = asyncio.create_task(self.kill_worker_mid_batch())
        try:
            await self.scenario(self.probes())
            await mail_kill
        except RuntimeError as exc:  # a process that did not stop or start: said, and the run ends
            self.failures.append(f"the scenario stopped: {exc}")
        finally:
            stop.set()
            ended = await asyncio.gather(*load, return_exceptions=True)
            mail_kill.cancel()
            await asyncio.gather(mail_kill, return_exceptions=True)  # its sink hold released
        self.failures += [f"a simulated person stopped: {e!r}" for e in ended if isinstance(e, BaseException)]


async def main(timeline: Timeline, short: bool) -> int:
    began = time.monotonic()
    print(
        f"Scale check{' (short)' if short else ''}: database {env.DB_NAME}, Redis {env.REDIS_URL}, load average {_load()}"
    )
    redis.Redis.from_url(env.REDIS_URL).flushdb()
    check: Check | None = None
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # Piccolo's table of migrations
            await prepare_database()
        await db.open_pool()  # the check's own queries: seeding, checking (a connection each is 5x slower)
        check = Check(timeline)
        try:
            await check.start()
        except RuntimeError as exc:
            print(f"could not start the deployment: {exc}")
            return 2
        print(f"deployment up {time.monotonic() - began:.1f} s after the start; the load begins")
        cpu_before = _cpu_self()
        await check.run()
        load_seconds = check.record.now()
        drained = await check.drain()
        harness_cpu = _cpu_self() - cpu_before
        return await report(check, load_seconds, drained, harness_cpu, began)
    finally:
        if check is not None:
            check.stop()
        await db.close_pool()
        await _recreate_postgres(env.DB_URL, drop_only=True)
        redis.Redis.from_url(env.REDIS_URL).flushdb()
        if os.environ.get("SCALE_KEEP"):
            print(f"kept {env.TMP} (SCALE_KEEP is set)")
        else:
            shutil.rmtree(env.TMP, ignore_errors=True)


async def report(check: Check, load_seconds: float, drained: float, harness_cpu: float, began: float) -> int:
    failures = list(check.failures)
    print("\n".join(f"  {note}" for note in check.notes))
    print(f"\nRequests through nginx by phase ({load_seconds:.0f} s of load; 503+RA: 503 with Retry-After)")
    print("\n".join(verdict.table(check.record, check.phases)))
    failures += verdict.request_failures(check.record, check.phases)
    recovery = verdict.recovery_seconds(check.record, check.phases)
    if recovery is not None:
        print(
            f"database cut {check.timeline.cut_for:.0f} s: the last failed request was sent {recovery:.1f} s after it was back"
        )
        if recovery > verdict.RECOVERY_LIMIT:
            failures.append(
                f"recovery after the database cut took {recovery:.1f} s (at most {verdict.RECOVERY_LIMIT:.0f})"
            )
    action_problems, seen = await verdict.action_failures(check.record.actions)
    print(
        "POSTs: "
        + ", ".join(f"{what} {n}" for what, n in sorted(seen.items()))
        + " (each checked in the database)"
    )
    failures += action_problems
    mail_problems, figures = await verdict.mail_failures(check.sink.ids, check.base)
    print(
        "mail: "
        + ", ".join(f"{what} {n}" for what, n in figures.items())
        + f" (drained {drained:.1f} s after the load)"
    )
    failures += mail_problems
    if check.held_back:
        late = [
            check.sink.arrived_at.get(mid, float("inf")) - check.worker_back_at for mid in check.held_back
        ]
        print(
            f"  the {len(late)} emails the killed worker had claimed arrived {max(late):.1f} s after its successor ran"
        )
        if max(late) > CLAIM_TAKEN_BACK:
            failures.append(
                f"the killed worker's claim waited {max(late):.0f} s after its successor ran (at most {CLAIM_TAKEN_BACK:.0f})"
            )
    print(
        f"harness CPU (driver, proxy, sink): {harness_cpu:.1f} s; load average {_load()}; "
        f"{time.monotonic() - began:.0f} s in all"
    )
    if os.environ.get("SCALE_KEEP"):
        samples = [dataclasses.asdict(s) | {"phase": check.phases.of(s)} for s in check.record.samples]
        (env.TMP / "samples.json").write_text(json.dumps(samples))
    if failures:
        print("FAIL:\n" + "\n".join(f"  - {f}" for f in failures))
        for process in [*check.webs, *check.workers, check.nginx]:
            if "Traceback" in process.tail(200):
                print(f"\n--- {process.name}, last lines ---\n{process.tail(25)}")
        return 1
    print("OK: no request a person would notice failed, nothing applied twice or half, every email once.")
    return 0


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _cpu_self() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def entry() -> int:
    short = "--short" in sys.argv[1:]
    return asyncio.run(main(SHORT if short else Timeline(), short))


if __name__ == "__main__":
    sys.exit(entry())
