"""A stalled database answers 503 "try again shortly" with Retry-After within the configured
timeouts, not for as long as it stalls, and the next request once the stall ends works: a lock held
by another connection (the statement timeout) and every pooled connection held (the acquire timeout),
on either engine."""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterator
from typing import Any

import asyncpg
import pytest
from litestar.testing import TestClient

from src import db
from src.app import create_app
from tests.support.client import form_token, make_settings, post_form, run
from tests.support.environment import BASE_URL, IS_POSTGRES
from tests.support.environment import DATABASE_URL as _DB_URL
from tests.support.factories import STRONG_PASSWORD, make_account, with_fast_password
from tests.support.pages import html

TIMEOUT = 1.0
# What a loaded test machine adds to a request on top of the timeout it waited out.
SLACK = 2.5


@pytest.fixture
def stall_client(own_pool: None, smtp_server: Any, mailbox: Any) -> Iterator[TestClient[Any]]:
    """An app with one pooled connection and one-second timeouts, and Lena's account."""
    settings = make_settings(
        smtp_server.port,
        database_pool_min=1,
        database_pool_max=1,
        database_statement_timeout_seconds=TIMEOUT,
        database_acquire_timeout_seconds=TIMEOUT,
    )
    with TestClient(create_app(settings), base_url=BASE_URL, raise_server_exceptions=False) as client:
        account = client.blocking_portal.call(make_account, "learner", "lena")
        client.blocking_portal.call(with_fast_password, account)
        form_token(client)  # the log-in form's token, fetched before any stall
        yield client


def log_in(client: TestClient[Any], htmx: bool = False) -> tuple[Any, float]:
    """Lena logs in (a read and a write of her account); the answer and how long it took."""
    started = time.monotonic()
    response = post_form(client, "/login", {"login": "lena", "password": STRONG_PASSWORD}, htmx=htmx)
    return response, time.monotonic() - started


def assert_try_again(response: Any, took: float, fragment: bool = False) -> None:
    assert response.status_code == 503, response.text[:300]
    assert response.headers["retry-after"].isdigit()
    assert took < TIMEOUT + SLACK, f"answered after {took:.1f} s"
    page = html(response)
    if fragment:
        assert page.css_first("main") is None  # the fragment alone, for htmx to swap
    else:
        assert page.css_first("main#main-content h1").text(strip=True) == "Sorry, the service is unavailable"


async def _lock_accounts_on_postgres() -> asyncpg.Connection:
    connection = await asyncpg.connect(_DB_URL)
    await connection.execute("BEGIN; LOCK TABLE account IN ACCESS EXCLUSIVE MODE")
    return connection


@contextlib.contextmanager
def lock_held_elsewhere() -> Iterator[None]:
    """Another connection (a long import, a backup, a stuck process) holds what log-in needs:
    PostgreSQL, the account table; SQLite, the one write lock."""
    if IS_POSTGRES:
        connection = run(_lock_accounts_on_postgres())
        try:
            yield
        finally:
            run(connection.close())
        return
    with contextlib.closing(
        sqlite3.connect(_DB_URL.removeprefix("sqlite:///"), isolation_level=None)
    ) as holder:
        holder.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")


@contextlib.contextmanager
def every_pooled_connection_held(client: TestClient[Any]) -> Iterator[None]:
    """The pool's one connection taken (as by a request stuck on a stalled statement)."""
    engine: Any = db.engine()

    async def take() -> Any:
        return await (engine.pool.acquire() if IS_POSTGRES else engine.acquire())

    async def give_back(connection: Any) -> None:
        if IS_POSTGRES:
            await engine.pool.release(connection)
        else:
            await engine.release(connection, healthy=True)

    connection = client.blocking_portal.call(take)
    try:
        yield
    finally:
        client.blocking_portal.call(give_back, connection)


def test_a_lock_held_past_the_statement_timeout_answers_503_then_log_in_works(stall_client):
    with lock_held_elsewhere():
        assert_try_again(*log_in(stall_client))
        response, took = log_in(stall_client, htmx=True)
        assert_try_again(response, took, fragment=True)
    response, _ = log_in(stall_client)
    assert response.status_code == 303, response.text[:300]


def test_no_free_connection_past_the_acquire_timeout_answers_503_then_log_in_works(stall_client):
    with every_pooled_connection_held(stall_client):
        assert_try_again(*log_in(stall_client))
    response, _ = log_in(stall_client)
    assert response.status_code == 303, response.text[:300]


def test_the_timeouts_are_settings_with_defaults_of_a_few_seconds():
    settings = make_settings(25)
    assert 1 <= settings.db_statement_timeout <= 10
    assert 1 <= settings.db_acquire_timeout <= 10
    tight = make_settings(25, database_statement_timeout_seconds="0.5", database_acquire_timeout_seconds="2")
    assert (tight.db_statement_timeout, tight.db_acquire_timeout) == (0.5, 2.0)


@pytest.mark.skipif(IS_POSTGRES, reason="SQLite's one write lock")
def test_a_transaction_refused_for_the_write_lock_gives_its_connection_back(stall_client):
    """BEGIN IMMEDIATE that waited out the busy timeout: the pool's one connection is free again."""

    async def write() -> None:
        async with db.write_transaction():
            await db.engine().run_ddl("SELECT 1")

    with lock_held_elsewhere():
        for _ in range(2):
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                stall_client.blocking_portal.call(write)
    stall_client.blocking_portal.call(write)  # waits for no connection: none was lost
