"""Counters in a Litestar store that hold across processes (file store on one host, Redis across hosts).

Used for per-IP limits on log-in, registration and email-sending forms, and for emails per
recipient. Failed log-ins per account are counted in the database instead (src/accounts/login.py),
as they must survive a store flush.

Every limit counts first, then compares (`hit(...) > LIMIT`): a burst of parallel requests gets
distinct counts and only the first LIMIT pass. In Redis the count is one INCR, atomic across every
process and host. The file store has no atomic increment, so a lock per event loop holds across its
read-modify-write: exact within one process, but two processes sharing the directory can still
lose counts to each other. Several processes (or hosts) need Redis (REDIS_URL).
"""

from __future__ import annotations

import asyncio
import weakref

from litestar.stores.base import Store
from litestar.stores.redis import RedisStore

# One lock per event loop (an asyncio.Lock belongs to the loop that first waits on it; the tests run
# several apps, each on its own loop).
_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()


def _file_lock() -> asyncio.Lock:
    loop = asyncio.get_running_loop()
    lock = _locks.get(loop)
    if lock is None:
        lock = _locks[loop] = asyncio.Lock()
    return lock


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
    return await _add(store, key, 1, window_seconds)


async def forgive(store: Store, key: str) -> None:
    """Take back one counted event (a log-in that turned out right is not a failure)."""
    if isinstance(store, RedisStore):
        redis = store._redis
        full_key = store._make_key(key)
        # DECR on a key that expired meanwhile would leave a -1 with no expiry: only if it exists.
        if await redis.exists(full_key):
            await redis.decr(full_key)
        return
    await _add(store, key, -1, None)


async def _add(store: Store, key: str, step: int, window_seconds: int | None) -> int:
    async with _file_lock():
        raw = await store.get(key)
        if raw is None and window_seconds is None:
            return 0
        count = max(0, (int(raw) if raw else 0) + step)
        remaining = await store.expires_in(key) if raw else None
        expires = remaining if remaining and remaining > 0 else window_seconds
        await store.set(key, str(count), expires_in=expires)
        return count


EMAILS_PER_RECIPIENT = 10  # an hour, to one address, from the forms anyone can send


async def may_email(store: Store, recipient: str) -> bool:
    """Count one email to this address, shared by every form that emails on a stranger's say-so
    (forgot password, resend verification, registration); False once the hour's budget is spent."""
    return await hit(store, f"emails-to:{recipient.strip().lower()}", 3600) <= EMAILS_PER_RECIPIENT


async def count(store: Store, key: str) -> int:
    raw = await store.get(key)
    return int(raw) if raw else 0


async def reset(store: Store, key: str) -> None:
    await store.delete(key)
