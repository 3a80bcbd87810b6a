"""Counters in a Litestar store that hold across processes (file store on one host, Redis across hosts).

Used for per-IP limits on log-in, registration and email-sending forms and on failed verify-page
lookups. Failed log-ins per account are counted in the database instead (src/auth.py), as they must
survive a store flush.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from litestar.stores.base import Store
from litestar.stores.file import FileStore
from litestar.stores.redis import RedisStore


async def hit(store: Store, key: str, window_seconds: int) -> int:
    """Count one event for key in the current window and return the count so far."""
    if isinstance(store, RedisStore):
        # Atomic in Redis: INCR, and start the window's expiry on the first hit only.
        redis = store._redis
        full_key = store._make_key(key)
        pipe = redis.pipeline()
        pipe.incr(full_key)
        pipe.expire(full_key, window_seconds, nx=True)
        count, _ = await pipe.execute()
        return int(count)
    # Other stores: read-modify-write, made atomic for the file store by an exclusive lock on a file
    # beside its entries (held across processes on the host, and between requests in one process:
    # each hit opens its own lock), so a burst of parallel requests is counted one by one.
    async with _locked(store):
        raw = await store.get(key)
        count = int(raw) + 1 if raw else 1
        remaining = await store.expires_in(key) if raw else None
        await store.set(
            key, str(count), expires_in=remaining if remaining and remaining > 0 else window_seconds
        )
    return count


@asynccontextmanager
async def _locked(store: Store) -> AsyncIterator[None]:
    if not isinstance(store, FileStore):
        yield
        return
    await store.path.mkdir(parents=True, exist_ok=True)
    fd = os.open(store.path / ".throttle.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        # flock blocks: wait in a worker thread so the event loop keeps serving other requests.
        await anyio.to_thread.run_sync(fcntl.flock, fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


async def count(store: Store, key: str) -> int:
    raw = await store.get(key)
    return int(raw) if raw else 0


async def reset(store: Store, key: str) -> None:
    await store.delete(key)
