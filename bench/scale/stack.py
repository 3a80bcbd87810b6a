"""The processes of a deployment, started as the deploy/ units start them: `portal serve` (one process
each, on its own port), `portal worker`, and nginx in the foreground with the site configuration from
deploy/ (its upstream servers and listening address replaced by ours, paths pointed into a temporary
folder, so it runs as any user)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

from bench.scale.env import DB_NAME, REDIS_URL, ROOT, SERVER_URL
from src.compression import warm_static

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


# nginx
DEPLOY_NGINX = ROOT / "deploy" / "nginx"
INSTALLED_AT = "/srv/portal"  # where deploy/ assumes the portal is installed
SNIPPETS = "/etc/nginx/snippets/"


def nginx_binary() -> str:
    found = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(found).exists():
        raise SystemExit("nginx is not installed: `make scale-check` installs it (scripts/ensure-nginx.sh)")
    return found


def _blocks(text: str) -> list[str]:
    """The top-level directives and blocks of an nginx file, each with the comments before it."""
    blocks, current, depth = [], [], 0
    for line in text.splitlines(keepends=True):
        current.append(line)
        code = line.split("#", 1)[0]
        depth += code.count("{") - code.count("}")
        if depth == 0 and code.strip().endswith(("}", ";")):
            blocks.append("".join(current))
            current = []
    return [*blocks, "".join(current)] if current else blocks


def _paths(text: str, folder: Path) -> str:
    """Installed paths pointed at the checkout and at the check's copies of the snippets."""
    text = text.replace(SNIPPETS, f"{folder}/").replace(INSTALLED_AT, str(ROOT))
    return re.sub(r"/var/log/nginx/", f"{folder}/", text)


def site_for_check(text: str, backends: list[int], port: int, folder: Path) -> str:
    """deploy/'s site file with our addresses. Its upstream's servers become our web processes (each
    with the parameters the file gives its first server); of its server blocks, the one that serves
    the portal listens on our loopback port, without TLS (a certificate is not what is tried here),
    and the one that only redirects to HTTPS is left out. Everything else (retries, timeouts,
    keep-alive, body sizes, headers, error pages) is the file's own, which is what is being tried."""
    out = []
    for block in _blocks(text):
        code = "\n".join(line.split("#", 1)[0] for line in block.splitlines())
        if re.search(r"^\s*upstream\s", code, flags=re.M):
            servers = re.findall(r"^\s*server\s+\S+?(\s[^;]*)?;", code, flags=re.M)
            if not servers:
                raise SystemExit("deploy/nginx/portal.conf: its upstream lists no server")
            ours = "".join(f"    server 127.0.0.1:{p}{servers[0] or ''};\n" for p in backends)
            block = re.sub(r"^\s*server\s+[^;]*;[^\n]*\n", "", block, flags=re.M)
            head = re.search(r"upstream\s+\S+\s*\{[^\n]*\n", block)
            assert head is not None
            block = block[: head.end()] + ours + block[head.end() :]
        elif re.search(r"^\s*server\s*\{", code, flags=re.M):
            if not re.search(r"proxy_pass|include", code):
                continue  # the plain-HTTP server that only redirects to HTTPS
            block = re.sub(r"^\s*(listen|ssl_\w+|http2)\s[^;]*;[^\n]*\n", "", block, flags=re.M)
            block = re.sub(r"(server\s*\{[^\n]*\n)", rf"\1    listen 127.0.0.1:{port};\n", block, count=1)
        out.append(block)
    return _paths("".join(out), folder)


def nginx_process(tmp: Path, backends: list[int], port: int) -> Process:
    folder = tmp / "nginx"
    folder.mkdir(exist_ok=True)
    for snippet in DEPLOY_NGINX.glob("*.conf"):
        if snippet.name != "portal.conf":
            (folder / snippet.name).write_text(_paths(snippet.read_text(), folder))
    site = site_for_check((DEPLOY_NGINX / "portal.conf").read_text(), backends, port, folder)
    (folder / "site.conf").write_text(site)
    user = "user root;\n" if os.geteuid() == 0 else ""  # as root, nginx's workers would become nobody
    temp = "".join(
        f"    {kind}_temp_path {folder}/{kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (folder / "nginx.conf").write_text(
        f"{user}worker_processes 1;\ndaemon off;\npid {folder}/nginx.pid;\n"
        f"error_log {folder}/error.log warn;\nevents {{ worker_connections 1024; }}\n"
        f"http {{\n    include /etc/nginx/mime.types;\n    access_log off;\n{temp}"
        f"    include {folder}/site.conf;\n}}\n"
    )
    return Process(
        name="nginx",
        command=[nginx_binary(), "-p", str(folder), "-c", str(folder / "nginx.conf")],
        env=dict(os.environ),
        log=tmp / "nginx.log",
    )
