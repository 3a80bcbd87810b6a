"""The index a document's views are read by: a learner's "Seen by" list (one document's
`viewed_document` events, newest first, a page at a time) and the count of the verify checks
recorded one by one before the daily tally, both straight off the index with no sort (`id` ends it,
so "newest first, then highest id" is the index's own order). Raw SQL that SQLite and PostgreSQL
both accept (Piccolo columns only make single-column indexes)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-07T09:02:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "access_event index by (document, action, at, id) for a document's views"

INDEXES = {"access_event_document_action_at": "access_event (document, action, at, id)"}


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
