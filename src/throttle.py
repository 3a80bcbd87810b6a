"""Counters in a Litestar store that hold across processes (file store on one host, Redis across hosts).

Used for per-IP limits on log-in, registration and email-sending forms, for emails per recipient and
for failed verify-page lookups. Failed log-ins per account are counted in the database instead
(src/accounts/login.py), as they must survive a store flush.

Every limit counts first, then compares (`hit(...) > LIMIT`): a burst of parallel requests gets
distinct counts and only the first LIMIT pass. In Redis the count is one INCR, atomic across every
process and host. The file store has no atomic increment, so an exclusive lock on a file beside its
entries holds across its read-modify-write: exact across the processes of one host. Several hosts
need Redis (REDIS_URL).
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import lru_cache

import anyio.to_thread
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
        # flock blocks: wait in a worker thread so the event loop keeps serving other requests.
        await anyio.to_thread.run_sync(fcntl.flock, fd, fcntl.LOCK_EX)
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
    """Read a counter of the file store in place. A counter is a file of a few bytes on local disk,
    usually absent (nobody failed from there): reading it inline costs microseconds, where the
    store's own `get` hands every read to a worker thread and back, which the verify page, asked
    before every lookup, paid for on every request."""
    try:
        # The store's own file name for the key (its private helper, so the two never disagree:
        # tests/test_verify_throttle.py counts what `hit` wrote), joined as plain strings.
        with open(_counter_path(_folder(store), key), "rb") as file:
            stored = StorageObject.from_bytes(file.read())
    except FileNotFoundError:
        return 0
    if stored.expired:
        return 0  # the store's own `get` removes the file when it next reads it
    return int(stored.data) if stored.data else 0


async def reset(store: Store, key: str) -> None:
    await store.delete(key)
