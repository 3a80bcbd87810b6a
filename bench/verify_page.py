"""The verify page under a real HTTP server: `python -m bench.verify_page` (for `make bench`).

Issue 8's target: with 1,000,000 documents in SQLite the verify page's throughput is at least 0.30 x
the same server's plain-text /healthz, p99 <= 50 ms at 64 concurrent connections (PostgreSQL: at
least 0.15 x). Measured here in one run: a throw-away database seeded in bulk, `portal serve` (what
`make run` starts) as a subprocess, and `wrk` over loopback against /healthz and /v/CODE in turn
(codes drawn at random from the seeded ones), medians of three rounds. Exits 1 when a target is
missed.

Environment: BENCH_DOCUMENTS (default 1,000,000), BENCH_DATABASE_URL (a PostgreSQL database whose
name contains "bench": dropped and re-created), BENCH_SECONDS (per wrk run, default 10),
BENCH_CONNECTIONS (default 64), BENCH_VERIFY_ROUNDS (default 3).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TMP = Path(tempfile.mkdtemp(prefix="portal-bench-verify-"))
PG_URL = os.environ.get("BENCH_DATABASE_URL", "").strip()
DB_URL = PG_URL or f"sqlite:///{TMP / 'bench.sqlite3'}"
DOCUMENTS = int(os.environ.get("BENCH_DOCUMENTS", "1000000"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "64"))
MIN_RATIO = 0.15 if PG_URL else 0.30
# Each figure is the median of ROUNDS runs, /healthz and the page taken in turn: on a shared machine
# the speed of both moves by a quarter within a minute, and one slow spell in one run would
# otherwise decide the ratio or the p99 alone.
ROUNDS = int(os.environ.get("BENCH_VERIFY_ROUNDS", "3"))
MAX_P99_MS = 50.0
BATCH = 10_000
SAMPLE = 2_000  # codes the load generator picks from

os.environ.update(
    {
        "DATABASE_URL": DB_URL,
        "VAR_DIR": str(TMP),
        "RUN_MAIL_WORKER": "false",
        "PORTAL_MODE": "development",
        "MAIL_DELIVERY": "mailbox",
    }
)
os.environ.pop("REDIS_URL", None)
sys.path.insert(0, str(ROOT))

from bench import cpu  # noqa: E402
from src.documents import new_verify_code, snapshot  # noqa: E402


def _rows(start: int, count: int, owner: int) -> list[tuple[object, ...]]:
    rows = []
    for n in range(start, start + count):
        awarded = date(2020, 1, 1) + timedelta(days=n % 2000)
        content, digest = snapshot(
            {
                "title": "Level 3 Diploma in Data Analysis",
                "certificate_number": f"BEN-{n:08d}",
                "awarded_on": awarded,
                "name_as_printed": "Bench Learner",
                "level": "3",
            }
        )
        rows.append(
            (
                owner,
                "Level 3 Diploma in Data Analysis",
                "Bench Learner",
                "3",
                awarded.isoformat(),
                f"BEN-{n:08d}",
                new_verify_code(),
                n % 2 == 0,  # half show the document itself: the heavier page
                json.dumps(content),
                digest,
            )
        )
    return rows


def _draw(rows: list[tuple[object, ...]], start: int) -> list[tuple[str, bool]]:
    """The codes (and whether the document is shown on its page) the load generator picks from: rows
    drawn at random from each batch, the same ones every run. A fixed stride drew only multiples of
    500, all even-numbered, so every scan was of a shown document, not the half that _rows() makes."""
    drawn = random.Random(start).sample(rows, max(1, len(rows) * SAMPLE // DOCUMENTS))  # noqa: S311 - a repeatable sample, no secret
    return [(str(row[6]), bool(row[7])) for row in drawn]


COLUMNS = (
    "owner, title, name_as_printed, level, awarded_on, certificate_number, verify_code, "
    "show_on_verify, content, content_sha256"
)


def seed_sqlite(path: str) -> list[tuple[str, bool]]:
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = OFF")  # seeding only; the server uses its defaults
    owner = connection.execute(
        "INSERT INTO account (role, username, username_key, email, first_name, last_name) "
        "VALUES ('learner', 'bench', 'bench', 'bench@bench.invalid', 'Bench', 'Learner') RETURNING id"
    ).fetchone()[0]
    sample: list[tuple[str, bool]] = []
    with connection:
        for start in range(0, DOCUMENTS, BATCH):
            rows = _rows(start, min(BATCH, DOCUMENTS - start), owner)
            connection.executemany(
                f"INSERT INTO document ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",  # noqa: S608
                rows,
            )
            sample.extend(_draw(rows, start))
    connection.close()
    return sample


async def seed_postgres(url: str) -> list[tuple[str, bool]]:
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        owner = await connection.fetchval(
            "INSERT INTO account (role, username, username_key, email, first_name, last_name) "
            "VALUES ('learner', 'bench', 'bench', 'bench@bench.invalid', 'Bench', 'Learner') RETURNING id"
        )
        sample: list[tuple[str, bool]] = []
        for start in range(0, DOCUMENTS, BATCH):
            rows = [
                (*r[:4], date.fromisoformat(str(r[4])), *r[5:])
                for r in _rows(start, min(BATCH, DOCUMENTS - start), owner)
            ]
            await connection.copy_records_to_table(
                "document", records=rows, columns=[c.strip() for c in COLUMNS.split(",")]
            )
            sample.extend(_draw(rows, start))
        await connection.execute("VACUUM ANALYZE document")
        return sample
    finally:
        await connection.close()


async def prepare_database() -> None:
    if PG_URL:
        import asyncpg

        base, _, name = PG_URL.rpartition("/")
        if "bench" not in name:
            raise SystemExit("BENCH_DATABASE_URL must name a database containing 'bench' (it is dropped)")
        connection = await asyncpg.connect(f"{base}/postgres")
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()
    from piccolo.apps.migrations.commands.forwards import run_forwards

    result = await run_forwards(app_name="all")
    if not result.success:
        raise SystemExit(result.message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_up(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("portal serve stopped before answering")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 - loopback only
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("portal serve did not answer within 60 s")


def wrk_output(url: str, script: Path | None = None) -> str:
    """What one wrk run prints (non-2xx answers fail the run). One wrk thread: on two cores, a
    second one takes CPU from the server it measures."""
    command = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{SECONDS}s", "--latency"]
    if script:
        command += ["-s", str(script)]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout  # noqa: S603
    if "Non-2xx" in output:
        raise SystemExit(f"{url}: some answers were not 2xx")
    return output


def _figures(output: str) -> tuple[float, float]:
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", output).groups()  # type: ignore[union-attr]
    return rate, float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(url: str, script: Path | None = None) -> tuple[float, float]:
    """Requests per second and p99 latency in ms from one wrk run."""
    return _figures(wrk_output(url, script))


def scan_script(sample: list[str], rate: float | None = None) -> Path:
    """A wrk script that opens /v/CODE for codes drawn at random, as a phone does (it accepts
    brotli and gzip). With `rate`, scans are sent on a schedule instead of flat out (see SCHEDULE)."""
    script = TMP / ("paced.lua" if rate else "codes.lua")
    lines = [
        "local codes = {" + ",".join(f'"{c}"' for c in sample) + "}",
        'local headers = {["Accept-Encoding"] = "br, gzip"}',
        "request = function()",
        '  return wrk.format("GET", "/v/" .. codes[math.random(#codes)], headers)',
        "end",
    ]
    if rate:
        lines.append(SCHEDULE.replace("GAP_MS", f"{1000 / rate:.4f}"))
    script.write_text("\n".join(lines) + "\n")
    return script


# Scans at a rate, as independent people scanning send them: arrival times drawn in advance from a
# Poisson stream (exponential gaps, mean GAP_MS), whatever the answers take. wrk itself is a closed
# loop (a connection sends its next request only after its answer), so a fixed pause after each
# answer arrives short of the rate by however slow the server is at the moment, and a slow spell
# lowered the rate the p99 was measured at. Here each connection, when free, takes the next arrival
# time of the one stream and waits for it (LuaJIT's ffi reads the clock): the rate holds as long as
# a free connection is there when a scan is due. When all are busy, a scan goes out late, as soon as
# one frees; wrk times it from when it went out, so the script keeps how late each one left, and
# done() prints that with wrk's own p99.5: p99.5 of lateness + p99.5 of latency bounds the p99 of
# "due to answered" from above (each is exceeded by at most 0.5 % of scans).
SCHEDULE = """
local ffi = require("ffi")
ffi.cdef[[ typedef struct { long tv_sec; long tv_nsec; } bench_ts; int clock_gettime(int, bench_ts *); ]]
local ts = ffi.new("bench_ts")
local function now_ms()
  ffi.C.clock_gettime(1, ts)  -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end
