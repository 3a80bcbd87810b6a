"""Throughput of the real server: `portal serve` started as production runs it (PORTAL_MODE=production,
throw-away secrets, a temporary VAR_DIR), logged in over HTTP, driven over loopback by Debian's
`wrk`. Every page is reported as requests/s, p50 and p99, and as a ratio to /healthz measured by
the same server in the same run: absolute numbers on a shared machine mean little, ratios do."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import redis

from bench import cpu
from bench.env import ROOT

DURATION = os.environ.get("BENCH_WRK_SECONDS", "5")
CONNECTIONS = os.environ.get("BENCH_WRK_CONNECTIONS", "16")
STORM_CLIENTS = 8


@dataclass
class Rate:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    non_2xx: int


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def serving(database_url: str, redis_url: str = "", workers: int = 1) -> Iterator[tuple[str, int]]:
    """`portal serve` in production mode on a free port; yields its base URL and process id."""
    port = _free_port()
    var_dir = Path(tempfile.mkdtemp(prefix="portal-bench-serve-"))
    env = {
        **os.environ,
        "PORTAL_MODE": "production",
        "SECRET_KEYS": secrets.token_hex(32),
        "BASE_URL": f"http://127.0.0.1:{port}",
        "DATABASE_URL": database_url,
        "VAR_DIR": str(var_dir),
        "RUN_MAIL_WORKER": "false",
        "MAIL_DELIVERY": "smtp",
        "WEB_CONCURRENCY": str(workers),
        "PORT": str(port),
        "PYTHONPATH": str(ROOT),
    }
    env.pop("REDIS_URL", None)
    if redis_url:
        # A fresh store for each server, as the file store gets a fresh VAR_DIR: the log-in storm's
        # failed attempts (or an earlier run's) must not throttle the next server's log-in.
        redis.Redis.from_url(redis_url).flushdb()
        env["REDIS_URL"] = redis_url
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "src.cli", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"portal serve did not start: {process.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
            time.sleep(0.2)
        yield base, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def log_in(base: str, username: str, password: str) -> str:
    """Log in through the form, as a browser does; returns the Cookie header for wrk."""
    with httpx.Client(base_url=base, follow_redirects=False) as client:
        page = client.get("/login")
        token = re.search(r'name="_csrf_token"\s+value="([^"]+)"', page.text) or re.search(
            r'value="([^"]+)"\s+name="_csrf_token"', page.text
        )
        if token is None:
            raise SystemExit("no CSRF field on /login")
        answer = client.post(
            "/login", data={"_csrf_token": token.group(1), "login": username, "password": password}
        )
        if answer.status_code != 303:
            raise SystemExit(f"log-in as {username} over HTTP failed: {answer.status_code}")
        # The page the log-in leads to, as a browser follows it: it sets the CSRF cookie signed for the
        # new session, which the browser then sends with every page (without it, every request
        # measured would be a first visit that makes and sets a new token).
        client.get(answer.headers["location"])
        return "; ".join(f"{name}={value}" for name, value in client.cookies.items())


def storm_script(base: str) -> Path:
    """A wrk script that posts wrong passwords to /login with a valid CSRF pair (a log-in storm)."""
    with httpx.Client(base_url=base) as client:
        page = client.get("/login")
        token = re.search(r'name="_csrf_token"\s+value="([^"]+)"', page.text)
        assert token is not None
        cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
    body = f"_csrf_token={token.group(1)}&login=nobody-here&password=not-the-password-at-all-{secrets.token_hex(4)}"
    script = Path(tempfile.mkstemp(prefix="portal-storm-", suffix=".lua")[1])
    script.write_text(
        f'wrk.method = "POST"\nwrk.body = "{body}"\n'
        f'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n'
        f'wrk.headers["Cookie"] = "{cookie}"\n'
    )
    return script


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def wrk_command(
    url: str, cookie: str = "", connections: str = CONNECTIONS, script: Path | None = None
) -> list[str]:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{DURATION}s", "--latency", "--timeout", "10s"]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    if script is not None:
        command += ["-s", str(script)]
    return [*command, url]


def parse(output: str) -> Rate:
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"\n\s+50%\s+(\S+)", output)
    p99 = re.search(r"\n\s+99%\s+(\S+)", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    if not (rps and p50 and p99):
        raise SystemExit(f"could not read wrk's output:\n{output}")
    return Rate(
        float(rps.group(1)), _ms(p50.group(1)), _ms(p99.group(1)), int(non_2xx.group(1)) if non_2xx else 0
    )


def wrk(url: str, cookie: str = "", **kwargs: object) -> Rate:
    done = subprocess.run(wrk_command(url, cookie, **kwargs), capture_output=True, text=True)  # type: ignore[arg-type]  # noqa: S603
    if done.returncode != 0 or "Requests/sec" not in done.stdout:
        raise SystemExit(
            f"wrk on {url} failed ({done.returncode}): {done.stdout[-1500:]} {done.stderr[-1500:]}"
        )
    return parse(done.stdout)


def healthz_during_storm(base: str) -> tuple[Rate, Rate]:
    """/healthz while STORM_CLIENTS keep logging in with wrong passwords; returns (healthz, storm)."""
    script = storm_script(base)
    storm = subprocess.Popen(  # noqa: S603
        wrk_command(f"{base}/login", connections=str(STORM_CLIENTS), script=script),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(0.5)  # the storm is under way before /healthz is measured
        healthz = wrk(f"{base}/healthz")
        out, _ = storm.communicate(timeout=120)
    finally:
        if storm.poll() is None:
            storm.kill()
        script.unlink(missing_ok=True)
    return healthz, parse(out)


# Measured before this work (issue 10; quiet 2-core machine, SQLite, one process): requests/s and
# ratio to /healthz, printed beside today's figures.
BEFORE = {
    "/healthz": ("2,900-3,900", "1"),
    "/login (anonymous)": ("263-270", "0.07"),
    "/dashboard (third party)": ("69-70", "0.02"),
    "/connections (10)": ("45-50", "0.014"),
    "/healthz during log-in storm": ("710", "0.23"),
}


# WEB_CONCURRENCY=2 on PostgreSQL + Redis: the share it reaches of the most two cores could serve at
# the one-process cost of a request (the ceiling from the CPU accounting, bench/cpu.py). Two
# processes share the cores with PostgreSQL, Redis and wrk; see bench/README.md.
CEILING_SHARE = 0.85


def _with_cpu(pid: int, url: str, cookie: str = "") -> tuple[Rate, cpu.CpuSplit]:
    """One page's wrk run, and whose CPU its requests cost (the server started as `pid`)."""
    return cpu.measured(pid, lambda: wrk(url, cookie), lambda rate: rate.requests_per_second)


