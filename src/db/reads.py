"""The short reads every page makes (the session's account, one page of a list, its counts), kept cheap.

Each is a `Statement`: SQL written once, with `{}` for each value (as in Piccolo's QueryString), its
engine's placeholders worked out once. `fetch()` runs it:

- on SQLite while the pool is open and no transaction is, inline on the event loop through the
  pool's long-lived read connection for this thread (see `PooledSQLiteEngine.reader`): an indexed
  read of a few rows costs less than the round trip to aiosqlite's worker thread and back (fast
  path: the server and verify gates of `make bench`). A busy file (rare: in WAL, readers do not
  wait for writers) goes the pooled way instead of holding the loop;
- everywhere else (PostgreSQL, inside a transaction, a closed pool) as a raw Piccolo query, which
  runs on the open transaction's connection when there is one.

The one way to run hand-written SQL (the session's account, list pages and their counts, the verify
lookup), so `statements_run` sees every statement a page runs. Only for reads that an index bounds
to a few rows: anything that may scan stays in a worker thread.
Rows come back as `Row`s (dicts that also read as attributes) with the same types a Piccolo select
gives (the same sqlite3 converters).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from piccolo.querystring import QueryString

from src.db.pool import PooledSQLiteEngine, engine
from src.db.rows import Row


class Statement:
    """SQL with `{}` for each value; the values are always bound, never put into the text."""

    __slots__ = ("_sqlite", "template")

    def __init__(self, template: str) -> None:
        self.template = template
        self._sqlite = template.format(*["?"] * template.count("{}"))

    def __repr__(self) -> str:
        return f"Statement({self.template!r})"


def run_inline(reader: sqlite3.Connection, sql: str, args: tuple[Any, ...]) -> list[Row]:
    """One statement on the read connection (a function of its own so the bench can count them)."""
    return reader.execute(sql, args).fetchall()


async def fetch(statement: Statement, *args: Any) -> list[Row]:
    db = engine()
    if isinstance(db, PooledSQLiteEngine) and db.current_transaction.get() is None:
        reader = db.reader()
        if reader is not None:
            try:
                return run_inline(reader, statement._sqlite, args)
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
    rows = await db.run_querystring(QueryString(statement.template, *args))
    return [Row(row) for row in rows]


async def fetch_one(statement: Statement, *args: Any) -> Row | None:
    rows = await fetch(statement, *args)
    return rows[0] if rows else None


@contextmanager
def statements_run() -> Iterator[list[str]]:
    """The SQL of every statement run meanwhile, both ways src.db runs them: through Piccolo's engine
    (its class patched: the engine has __slots__) and inline on SQLite's read connection. For
    counting what a page costs (`make bench` and the tests that hold a page to its statements);
    nothing that serves requests uses it."""
    global run_inline
    kind = type(engine())
    through_engine, inline = kind.run_querystring, run_inline
    seen: list[str] = []

    async def engine_spy(self: Any, querystring: QueryString, *args: Any, **kwargs: Any) -> Any:
        # The caller's arguments as given: each engine has its own default for `in_pool` (PostgreSQL
        # True, SQLite False), and one fixed here would send PostgreSQL reads past its pool.
        seen.append(str(querystring))
        return await through_engine(self, querystring, *args, **kwargs)

    def inline_spy(reader: sqlite3.Connection, sql: str, args: tuple[Any, ...]) -> list[Row]:
        seen.append(sql)
        return inline(reader, sql, args)

    kind.run_querystring = engine_spy  # type: ignore[method-assign]
    run_inline = inline_spy
    try:
        yield seen
    finally:
        kind.run_querystring = through_engine  # type: ignore[method-assign]
        run_inline = inline
