"""A TCP proxy that can cut a service off without touching it: the scale check puts it between the
portal and PostgreSQL, and tests/test_server_behind_a_load_balancer.py between a `portal serve` and
PostgreSQL or Redis, so the shared servers themselves are never stopped. It runs on the asyncio loop
that calls `restore()` (a synchronous test: the suite's shared loop, through `run(...)`).

`restore()` listens on the proxy's port (the first time, and again after a cut); `cut()` closes the
listening socket, so new connections are refused, and drops every connection through it with a
reset, so pooled connections break as they do when a network link or a database failover does."""

from __future__ import annotations

import asyncio
import contextlib


class TcpProxy:
    def __init__(self, upstream_host: str, upstream_port: int, port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = port
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()

    async def restore(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port, reuse_address=True)

    async def cut(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for writer in list(self._open):
            writer.transport.abort()  # a reset, not a goodbye: as a broken link looks to the pool
        self._open.clear()
        if server is not None:
            await server.wait_closed()  # (from Python 3.12 it waits for the connections' handlers too)

    async def _serve(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            client_writer.transport.abort()
            return
        pair = {client_writer, server_writer}
        self._open |= pair
        try:
            await asyncio.gather(
                self._pipe(client_reader, server_writer), self._pipe(server_reader, client_writer)
            )
        finally:
            self._open -= pair
            for writer in pair:
                writer.transport.abort()

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.transport.abort()
