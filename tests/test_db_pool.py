"""The PostgreSQL connection pool is opened in the app's lifespan and closed at shutdown (SQLite has
none: it is switched to WAL instead)."""

from __future__ import annotations

import sqlite3

from litestar.testing import TestClient
from piccolo.engine.postgres import PostgresEngine

from src import db
from src.app import create_app
from tests.support.client import make_settings
from tests.support.environment import BASE_URL, IS_POSTGRES


def test_lifespan_opens_the_pool_and_closes_it(smtp_server):
    settings = make_settings(smtp_server.port, database_pool_min=1, database_pool_max=3)
    engine = db.engine()
    app = create_app(settings)
    with TestClient(app, base_url=BASE_URL) as client:
        assert client.get("/login").status_code == 200
        if IS_POSTGRES:
            assert isinstance(engine, PostgresEngine)
            assert engine.pool is not None
            assert engine.pool.get_max_size() == 3
        else:
            path = settings.database_url.removeprefix("sqlite:///")
            with sqlite3.connect(path) as connection:
                assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    if IS_POSTGRES:
        assert engine.pool is None
