"""nginx in the foreground with the site configuration from deploy/: its upstream servers and listening
address replaced by ours, paths pointed into a temporary folder, so it runs as any user."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from bench.scale.process import Process

ROOT = Path(__file__).resolve().parents[2]
DEPLOY_NGINX = ROOT / "deploy" / "nginx"
INSTALLED_AT = "/srv/portal"  # where deploy/ assumes the portal is installed
SNIPPETS = "/etc/nginx/snippets/"


def nginx_binary() -> str:
    found = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(found).exists():
        raise SystemExit("nginx is not installed: `make scale-check` installs it (scripts/ensure-nginx.sh)")
    return found


def fail_timeout() -> float:
    """Seconds nginx leaves a failed process out (the first upstream server's `fail_timeout`, nginx's
    default 10 s when the file gives none): the README's rolling restart waits that long after a
    process is ready before it stops the next one, and so does the check."""
    text = (DEPLOY_NGINX / "portal.conf").read_text()
    found = re.search(r"^\s*server\s+[0-9][^;]*\bfail_timeout=(\d+)s?\b", text, flags=re.M)
    return float(found.group(1)) if found else 10.0


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
        command=[
            nginx_binary(),
            "-p",
            str(folder),
            "-e",
            str(folder / "error.log"),
            "-c",
            str(folder / "nginx.conf"),
        ],
        env=dict(os.environ),
        log=tmp / "nginx.log",
    )