local due = nil
late = {}  -- how late scans left, in tenths of a millisecond: count
sent = 0
delay = function()
  local now = now_ms()
  due = (due or now) - math.log(1 - math.random()) * GAP_MS
  sent = sent + 1
  local wait = due - now
  if wait < 0 then
    local key = math.floor(-wait * 10)
    late[key] = (late[key] or 0) + 1
    return 0
  end
  late[0] = (late[0] or 0) + 1
  return math.floor(wait + 0.5)
end
local threads = {}
setup = function(thread) table.insert(threads, thread) end
done = function(summary, latency, requests)
  local counts, total = {}, 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("sent")
    for key, count in pairs(thread:get("late")) do counts[key] = (counts[key] or 0) + count end
  end
  local keys = {}
  for key in pairs(counts) do table.insert(keys, key) end
  table.sort(keys)
  local seen, late995, worst = 0, nil, 0
  for _, key in ipairs(keys) do
    seen = seen + counts[key]
    if late995 == nil and seen >= 0.995 * total then late995 = (key + 1) / 10 end  -- the bucket's top
    worst = (key + 1) / 10
  end
  io.write(string.format("schedule: sent %d, late p99.5 %.1f ms, latest %.1f ms, latency p99.5 %.1f ms\\n",
    total, late995 or 0, worst, latency:percentile(99.5) / 1000))
