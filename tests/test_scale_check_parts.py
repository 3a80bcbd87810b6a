"""The parts of `make scale-check` (bench/scale/) that could go wrong quietly and let the check pass
for the wrong reason: nginx must run deploy/'s own site file, the database proxy must really cut and
restore, and the SMTP sink must count by Message-ID and never accept a message whose sender died.
The check itself is run by `make scale-check` and `.ci/run`, not by the suite (it takes a minute)."""

from __future__ import annotations

import asyncio
import re
import shutil
import smtplib
import subprocess
import threading
from email.message import EmailMessage
from pathlib import Path

import pytest

from bench.scale.nginx import DEPLOY_NGINX, ROOT, nginx_process, site_for_check
from bench.scale.sink import Sink
from bench.scale.tcp_proxy import TcpProxy
from tests.support.environment import free_port

pytestmark = pytest.mark.engine_free  # no database: run once, on SQLite, and not emptied before


def test_nginx_runs_the_deploy_site_file_with_only_the_addresses_replaced(tmp_path: Path) -> None:
    original = (DEPLOY_NGINX / "portal.conf").read_text()
    site = site_for_check(original, [9101, 9102, 9103], 9100, tmp_path)
    first = re.search(r"^\s*server\s+[0-9][^\s;]*(\s[^;]*);", original, flags=re.M)
    assert first is not None
    parameters = first.group(1)
    assert parameters.strip()  # the file's passive health check is what is tried
    servers = re.findall(r"^\s*server\s+([0-9][^\s;]*)(\s[^;]*)?;", site, flags=re.M)
    assert servers == [(f"127.0.0.1:{p}", parameters) for p in (9101, 9102, 9103)]
    assert re.findall(r"^\s*listen\s+([^;]*);", site, flags=re.M) == ["127.0.0.1:9100"]
    assert "ssl_" not in site and "return 301" not in site
    assert "/etc/nginx/snippets/" not in site and f"include {tmp_path}/" in site
    assert "/srv/portal" not in site and f"set $portal_root {ROOT};" in site
    # Everything else is the file's own, word for word.
    for directive in ("keepalive", "keepalive_timeout", "keepalive_requests"):
        assert re.findall(rf"^\s*{directive}\s[^;]*;", site, flags=re.M) == re.findall(
            rf"^\s*{directive}\s[^;]*;", original, flags=re.M
        )


def test_nginx_accepts_the_configuration_it_is_given(tmp_path: Path) -> None:
    if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
        pytest.skip("nginx is not installed (make scale-check installs it)")
    process = nginx_process(tmp_path, [9101, 9102], free_port())
    done = subprocess.run([*process.command, "-t"], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while data := await reader.read(1024):
        writer.write(data)
        await writer.drain()
    writer.close()


async def _round_trip(port: int) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"ping")
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(4), 5)
    writer.close()
    return answer


def test_the_database_proxy_drops_its_connections_refuses_new_ones_and_comes_back() -> None:
    async def scenario() -> None:
        server = await asyncio.start_server(_echo, "127.0.0.1", 0)
        proxy = TcpProxy("127.0.0.1", server.sockets[0].getsockname()[1], free_port())
        await proxy.restore()
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
        writer.write(b"ping")
        assert await asyncio.wait_for(reader.read(4), 5) == b"ping"
        await proxy.cut()
        # The open connection is gone (reset or closed) and a new one is refused.
        with pytest.raises(ConnectionError):
            writer.write(b"again")
            await writer.drain()
            if not await asyncio.wait_for(reader.read(5), 5):
                raise ConnectionResetError
        with pytest.raises(ConnectionRefusedError):
            await _round_trip(proxy.port)
        await proxy.restore()
        assert await _round_trip(proxy.port) == b"ping"
        await proxy.cut()
        server.close()

    asyncio.run(scenario())


def _message(message_id: str) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "a@example.com", "b@example.com", "hi"
    message["Message-ID"] = message_id
    message.set_content("hello")
    return message


def test_the_sink_counts_by_message_id_and_never_accepts_a_message_whose_sender_is_gone() -> None:
    ports = [free_port(), free_port()]
    sink = Sink(ports)
    sink.start()
    try:
        for _ in range(2):
            with smtplib.SMTP("127.0.0.1", ports[0]) as client:
                client.send_message(_message("<same@portal.invalid>"))
        assert sink.ids["<same@portal.invalid>"] == 2  # a duplicate is seen as one

        sink.hold()
        outcome: list[object] = []

        def send() -> None:
            try:
                with smtplib.SMTP("127.0.0.1", ports[1]) as client:
                    client.send_message(_message("<held@portal.invalid>"))
                outcome.append("accepted")
            except smtplib.SMTPDataError as exc:
                outcome.append(exc.smtp_code)

        sender = threading.Thread(target=send)
        sender.start()
        while not sink.holding()[ports[1]]:
            threading.Event().wait(0.01)
        assert sink.holding()[ports[1]] == {"<held@portal.invalid>"}
        sink.gone.add(ports[1])  # as the check does before it kills the worker on that port
        sink.release()
        sender.join(10)
        assert outcome == [421]
        assert "<held@portal.invalid>" not in sink.ids
    finally:
        sink.stop()
