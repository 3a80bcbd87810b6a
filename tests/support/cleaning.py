"""A clean slate for a test: every table emptied and the file stores (sessions, throttle counters)
cleared. tests/conftest.py does it before each test that uses the database; a module that keeps
what it built across its tests (the authorization matrix) calls it itself when it rebuilds."""

from __future__ import annotations

import contextlib
import shutil
import sqlite3

from src.tables.accounts import Account
from src.tables.piccolo_app import APP_CONFIG
from tests.support.client import run
from tests.support.environment import DATABASE_URL, IS_POSTGRES, VAR_DIR

# Children before parents, in one round trip.
_EMPTY_ALL = "; ".join(
    f'DELETE FROM "{table._meta.tablename}"'  # noqa: S608 - table names from our own code
    for table in reversed(APP_CONFIG.table_classes)
)


async def _empty_tables() -> None:
    if IS_POSTGRES:
        pool = Account._meta.db.pool  # type: ignore[attr-defined]
        async with pool.acquire() as conn:
            await conn.execute(_EMPTY_ALL)  # several statements: one implicit transaction
        return
    with contextlib.closing(sqlite3.connect(DATABASE_URL.removeprefix("sqlite:///"))) as conn:
        conn.executescript(f"BEGIN; {_EMPTY_ALL}; COMMIT;")


def start_clean() -> None:
    """Empty every table (through the session app's pool: it is open from the first test to the
    last) and the file stores."""
    run(_empty_tables())
    # Sessions and throttle counters live in file stores under VAR_DIR; one test's failed log-ins
    # or sent forms must not count against the next test. The folders stay: the session's app holds
    # stores that expect them.
    for folder in (VAR_DIR / "store").glob("*"):
        for entry in folder.iterdir():
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink(missing_ok=True)
