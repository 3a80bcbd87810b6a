"""deploy/ says the same as the code: nginx's body limits are the app's, its keep-alive to the
processes is shorter than theirs, it never sends a POST twice, systemd waits longer than the
graceful stop, and the environment file example starts a production portal. With nginx installed,
`nginx -t` accepts the site as shipped."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from src.app import MAX_BODY
from src.routes.staff_imports import UPLOAD_MAX_BODY
from src.settings import Settings, SettingsError, load_settings, new_signing_key

pytestmark = pytest.mark.engine_free  # no database: run once, on SQLite, and not emptied before

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
SITE = (DEPLOY / "nginx" / "portal.conf").read_text()
LOCATIONS = (DEPLOY / "nginx" / "portal-locations.conf").read_text()
PROXY = (DEPLOY / "nginx" / "portal-proxy.conf").read_text()


def _directives(text: str, name: str) -> list[str]:
    return re.findall(rf"^\s*{name}\s+([^;]+);", text, re.MULTILINE)


def _kilobytes(value: str) -> int:
    assert value.endswith("k"), value
    return int(value.removesuffix("k")) * 1024


def test_nginx_refuses_exactly_the_bodies_the_portal_refuses(session_app):
    assert [_kilobytes(v) for v in _directives(LOCATIONS, "client_max_body_size")] == [
        MAX_BODY,
        UPLOAD_MAX_BODY,
    ]
    upload = re.search(r"location = (\S+) \{\s*client_max_body_size", LOCATIONS)
    assert upload is not None
    assert upload.group(1) == session_app.route_reverse("staff_upload_import")


def test_nginx_drops_idle_connections_before_the_portal_does():
    """nginx drops its idle connections to the processes sooner than `portal serve` by default
    (KEEP_ALIVE_SECONDS), so it never writes a request into one the process is closing."""
    [timeout] = _directives(SITE, "keepalive_timeout")
    assert int(timeout.removesuffix("s")) < Settings.keep_alive_seconds


def test_nginx_retries_only_what_reached_no_process_or_is_idempotent():
    [retried] = _directives(PROXY, "proxy_next_upstream")
    conditions = retried.split()
    assert "non_idempotent" not in conditions  # a POST that reached a process is never sent again
    assert "http_503" not in conditions  # the portal's own "try again shortly" passes through
    assert {"error", "timeout", "http_502", "http_504"} <= set(conditions)
    assert _directives(PROXY, "proxy_set_header")[:2] == ['Connection ""', "Host $host"]
    assert "X-Forwarded-For $remote_addr" in _directives(PROXY, "proxy_set_header")


@pytest.mark.parametrize("unit", ["portal-web@.service", "portal-worker@.service"])
def test_systemd_waits_longer_than_the_graceful_stop(unit):
    text = (DEPLOY / "systemd" / unit).read_text()
    [timeout] = re.findall(r"^TimeoutStopSec=(\d+)$", text, re.MULTILINE)
    assert int(timeout) > Settings.shutdown_grace_seconds
    assert re.search(r"^KillSignal=SIGTERM$", text, re.MULTILINE)


def test_the_environment_file_example_starts_a_production_portal(tmp_path):
    lines = (DEPLOY / "portal.env.example").read_text().splitlines()
    env = dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))
    # The one value an example cannot hold: a real key (`portal signing-key` prints one).
    assert env["SIGNING_KEYS"] == "CHANGE-ME"
    with pytest.raises(SettingsError, match="SIGNING_KEYS"):
        load_settings({**env, "VAR_DIR": str(tmp_path)})
    env["SIGNING_KEYS"] = new_signing_key()
    settings = load_settings({**env, "VAR_DIR": str(tmp_path)})
    assert settings.mode == "production" and settings.https
    assert settings.redis_url and settings.database_url.startswith("postgresql://")


def test_nginx_accepts_the_site_as_shipped(tmp_path):
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if nginx is None:
        pytest.skip("nginx is not installed")
    snippets = tmp_path / "snippets"
    snippets.mkdir()
    for name in ("portal-locations.conf", "portal-proxy.conf"):
        text = (DEPLOY / "nginx" / name).read_text().replace("/etc/nginx/snippets/", f"{snippets}/")
        (snippets / name).write_text(text)
    certificate, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    throwaway = ["-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost"]
    subprocess.run(
        ["openssl", "req", *throwaway, "-keyout", str(key), "-out", str(certificate)],
        check=True,
        capture_output=True,
    )
    site = (
        SITE.replace("/etc/nginx/snippets/", f"{snippets}/")
        .replace("/etc/ssl/portal/fullchain.pem", str(certificate))
        .replace("/etc/ssl/portal/privkey.pem", str(key))
    )
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{ include /etc/nginx/mime.types; access_log off; include {tmp_path}/site.conf; }}\n"
    )
    checked = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stderr
