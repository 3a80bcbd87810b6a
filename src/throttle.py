"""Counters in a Litestar store that hold across processes (file store on one host, Redis across hosts).

Used for per-IP limits on log-in, registration and email-sending forms, for emails per recipient and
(as a token bucket: `take`) for failed verify-page lookups. Failed log-ins per account are counted in
the database instead (src/accounts/login.py), as they must survive a store flush.

Every limit counts first, then compares (`hit(...) > LIMIT`): a burst of parallel requests gets
distinct counts and only the first LIMIT pass. In Redis the count is one INCR, atomic across every
process and host. The file store has no atomic increment, so an exclusive lock on a file beside its
entries holds across its read-modify-write: exact across the processes of one host. Several hosts
need Redis (REDIS_URL).
"""

from __future__ import annotations

import asyncio
import fcntl
import math
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import lru_cache

from litestar.stores.base import StorageObject, Store
from litestar.stores.file import FileStore, _safe_file_name
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
    """Read-modify-write under the store's lock (see the module's docstring)."""
    async with _locked(store):
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


@asynccontextmanager
async def _locked(store: Store) -> AsyncIterator[None]:
    if not isinstance(store, FileStore):
        yield
        return
    await store.path.mkdir(parents=True, exist_ok=True)
    fd = os.open(store.path / ".throttle.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        # Polled, never waited for in a worker thread: a burst of more requests than the worker
        # threads (anyio's 40) would hold every thread waiting while the holder needs one for the
        # store's own read and write, and the process would stop. Holders keep it for milliseconds.
        delay = 0.0005
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                await asyncio.sleep(delay)
                delay = min(delay * 2, 0.02)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


async def count(store: Store, key: str) -> int:
    """The count so far (0 once the window has passed)."""
    if isinstance(store, FileStore):
        return _file_count(store, key)
    raw = await store.get(key)
    return int(raw) if raw else 0


@lru_cache(maxsize=8)
def _folder(store: FileStore) -> str:
    return os.fspath(store.path)  # anyio's Path through pathlib: worth doing once, not per request


@lru_cache(maxsize=4096)
def _counter_path(folder: str, key: str) -> str:
    """A counter's file name, remembered per key: the store's helper spells the key out character
    by character in Python, and the verify page asks for the same few clients' counters again."""
    return os.path.join(folder, _safe_file_name(key))


def _file_count(store: FileStore, key: str) -> int:
    stored = _file_read(store, key)
    return int(stored) if stored else 0


def _file_read(store: FileStore, key: str) -> bytes | None:
    """Read an entry of the file store in place. An entry is a file of a few bytes on local disk,
    usually absent (nobody failed from there): reading it inline costs microseconds, where the
    store's own `get` hands every read to a worker thread and back, which the verify page, asked
    before every lookup, paid for on every request."""
    try:
        # The store's own file name for the key (its private helper, so the two never disagree:
        # tests/test_verify_throttle.py counts what `take` wrote), joined as plain strings.
        with open(_counter_path(_folder(store), key), "rb") as file:
            stored = StorageObject.from_bytes(file.read())
    except FileNotFoundError:
        return None
    if stored.expired:
        return None  # the store's own `get` removes the file when it next reads it
    return stored.data


async def reset(store: Store, key: str) -> None:
    await store.delete(key)


@dataclass(frozen=True)
class Bucket:
    """A token bucket: `size` tokens, one back every `refill_seconds`; each counted event takes one.
    Unlike a fixed window it never walls everyone behind an address off for the whole window: the
    next token is at most `refill_seconds` away.

    Stored as one number per key, the moment the bucket is full again (the generic cell rate
    algorithm), so taking a token is one read-modify-write: a Lua script in Redis, the store's lock
    for the file store. The entry expires when the bucket is full again."""

    size: int
    refill_seconds: float

    def wait(self, full_at: float, now: float) -> float:
        """Seconds from `now` until a token is free (0: one is)."""
        return max(0.0, full_at - now - (self.size - 1) * self.refill_seconds)


# KEYS[1]: the bucket; ARGV: now, refill_seconds, size x refill_seconds. Returns the wait (as text:
# Redis would cut a Lua number to an integer), "0" when a token was taken.
_TAKE = """
local full_at = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
local now, every, depth = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local after = math.max(full_at, now) + every
if after - now > depth then
    return tostring(after - now - depth)
end
redis.call('SET', KEYS[1], tostring(after), 'PX', math.ceil((after - now) * 1000))
return '0'
"""


async def take(store: Store, key: str, bucket: Bucket, now: float) -> float:
    """Take a token (0 back), or take nothing and say how many seconds until the next is free.
    `now` in seconds since the epoch: every process must agree on the time (see README)."""
    every = bucket.refill_seconds
    if isinstance(store, RedisStore):
        depth = bucket.size * every
        waited = await store._redis.eval(_TAKE, 1, store._make_key(key), repr(now), repr(every), repr(depth))
        return float(waited)
    async with _locked(store):
        raw = await store.get(key)
        after = max(float(raw) if raw else 0.0, now) + every
        wait = bucket.wait(after - every, now)
        if wait > 0:
            return wait
        await store.set(key, repr(after), expires_in=math.ceil(after - now))
        return 0.0


async def token_wait(store: Store, key: str, bucket: Bucket, now: float) -> float:
    """Seconds until a token is free (0: one is), taking none: one read of a usually absent entry."""
    raw = _file_read(store, key) if isinstance(store, FileStore) else await store.get(key)
    return bucket.wait(float(raw), now) if raw else 0.0
