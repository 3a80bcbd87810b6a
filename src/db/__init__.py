"""The database: its engine and connections (pool.py), the short reads every page makes (reads.py),
and the one way to write on either engine (writes.py)."""

from src.db.pool import (
    BUSY_TIMEOUT_SECONDS,
    PooledSQLiteEngine,
    Timeouts,
    close_pool,
    engine,
    engine_from_url,
    engine_kind,
    open_pool,
)
from src.db.reads import Statement, fetch, fetch_one, statements_run
from src.db.rows import Row
from src.db.writes import (
    compare_and_set,
    insert_many,
    lock_row,
    select_in,
    unique_violation,
    update_many,
    write_transaction,
)

__all__ = [
    "BUSY_TIMEOUT_SECONDS",
    "PooledSQLiteEngine",
    "Row",
    "Statement",
    "Timeouts",
    "close_pool",
    "compare_and_set",
    "engine",
    "engine_from_url",
    "engine_kind",
    "fetch",
    "fetch_one",
    "insert_many",
    "lock_row",
    "open_pool",
    "select_in",
    "statements_run",
    "unique_violation",
    "update_many",
    "write_transaction",
]
