"""The token bucket of src/throttle.py on both stores (files, Redis), through two handles as two
processes hold them: a parallel burst never gets more than the bucket holds, and each interval gives
back one token, on a clock the test moves."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import redis
from litestar.stores.base import Store
from litestar.stores.file import FileStore
from litestar.stores.redis import RedisStore

from src.throttle import Bucket, take, token_wait
from tests.support.environment import REDIS_URL

pytestmark = pytest.mark.engine_free

BUCKET = Bucket(size=20, refill_seconds=45)
NOW = 1_800_000_000.25  # seconds since the epoch, as the app's clock gives them


def _redis_up() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.exceptions.ConnectionError:
        return False


STORES = [
    "file",
    pytest.param(
        "redis",
        marks=pytest.mark.skipif(
            not _redis_up() and not os.environ.get("CI"),
            reason=f"no Redis at {REDIS_URL}; .ci/run starts one (in CI this test never skips)",
        ),
    ),
]


@asynccontextmanager
async def two_handles(kind: str, folder: Path) -> AsyncIterator[tuple[Store, Store]]:
    """Two stores on the same entries, as two app processes have them."""
    if kind == "file":
        yield FileStore(folder, create_directories=True), FileStore(folder, create_directories=True)
        return
    first = RedisStore.with_client(url=REDIS_URL, namespace="portal-bucket-test")
    second = RedisStore.with_client(url=REDIS_URL, namespace="portal-bucket-test")
    try:
        yield first, second
    finally:
        await first.delete_all()
        await first._redis.aclose()
        await second._redis.aclose()


@pytest.mark.parametrize("kind", STORES)
def test_a_parallel_burst_never_gets_more_than_the_bucket(kind, tmp_path):
    async def burst() -> list[float]:
        key = f"burst:{uuid.uuid4().hex}"
        async with two_handles(kind, tmp_path) as stores:
            return await asyncio.gather(
                *(take(stores[n % 2], key, BUCKET, NOW) for n in range(3 * BUCKET.size))
            )

    waits = asyncio.run(burst())
    assert waits.count(0.0) == BUCKET.size
    # Every refused one is told the next token is one interval away.
    assert [w for w in waits if w] == pytest.approx([BUCKET.refill_seconds] * 2 * BUCKET.size, abs=0.01)


@pytest.mark.parametrize("kind", STORES)
def test_each_interval_gives_back_one_token(kind, tmp_path):
    async def steps() -> None:
        key = f"refill:{uuid.uuid4().hex}"
        async with two_handles(kind, tmp_path) as (a, b):
            assert await token_wait(a, key, BUCKET, NOW) == 0  # nobody has taken any
            for n in range(BUCKET.size):
                assert await take(a if n % 2 else b, key, BUCKET, NOW) == 0
            assert await token_wait(b, key, BUCKET, NOW) == pytest.approx(45, abs=0.01)
            later = NOW + 44
            assert await token_wait(a, key, BUCKET, later) == pytest.approx(1, abs=0.01)
            assert await take(b, key, BUCKET, later) == pytest.approx(1, abs=0.01)
            later = NOW + 45
            assert await token_wait(a, key, BUCKET, later) == 0
            assert await take(b, key, BUCKET, later) == 0  # the one token that came back
            assert await take(a, key, BUCKET, later) == pytest.approx(45, abs=0.01)
            # Left alone for the whole bucket's refill, it is full again.
            later += BUCKET.size * BUCKET.refill_seconds
            waits = [await take(a, key, BUCKET, later) for _ in range(BUCKET.size + 1)]
            assert waits[:-1] == [0.0] * BUCKET.size and waits[-1] > 0

    asyncio.run(steps())
