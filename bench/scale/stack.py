"""The processes of a deployment, started as the deploy/ units start them: `portal serve` (one process
each, on its own port) and `portal worker` (nginx: bench/scale/nginx.py)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

from bench.scale.env import DB_NAME, REDIS_URL, ROOT, SERVER_URL
from bench.scale.process import Process
from src.compression import warm_static
from src.settings import new_signing_key

READY_PATH = "/readyz"


def proxied_database_url(proxy_port: int) -> str:
    """The portal's DATABASE_URL: the PostgreSQL server's user and password, through our proxy."""
    parts = urlsplit(SERVER_URL)
    credentials = parts.netloc.rpartition("@")[0]
    netloc = f"{credentials}@127.0.0.1:{proxy_port}" if credentials else f"127.0.0.1:{proxy_port}"
    return urlunsplit((parts.scheme, netloc, f"/{DB_NAME}", "", ""))


def upstream_address() -> tuple[str, int]:
    parts = urlsplit(SERVER_URL)
    return parts.hostname or "127.0.0.1", parts.port or 5432


@dataclass
class Web(Process):
    port: int = 0


def portal_env(tmp: Path, name: str, base_url: str, proxy_port: int, secret: str) -> dict[str, str]:
    """The environment of every portal process on this "host": one VAR_DIR, as the units share
    /var/lib/portal (the compressed static files, the mail workers' slots)."""
    var_dir = tmp / name
    var_dir.mkdir(exist_ok=True)
    install_static(var_dir / "compressed-static")
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "BENCH_DATABASE_URL", "WEB_CONCURRENCY"}
    }
    env.update(
        PORTAL_MODE="production",
        SECRET_KEYS=secret,
        SIGNING_KEYS=new_signing_key(),
        BASE_URL=base_url,
        DATABASE_URL=proxied_database_url(proxy_port),
        REDIS_URL=REDIS_URL,
        VAR_DIR=str(var_dir),
        RUN_MAIL_WORKER="false",
        MAIL_DELIVERY="smtp",
        SMTP_HOST="127.0.0.1",
        MAIL_POLL_SECONDS="0.5",
        REMINDER_INTERVAL_SECONDS="86400",
        FORWARDED_ALLOW_IPS="127.0.0.1",
        PYTHONPATH=str(ROOT),
        PYTHONUNBUFFERED="1",
    )
    return env


def install_static(target: Path) -> None:
    """The static files compressed as an installation does it once per release (src/compression.py):
    made in this process into a cache under var/ that later runs reuse, then copied to the VAR_DIR,
    so three processes do not compress the same files at once on their first start."""
    cache = ROOT / "var" / "scale-check" / "compressed-static"
    warm_static(cache)
    shutil.copytree(cache, target, dirs_exist_ok=True)


def web_process(tmp: Path, index: int, port: int, env: dict[str, str]) -> Web:
    return Web(
        name=f"web{index}",
        command=[sys.executable, "-m", "src.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env={**env, "PORT": str(port), "WEB_CONCURRENCY": "1"},
        log=tmp / f"web{index}.log",
        port=port,
    )


def worker_process(tmp: Path, index: int, smtp_port: int, env: dict[str, str]) -> Process:
    return Process(
        name=f"worker{index}",
        command=[sys.executable, "-m", "src.cli", "worker"],
        env={**env, "SMTP_PORT": str(smtp_port)},
        log=tmp / f"worker{index}.log",
    )


async def ready(client: httpx.AsyncClient, web: Web, host: str) -> bool:
    with contextlib.suppress(httpx.HTTPError):
        answer = await client.get(f"http://127.0.0.1:{web.port}{READY_PATH}", headers={"Host": host})
        return answer.status_code == 200
    return False


async def wait_ready(web: Web, host: str, seconds: float = 60) -> float:
    """Seconds from the process's start until its /readyz said yes; raises when it never did."""
    async with httpx.AsyncClient(timeout=2) as client:
        deadline = time.monotonic() + seconds
        while not await ready(client, web, host):
            if web.popen is not None and web.popen.poll() is not None:
                raise RuntimeError(f"{web.name} exited while starting:\n{web.tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{web.name} not ready within {seconds:.0f} s:\n{web.tail()}")
            await asyncio.sleep(0.1)
    return time.monotonic() - web.starts[-1]