end
"""


def alternating(
    base: str, sample: list[str], server_pid: int
) -> tuple[list[tuple[float, float]], list[tuple[float, float]], cpu.CpuSplit]:
    """(rate, p99) of /healthz and of the page flat out, ROUNDS runs of each taken in turn, and what
    a scan cost in CPU over the page's runs (for the README's capacity table)."""
    hello, scans, costs = [], [], []
    for _ in range(ROUNDS):
        hello.append(wrk(f"{base}/healthz"))
        scan, cost = cpu.measured(server_pid, lambda: wrk(base, scan_script(sample)), lambda r: r[0])
        scans.append(scan)
        costs.append(cost)
    return hello, scans, cpu.mean(costs)


def paced(base: str, sample: list[str], target_rate: float) -> tuple[float, float, float]:
    """Median served rate, p99 and bound on the p99 from due to answered (see SCHEDULE) of ROUNDS
    runs of scans sent at `target_rate`."""
    script = scan_script(sample, rate=target_rate)
    runs = []
    for _ in range(ROUNDS):
        output = wrk_output(base, script)
        rate, p99 = _figures(output)
        late, latency = re.search(r"late p99.5 ([\d.]+) ms.*latency p99.5 ([\d.]+) ms", output).groups()  # type: ignore[union-attr]
        runs.append((rate, p99, float(late) + float(latency)))
    return tuple(statistics.median(run[i] for run in runs) for i in range(3))  # type: ignore[return-value]


def main() -> int:
    # A `timeout` or Ctrl-C must still stop the server this starts and remove the seeded files.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    started = time.monotonic()
    try:
        asyncio.run(prepare_database())
        drawn = (
            asyncio.run(seed_postgres(PG_URL)) if PG_URL else seed_sqlite(DB_URL.removeprefix("sqlite:///"))
        )
    except BaseException:
        shutil.rmtree(TMP, ignore_errors=True)
        raise
    drawn = drawn[:SAMPLE]
    sample = [code for code, _ in drawn]
    shown = sum(1 for _, on_page in drawn if on_page)
    print(
        f"seeded {DOCUMENTS:,} documents in {time.monotonic() - started:.0f} s; scans draw from {len(sample):,} "
        f"of them, {shown:,} showing the document itself on the page",
        flush=True,
    )
    port = free_port()
    # As production runs it (templates compiled once, no development reloading), throw-away secrets.
    env = {
        **os.environ,
        "PORT": str(port),
        "BASE_URL": f"http://127.0.0.1:{port}",
        "PORTAL_MODE": "production",
        "SECRET_KEYS": secrets.token_hex(32),
        "MAIL_DELIVERY": "smtp",
    }
    server = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "src.cli", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,  # one access-log line per request: the bench prints its own
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(f"{base}/healthz", server)
        wrk(f"{base}/healthz")  # warm-up
        wrk(base, scan_script(sample))  # warm-up: the page cache and the code index
        hello, scans, scan_cost = alternating(base, sample, server.pid)
        hello_rate = statistics.median(rate for rate, _ in hello)
        hello_p99 = statistics.median(p99 for _, p99 in hello)
        verify_rate = statistics.median(rate for rate, _ in scans)
        flat_p99 = statistics.median(p99 for _, p99 in scans)
        # Latency is measured at the throughput the target asks for (MIN_RATIO x /healthz), spread
        # over CONNECTIONS connections. Flat out, a closed loop of 64 connections only measures its
        # own queue: p50 is 64 / throughput whatever the page costs.
        target_rate = MIN_RATIO * hello_rate
        paced_rate, paced_p99, paced_bound = paced(base, sample, target_rate)
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(TMP, ignore_errors=True)
    # The median of the rounds' own ratios: each pairs two runs taken a few seconds apart.
    ratio = statistics.median(scan[0] / h[0] for h, scan in zip(hello, scans, strict=True))
    rounds = ", ".join(f"{scan[0] / h[0]:.2f}" for h, scan in zip(hello, scans, strict=True))
    engine = "PostgreSQL" if PG_URL else "SQLite"
    print(
        f"Verify page, {engine}, {DOCUMENTS:,} documents, {CONNECTIONS} connections:\n"
        f"  /healthz flat out     {hello_rate:8,.0f} req/s  p99 {hello_p99:7.1f} ms\n"
        f"  /v/CODE  flat out     {verify_rate:8,.0f} req/s  p99 {flat_p99:7.1f} ms  "
        f"ratio {ratio:.2f} (target >= {MIN_RATIO}; rounds {rounds})\n"
        f"  /v/CODE  at {target_rate:,.0f}/s    {paced_rate:8,.0f} req/s  p99 {paced_p99:7.1f} ms  "
        f"due to answered p99 <= {paced_bound:.1f} ms "
        f"(target <= {MAX_P99_MS:.0f} ms{' on SQLite; printed only here' if PG_URL else ''})\n"
        f"  CPU a scan: {scan_cost.describe()}; the row of the README's capacity table:\n"
        f"  {cpu.capacity_row('/v/CODE (verify page)', scan_cost, engine)}"
    )
    missed = []
    if ratio < MIN_RATIO:
        missed.append(f"verify page {ratio:.2f} x /healthz (target {MIN_RATIO})")
    # The issue sets the latency target for SQLite; on PostgreSQL it asks for the throughput ratio
    # only, so the p99 there is printed, not gated.
    # Gated on the bound, which counts the time a due scan waited for a free connection too.
    if paced_bound > MAX_P99_MS and not PG_URL:
        missed.append(
            f"verify page p99 up to {paced_bound:.0f} ms at {paced_rate:.0f} req/s (target {MAX_P99_MS:.0f} ms)"
        )
    # A p99 taken below the asked rate says nothing about the asked rate: a server that cannot keep up
    # falls behind the schedule, and the scans still due at the end of a run are never sent.
    if paced_rate < 0.95 * target_rate and not PG_URL:
        missed.append(
            f"verify page served {paced_rate:.0f} of the {target_rate:.0f} scans/s asked: its p99 is not "
            "at the target rate"
        )
    if missed:
        print("FAIL: " + "; ".join(missed))
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
