"""Failed verify lookups are throttled per IP through the shared store, as a token bucket:
sequentially, in parallel bursts (exactly the bucket gets answers, however the requests interleave),
on the file store and on Redis shared by two app processes, for the page and the API alike; one more
lookup each interval, and the answer says when (tests/test_throttle_bucket.py tests the bucket itself
on both stores)."""

from __future__ import annotations

import os
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from types import SimpleNamespace

import pytest
import redis
from litestar.testing import TestClient

import src.routes.verify
from src.app import create_app
from src.clock import utcnow
from src.documents import FAILED_LOOKUP_LIMIT, FAILED_LOOKUP_REFILL_SECONDS, new_verify_code
from tests.support.client import make_settings, run
from tests.support.environment import BASE_URL, REDIS_URL
from tests.support.pages import html
from tests.support.verify_fixtures import shelf


def _redis_up() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.exceptions.ConnectionError:
        return False


def burst(clients: list[TestClient], paths: list[str]) -> Counter[int]:
    """All paths requested at once from threads, spread over the given clients; status counts."""
    with ThreadPoolExecutor(max_workers=16) as pool:
        futures = [pool.submit(clients[i % len(clients)].get, p) for i, p in enumerate(paths)]
        return Counter(f.result().status_code for f in futures)


def test_failed_lookups_are_limited_then_every_lookup_waits(client, day):
    docs = run(shelf(day))
    for _ in range(FAILED_LOOKUP_LIMIT):
        assert client.get(f"/v/{new_verify_code()}").status_code == 404
    blocked = client.get(f"/v/{new_verify_code()}")
    assert blocked.status_code == 429
    assert 0 < int(blocked.headers["retry-after"]) <= FAILED_LOOKUP_REFILL_SECONDS
    assert blocked.headers["cache-control"] == "no-store"
    assert "set-cookie" not in blocked.headers
    assert html(blocked).css_first("main h1").text(strip=True) == "Too many codes checked from here"
    # A blocked IP learns nothing more, not even about codes that exist.
    assert client.get(f"/v/{docs.valid.verify_code}").status_code == 429
    api = client.get(f"/api/v1/verify/{docs.valid.verify_code}")
    assert api.status_code == 429 and api.headers["content-type"].startswith("application/problem+json")
    # A typing error is decided without a lookup: still said plainly.
    assert client.get("/v/ABCD").status_code == 400


def test_one_more_lookup_each_interval_and_the_answer_says_when(client, day, monkeypatch):
    """An office behind one address waits for the next token (45 s), not a 15-minute wall."""
    docs = run(shelf(day))
    start, moved = utcnow(), SimpleNamespace(seconds=0)
    monkeypatch.setattr(src.routes.verify, "utcnow", lambda: start + timedelta(seconds=moved.seconds))
    for _ in range(FAILED_LOOKUP_LIMIT):
        assert client.get(f"/v/{new_verify_code()}").status_code == 404
    blocked = client.get(f"/v/{docs.valid.verify_code}")
    assert (blocked.status_code, blocked.headers["retry-after"]) == (429, "45")
    assert "Try again in 45 seconds." in html(blocked).css_first("main").text()
    api = client.get(f"/api/v1/verify/{docs.valid.verify_code}")
    assert (api.status_code, api.headers["retry-after"]) == (429, "45")
    assert api.json()["detail"] == "Too many codes checked from here. Try again in 45 seconds."

    moved.seconds = FAILED_LOOKUP_REFILL_SECONDS - 1
    blocked = client.get(f"/v/{docs.valid.verify_code}")
    assert (blocked.status_code, blocked.headers["retry-after"]) == (429, "1")
    assert "Try again in 1 second." in html(blocked).css_first("main").text()

    moved.seconds = FAILED_LOOKUP_REFILL_SECONDS
    assert client.get(f"/v/{docs.valid.verify_code}").status_code == 200  # takes no token
    assert client.get(f"/v/{new_verify_code()}").status_code == 404  # takes the one that came back
    assert client.get(f"/v/{new_verify_code()}").status_code == 429


def test_lookups_of_existing_codes_do_not_count(client, day):
    docs = run(shelf(day))
    for _ in range(FAILED_LOOKUP_LIMIT + 5):
        assert client.get(f"/v/{docs.valid.verify_code}").status_code == 200
    assert client.get(f"/v/{new_verify_code()}").status_code == 404


def test_a_parallel_burst_gets_exactly_the_limit_of_answers_on_the_file_store(client):
    statuses = burst([client], [f"/v/{new_verify_code()}" for _ in range(FAILED_LOOKUP_LIMIT * 2)])
    assert statuses == Counter({404: FAILED_LOOKUP_LIMIT, 429: FAILED_LOOKUP_LIMIT})


def test_the_page_and_the_api_share_one_count(client):
    half = FAILED_LOOKUP_LIMIT // 2
    for n in range(FAILED_LOOKUP_LIMIT):
        path = "/v/" if n < half else "/api/v1/verify/"
        assert client.get(path + new_verify_code()).status_code == 404
    assert client.get(f"/api/v1/verify/{new_verify_code()}").status_code == 429
    assert client.get(f"/v/{new_verify_code()}").status_code == 429


@pytest.mark.skipif(
    not _redis_up() and not os.environ.get("CI"),
    reason=f"no Redis at {REDIS_URL}; .ci/run starts one (in CI this test never skips)",
)
def test_a_parallel_burst_across_two_processes_sharing_redis(smtp_server, mailbox):
    redis.Redis.from_url(REDIS_URL).flushdb()
    settings = make_settings(smtp_server.port, redis_url=REDIS_URL)
    try:
        with (
            TestClient(create_app(settings), base_url=BASE_URL) as a,
            TestClient(create_app(settings), base_url=BASE_URL) as b,
        ):
            paths = [f"/v/{new_verify_code()}" for _ in range(FAILED_LOOKUP_LIMIT * 2)]
            statuses = burst([a, b], paths)
            assert statuses == Counter({404: FAILED_LOOKUP_LIMIT, 429: FAILED_LOOKUP_LIMIT})
            assert redis.Redis.from_url(REDIS_URL).keys("portal*throttle*verify-failed*")
    finally:
        redis.Redis.from_url(REDIS_URL).flushdb()


def test_when_the_throttle_store_is_down_there_is_no_verdict_and_no_lookup(smtp_server, mailbox, day):
    docs = run(shelf(day))
    settings = make_settings(smtp_server.port, redis_url="redis://127.0.0.1:9/0")
    with TestClient(create_app(settings), base_url=BASE_URL) as client:
        response = client.get(f"/v/{docs.valid.verify_code}")
        assert response.status_code == 503
        assert "Valid" not in html(response).css_first("main").text()
        assert client.get("/v/ABCD").status_code == 400  # decided without the store
