"""Data migration: the unique index on Connection.open_pair, and the key for connections open today.

Written by hand (raw SQL) because SQLite cannot add a UNIQUE column: the index is made after the
column. Open connections get their key first, newest first; should two open ones between the same
people already exist, only the newest gets it (the older stays, as it was, without the guard).
"""

from datetime import date

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-28T21:43:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Unique index on Connection.open_pair, keys for open connections"

INDEX = "connection_open_pair_unique"


class Connection(Table, tablename="connection", schema=None):
    pass


async def _backfill() -> None:
    rows = await Connection.raw(
        "SELECT id, learner_email, third_party_email FROM connection "
        "WHERE state IN ('awaiting_third_party', 'awaiting_learner') "
        "OR (state = 'active' AND expires_on >= {}) ORDER BY id DESC",
        date.today(),
    )
    seen: set[str] = set()
    for row in rows:
        key = f"{row['learner_email'].lower()} {row['third_party_email'].lower()}"
        if key in seen:
            continue
        seen.add(key)
        await Connection.raw("UPDATE connection SET open_pair = {} WHERE id = {}", key, row["id"])
    await Connection.raw(f"CREATE UNIQUE INDEX IF NOT EXISTS {INDEX} ON connection (open_pair)")


async def _drop_index() -> None:
    await Connection.raw(f"DROP INDEX IF EXISTS {INDEX}")


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="portal", description=DESCRIPTION)
    manager.add_raw(_backfill)
    manager.add_raw_backwards(_drop_index)
    return manager
