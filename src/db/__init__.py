"""The database: its engine and connections (pool.py), the short reads every page makes (reads.py),
one page of a list (paging.py), and the one way to write on either engine (writes.py)."""

from src.db.paging import Paging
from src.db.pool import (
    BUSY_TIMEOUT_SECONDS,
    PooledSQLiteEngine,
    Timeouts,
    close_pool,
    engine,
    engine_from_url,
    engine_kind,
    open_pool,
    reachable,
)
from src.db.reads import Statement, fetch, fetch_one, statements_run
from src.db.rows import Row
from src.db.writes import (
    add_counts,
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
    "Paging",
    "PooledSQLiteEngine",
    "Row",
    "Statement",
    "Timeouts",
    "add_counts",
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
    "reachable",
    "select_in",
    "statements_run",
    "unique_violation",
    "update_many",
    "write_transaction",
]