def server_table(
    database_url: str, redis_url: str, username: str, password: str
) -> tuple[list[str], list[str]]:
    """Measure every page on one `portal serve`; returns (printed lines, missed targets)."""
    postgres = database_url.startswith("postgres")
    floor = 0.05 if postgres else 0.10
    targets = {
        "/login (anonymous)": 0.05 if postgres else 0.30,
        "/dashboard (third party)": floor,
        "/connections (10)": floor,
        "/healthz during log-in storm": 0.60,
    }
    rates: dict[str, Rate] = {}
    costs: dict[str, cpu.CpuSplit] = {}
    with serving(database_url, redis_url) as (base, pid):
        cookie = log_in(base, username, password)
        wrk(f"{base}/healthz")  # warm-up: imports, template compilation, connections
        wrk(f"{base}/connections", cookie)
        rates["/healthz"] = wrk(f"{base}/healthz")
        rates["/login (anonymous)"], costs["/login (anonymous)"] = _with_cpu(pid, f"{base}/login")
        rates["/dashboard (third party)"], costs["/dashboard (third party)"] = _with_cpu(
            pid, f"{base}/dashboard", cookie
        )
        rates["/connections (10)"], one_cpu = _with_cpu(pid, f"{base}/connections", cookie)
        costs["/connections (10)"] = one_cpu
        rates["/healthz during log-in storm"], storm = healthz_during_storm(base)
    engine = "PostgreSQL + Redis" if postgres else "SQLite"
    lines = [
        f"\nServer throughput ({engine}, one `portal serve` process, wrk {CONNECTIONS} connections x {DURATION}s)",
        f"{'page':<30}{'req/s':>9}{'p50':>9}{'p99':>9}{'x healthz':>11}{'target':>8}   before (req/s, x)",
    ]
    failures = []
    healthz = rates["/healthz"].requests_per_second
    for name, rate in rates.items():
        ratio = rate.requests_per_second / healthz
        target = targets.get(name)
        missed = target is not None and ratio < target
        if missed or rate.non_2xx:
            failures.append(
                f"{engine} {name}: {ratio:.3f}x of /healthz (target {target}), {rate.non_2xx} errors"
            )
        before = BEFORE.get(name, ("", "")) if not postgres else ("", "")
        lines.append(
            f"{name:<30}{rate.requests_per_second:>9.0f}{rate.p50_ms:>7.1f}ms{rate.p99_ms:>7.1f}ms{ratio:>10.3f}x"
            f"{(f'{target:.2f}' if target else ''):>8}{' MISSED' if missed else ''}   {before[0]} {before[1]}"
        )
    lines.append(
        f"  (the storm: {storm.requests_per_second:.0f} wrong log-ins/s answered, "
        f"p99 {storm.p99_ms:.0f} ms, {storm.non_2xx} refused with 4xx: throttled or told to wait)"
    )
    one = rates["/connections (10)"].requests_per_second
    lines.append(f"CPU on /connections, one process: {one_cpu.describe()}")
    lines.append(f"Capacity ({engine}, one process; the rows of the README's capacity table):")
    database = "PostgreSQL" if postgres else "SQLite"
    lines += cpu.CAPACITY_HEADER + [cpu.capacity_row(page, cost, database) for page, cost in costs.items()]
    if postgres:
        with serving(database_url, redis_url, workers=2) as (base, pid):
            cookie = log_in(base, username, password)
            wrk(f"{base}/connections", cookie)
            two, two_cpu = _with_cpu(pid, f"{base}/connections", cookie)
        scale = two.requests_per_second / one
        lines.append(
            f"WEB_CONCURRENCY=2 on /connections: {two.requests_per_second:.0f} req/s, {scale:.2f}x one process"
        )
        # Two processes can serve at most what the cores allow at the cost every request has for all
        # the processes it runs in (the database's and wrk's share as well as the portal's).
        cores = cpu.cores()
        ceiling = one_cpu.ceiling(cores)
        lines.append(
            f"  CPU, two processes: {two_cpu.describe()}\n"
            f"  at the one-process cost, {cores} cores serve at most {ceiling:.0f} req/s: "
            f"{ceiling / one:.2f}x one process, whatever the portal does with the second core"
        )
        share = two.requests_per_second / ceiling
        lines.append(f"  two processes reach {share:.2f} of that ceiling (target >= {CEILING_SHARE})")
        if share < CEILING_SHARE:
            failures.append(
                f"WEB_CONCURRENCY=2 reaches {share:.2f} of the {ceiling:.0f} req/s two cores allow on "
                f"/connections (target {CEILING_SHARE})"
            )
    return lines, failures
