"""Counters in a Litestar store that hold across processes (file store on one host, Redis across hosts).

Used for per-IP limits on log-in, registration and email-sending forms. Failed log-ins per account
are counted in the database instead (src/auth.py), as they must survive a store flush.
"""

from __future__ import annotations

from litestar.stores.base import Store
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
    # File store: read-modify-write. Two racing requests may count as one; the limit stays tight
    # enough for its purpose (slowing guessing), and Redis is the deployment path for many hosts.
    raw = await store.get(key)
    count = int(raw) + 1 if raw else 1
    remaining = await store.expires_in(key) if raw else None
    await store.set(key, str(count), expires_in=remaining if remaining and remaining > 0 else window_seconds)
    return count


async def count(store: Store, key: str) -> int:
    raw = await store.get(key)
    return int(raw) if raw else 0


async def reset(store: Store, key: str) -> None:
    await store.delete(key)
