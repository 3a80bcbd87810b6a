"""The scale check's names, set before anything imports the tables (Piccolo binds its engine at import):
a throw-away PostgreSQL database on the server SCALE_POSTGRES_URL names, and a Redis database of its own
(SCALE_REDIS_URL), which the check empties when it starts."""

from __future__ import annotations

import os
import secrets

SERVER_URL = os.environ.get("SCALE_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432").rstrip("/")
# bench.seed drops and creates only databases with "bench" in their name.
DB_NAME = f"portal_bench_scale_{secrets.token_hex(4)}"
DB_URL = f"{SERVER_URL}/{DB_NAME}"
REDIS_URL = os.environ.get("SCALE_REDIS_URL", "redis://127.0.0.1:6379/14")
os.environ["BENCH_DATABASE_URL"] = DB_URL  # read by bench.env, which sets DATABASE_URL from it

from bench.env import _TMP as TMP  # noqa: E402 - after BENCH_DATABASE_URL, which it reads at import
from bench.env import ROOT  # noqa: E402

__all__ = ["DB_NAME", "DB_URL", "REDIS_URL", "ROOT", "SERVER_URL", "TMP"]
