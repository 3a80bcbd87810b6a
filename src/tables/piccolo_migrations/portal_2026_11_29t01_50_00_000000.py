"""An index for a learner's documents page: (owner, awarded_on, id) gives the page, newest award
first, straight off the index, so the first 20 of 200 documents cost what 2 of 2 do. Raw SQL that
SQLite and PostgreSQL both accept (Piccolo columns only make single-column indexes)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-29T01:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "document index for a learner's documents page"

INDEXES = {"document_owner_awarded_on_id": "document (owner, awarded_on, id)"}


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
