"""Composite indexes on connection for a third party's Connections page and dashboard counts.

Piccolo columns only make single-column indexes, so these are raw SQL that SQLite and PostgreSQL
both accept. `make bench` shows why: without them, each dashboard count and the "access ends
soon" list read every one of the account's connections (and sorted them), so a third party with
10,000 connections waited about twice as long as one with 10.

- (third_party, state, id, expires_on): a page of one state ("active") comes straight off the
  index in id order, the access-end check is read from the index, and the counts per state and
  the active count are answered from the index alone. (An index on (third_party, state,
  expires_on) makes the counts a little cheaper, but then SQLite, which has no statistics here,
  picks it for the "active" page and sorts every active connection: slower where it matters.)
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-28T15:51:30:318731"
VERSION = "1.38.0"
DESCRIPTION = "connection indexes for third party lists and counts"

INDEXES = {
    "connection_third_party_state_id_expires_on": "connection (third_party, state, id, expires_on)",
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="portal", description=DESCRIPTION)

    async def create_indexes():
        engine = engine_finder()
        for name, target in INDEXES.items():
            await engine.run_ddl(f"CREATE INDEX IF NOT EXISTS {name} ON {target}")

    async def drop_indexes():
        engine = engine_finder()
        for name in INDEXES:
            await engine.run_ddl(f"DROP INDEX IF EXISTS {name}")

    manager.add_raw(create_indexes)
    manager.add_raw_backwards(drop_indexes)
    return manager
