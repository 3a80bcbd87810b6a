"""The unique (document, day) index of verify_tally: the conflict target of the one
`INSERT … ON CONFLICT (document, day) DO UPDATE` that counts a batch of verify checks, so parallel
scans of one code on one day add to one row however they interleave. Raw SQL that SQLite and
PostgreSQL both accept (Piccolo columns only make single-column indexes)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-07T07:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique index of verify_tally (document, day)"

INDEXES = {"verify_tally_document_day": "verify_tally (document, day)"}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="portal", description=DESCRIPTION)

    async def create_indexes():
        engine = engine_finder()
        for name, target in INDEXES.items():
            await engine.run_ddl(f"CREATE UNIQUE INDEX IF NOT EXISTS {name} ON {target}")

    async def drop_indexes():
        engine = engine_finder()
        for name in INDEXES:
            await engine.run_ddl(f"DROP INDEX IF EXISTS {name}")

    manager.add_raw(create_indexes)
    manager.add_raw_backwards(drop_indexes)
    return manager
