"""A database outage is a "try again shortly" 503 with Retry-After (never a 500), logged with the
reference the page shows, and the portal recovers by itself once the database is back."""

from __future__ import annotations

import asyncio
import logging
import socket
import sqlite3
from typing import Any

import asyncpg
import pytest
from litestar.testing import TestClient

import src.routes.home
from src import db
from src.app import create_app
from tests.support.client import browsing, log_in, make_settings, run
from tests.support.environment import BASE_URL, IS_POSTGRES, free_port
from tests.support.environment import DATABASE_URL as _DB_URL
from tests.support.factories import make_account
from tests.support.pages import html


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # nothing listens once the socket is closed


def assert_try_again_page(response: Any) -> str:
    assert response.status_code == 503, response.text[:300]
    assert response.headers["retry-after"].isdigit()
    page = html(response)
    assert page.css_first("main#main-content h1").text(strip=True) == "Sorry, the service is unavailable"
    assert "Try again shortly" in page.css_first("main#main-content").text()
    return page.css_first(".error-reference").text(strip=True)


def break_the_database(monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the live engine somewhere no database can be reached (a closed port, a missing folder)."""
    engine: Any = db.engine()
    if IS_POSTGRES:
        name = _DB_URL.rpartition("/")[2]
        monkeypatch.setitem(engine.config, "dsn", f"postgresql://postgres@127.0.0.1:{closed_port()}/{name}")
        # The pool's open connections would still answer: without it every query connects anew.
        monkeypatch.setattr(engine, "pool", None)
    else:
        monkeypatch.setattr(engine, "path", "/nonexistent-folder/portal.sqlite3")
        # The app keeps a few SQLite connections open, so moving the file is not enough: every query
        # must fail to get a connection, as it does when the file cannot be opened.
        if hasattr(engine, "acquire"):

            async def unreachable() -> Any:
                raise sqlite3.OperationalError("unable to open database file")

            monkeypatch.setattr(engine, "acquire", unreachable)

            def unreadable() -> Any:  # the inline read connection of src/db/reads.py, likewise
                raise sqlite3.OperationalError("unable to open database file")

            monkeypatch.setattr(engine, "reader", unreadable)


def test_an_unreachable_database_answers_503_and_recovers(client, monkeypatch, caplog):
    run(make_account(username="tess"))
    log_in(client, "tess")
    assert client.get("/dashboard").status_code == 200
    with monkeypatch.context() as patch:
        break_the_database(patch)
        with caplog.at_level(logging.WARNING, logger="portal.errors"):
            reference = assert_try_again_page(client.get("/dashboard"))
            # htmx gets the same answer as a fragment.
            response = client.get("/dashboard", headers={"HX-Request": "true"})
            assert response.status_code == 503
            assert response.headers["retry-after"].isdigit()
        [record] = [r for r in caplog.records if reference in r.getMessage()]
        assert record.getMessage().startswith("database unavailable on GET /dashboard")
        assert not any(r.levelno >= logging.ERROR for r in caplog.records if r.name == "portal.errors")
    # The database is back: the very next request works, with no restart.
    assert client.get("/dashboard").status_code == 200


async def _terminated_connection_error() -> BaseException:
    """The error asyncpg raises on a connection that an administrator terminated."""
    victim = await asyncpg.connect(_DB_URL)
    killer = await asyncpg.connect(_DB_URL)
    try:
        await killer.execute("SELECT pg_terminate_backend($1)", victim.get_server_pid())
        for _ in range(50):
            try:
                await victim.fetchval("SELECT 1")
            except asyncpg.InternalClientError:
                # The termination notice arrived mid-statement (asyncpg's own state machine
                # objects); the next attempt sees the connection gone.
                await asyncio.sleep(0.05)
                continue
            except Exception as exc:
                return exc
            await asyncio.sleep(0.05)
        raise AssertionError("the terminated connection kept working")
    finally:
        await killer.close()
        victim.terminate()


async def _terminated_mid_notice_error() -> BaseException:
    """The other error a terminated backend gives: the statement is sent after the server's notice
    arrived but before the connection's end did (a race, so tried until it happens)."""
    killer = await asyncpg.connect(_DB_URL)
    try:
        for _ in range(200):
            victim = await asyncpg.connect(_DB_URL)
            try:
                await killer.execute("SELECT pg_terminate_backend($1)", victim.get_server_pid())
                await victim.fetchval("SELECT 1")
            except asyncpg.InternalClientError as exc:
                return exc
            except Exception:  # noqa: S112 - the connection was seen gone: the other outcome, try again
                continue
            finally:
                victim.terminate()
        raise AssertionError("never caught a terminated connection between its notice and its end")
    finally:
        await killer.close()


@pytest.mark.skipif(not IS_POSTGRES, reason="PostgreSQL backends")
@pytest.mark.parametrize("failure", [_terminated_connection_error, _terminated_mid_notice_error])
def test_a_terminated_backend_answers_503(app, mailbox, monkeypatch, failure):
    error = asyncio.run(failure())

    def terminated(*args: Any, **kwargs: Any) -> Any:
        raise error

    monkeypatch.setattr(src.routes.home, "render", terminated)
    with browsing(app, raise_server_exceptions=False) as test_client:
        assert_try_again_page(test_client.get("/"))


@pytest.mark.skipif(not IS_POSTGRES, reason="PostgreSQL connection pool")
def test_a_pool_whose_backends_were_terminated_never_answers_500(own_pool, smtp_server, mailbox):
    """pg_terminate_backend on every pooled connection: each answer is 503 or a page, and pages
    come back without a restart."""
    settings = make_settings(smtp_server.port, database_pool_min=2, database_pool_max=2)
    with TestClient(create_app(settings), base_url=BASE_URL, raise_server_exceptions=False) as client:
        client.blocking_portal.call(make_account, "learner", "lena")
        log_in(client, "lena")
        assert client.get("/dashboard").status_code == 200

        async def terminate_all() -> None:
            connection = await asyncpg.connect(_DB_URL)
            try:
                await connection.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            finally:
                await connection.close()

        asyncio.run(terminate_all())
        statuses = [client.get("/dashboard").status_code for _ in range(4)]
        assert set(statuses) <= {200, 503}, statuses
        assert statuses[-1] == 200


@pytest.mark.parametrize(
    "failure",
    [
        asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator command"),
        asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        asyncpg.InterfaceError("cannot call Connection.fetch(): connection is not in prerequisite state"),
        OSError("Multiple exceptions: [Errno 111] Connect call failed ('127.0.0.1', 5432)"),
        ConnectionRefusedError(111, "Connection refused"),
    ],
    ids=["admin-shutdown", "connection-does-not-exist", "not-in-prerequisite-state", "oserror", "refused"],
)
def test_driver_errors_that_mean_the_database_is_gone_answer_503(app, mailbox, monkeypatch, failure):
    def unavailable(*args: Any, **kwargs: Any) -> Any:
        try:
            raise failure
        except Exception as exc:
            # Wrapped the way a library re-raises: the cause is what counts.
            raise RuntimeError("query failed") from exc

    monkeypatch.setattr(src.routes.home, "render", unavailable)
    with browsing(app, raise_server_exceptions=False) as test_client:
        assert_try_again_page(test_client.get("/"))


def test_a_programming_mistake_is_still_a_500_with_its_reference_in_the_log(
    app, mailbox, monkeypatch, caplog
):
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise asyncpg.InterfaceError("cannot perform operation: another operation is in progress")

    monkeypatch.setattr(src.routes.home, "render", broken)
    with browsing(app, raise_server_exceptions=False) as test_client:
        with caplog.at_level(logging.ERROR, logger="portal.errors"):
            response = test_client.get("/")
        assert response.status_code == 500
        reference = html(response).css_first(".error-reference").text(strip=True)
        assert len(reference) == 8
        assert any(reference in record.getMessage() for record in caplog.records)


@pytest.mark.parametrize("settings", [{"redis_url": f"redis://127.0.0.1:{free_port()}/0"}], indirect=True)
def test_a_redis_outage_answers_503_and_the_log_names_redis(client, caplog):
    """Sessions and throttles live in Redis: with nobody listening there, a page that reads the
    session answers "try again shortly", and the log says Redis, not the database, is away."""
    client.cookies.set("portal_session", "a-session-id-from-before-the-outage")
    with caplog.at_level(logging.WARNING, logger="portal.errors"):
        reference = assert_try_again_page(client.get("/dashboard"))
    [record] = [r for r in caplog.records if reference in r.getMessage()]
    assert record.getMessage().startswith("Redis unavailable on GET /dashboard")
    assert "database" not in record.getMessage()
    assert record.levelno == logging.WARNING
