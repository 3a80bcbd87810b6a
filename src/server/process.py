"""`portal serve`: uvicorn, with a stop that loses no request.

On SIGTERM (systemd's stop, a rolling restart) the process at once answers /readyz with 503 and
every response with "Connection: close", and stops accepting connections: a load balancer's next
connection is refused before any request is sent, so nginx tries the next process, POSTs included.
Requests in flight finish, within SHUTDOWN_GRACE_SECONDS; then the mail worker (if any) and the
database pool are stopped and the process exits.

Unlike uvicorn's own shutdown, idle keep-alive connections are not closed at once: nginx may be
writing a request into one at that moment, and would then answer 502 to a POST it must not send
again. They are left for the keep-alive time (KEEP_ALIVE_SECONDS), by when nginx (whose upstream
keep-alive is shorter) has closed its own; then what is idle is closed, and requests still running
when the grace period ends are cancelled. (A connection the kernel completed just as the listener closed, before
uvicorn accepted it, is reset all the same: nothing in the process can take it any more.)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import socket
import time
from types import FrameType

import uvicorn
from uvicorn.supervisors import Multiprocess

from src.access_log import log_config
from src.server.readiness import begin_stopping
from src.settings import Settings

log = logging.getLogger("uvicorn.error")
POLL_SECONDS = 0.1


class GracefulServer(uvicorn.Server):
    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        begin_stopping()  # before anything else: /readyz says 503 from this moment
        super().handle_exit(sig, frame)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        log.info("Stopping: not ready, no new connections, finishing the requests in flight")
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        grace = float(self.config.timeout_graceful_shutdown or 0)
        started = time.monotonic()
        # Keep-alive connections are left to their client for as long as the portal would keep them
        # idle anyway; nginx has closed its own by then. What is still open and idle after that is
        # not nginx's (a browser's pre-opened connection, say): closed, and the busy ones end after
        # their response.
        await self._until_closed(min(self.config.timeout_keep_alive, grace))
        for connection in list(self.server_state.connections):
            connection.shutdown()
        await self._until_closed(grace - (time.monotonic() - started))
        if self.server_state.connections or self.server_state.tasks:
            log.error(
                "Cancelling %d request(s) still open after %s s (SHUTDOWN_GRACE_SECONDS)",
                len(self.server_state.tasks),
                grace,
            )
            for task in self.server_state.tasks:
                task.cancel(msg="the graceful stop's time is over")
            await asyncio.sleep(POLL_SECONDS)
        if not self.force_exit:
            await self.lifespan.shutdown()

    async def _until_closed(self, seconds: float) -> None:
        """Wait until no connection is open (or `seconds` pass, or a second Ctrl+C)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(seconds, 0)):
                # uvicorn's state has no event to wait on; it polls the same way.
                while (self.server_state.connections or self.server_state.tasks) and not self.force_exit:  # noqa: ASYNC110
                    await asyncio.sleep(POLL_SECONDS)


def serve(settings: Settings, host: str, port: int, workers: int) -> None:
    """Serve the app; with several workers, uvicorn's own supervisor runs them (its workers finish
    their requests on SIGTERM within the grace period too, but do not report "not ready" first and
    close idle connections at once: behind nginx, run one process per port instead, deploy/)."""
    config = uvicorn.Config(
        "src.asgi:app",
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        timeout_keep_alive=settings.keep_alive_seconds,
        timeout_graceful_shutdown=math.ceil(settings.shutdown_grace_seconds),
        log_config=log_config(),  # access lines without tokens, codes or query strings
    )
    if workers > 1:
        Multiprocess(config, sockets=[config.bind_socket()]).run()
        return
    server = GracefulServer(config)
    server.run()
    if not server.started:
        raise SystemExit(3)  # as uvicorn.run: the app did not start (the reason is in the log)
