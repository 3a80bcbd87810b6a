"""Running as a server process behind a load balancer: whether this process should get requests
(`Readiness`, /readyz), and the graceful stop on SIGTERM (`serve`, in src/server/process.py, which
only `portal serve` imports)."""

from src.server.readiness import Readiness, begin_stopping, close_when_stopping, stopping

__all__ = ["Readiness", "begin_stopping", "close_when_stopping", "stopping"]
