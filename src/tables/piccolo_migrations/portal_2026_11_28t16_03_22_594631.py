"""Trigram indexes for searching connections by name or email, on PostgreSQL only.

A search like ILIKE '%gallagher%' cannot use a B-tree index, so on PostgreSQL a third party with
10,000 connections waited ~2.6x as long as one with 10 (`make bench`). pg_trgm's GIN indexes answer
ILIKE '%…%' directly. pg_trgm is a trusted extension (PostgreSQL 13+): a database owner may create
it. SQLite has no such index; there the search stays within the benchmark's 1.5x on its own.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.engine.postgres import PostgresEngine

ID = "2026-11-28T16:03:22:594631"
VERSION = "1.38.0"
DESCRIPTION = "trigram search indexes on PostgreSQL"

INDEXES = {
    "account_first_name_trgm": "account USING gin (first_name gin_trgm_ops)",
    "account_last_name_trgm": "account USING gin (last_name gin_trgm_ops)",
    "account_company_name_trgm": "account USING gin (company_name gin_trgm_ops)",
    "connection_learner_email_trgm": "connection USING gin (learner_email gin_trgm_ops)",
    "connection_third_party_email_trgm": "connection USING gin (third_party_email gin_trgm_ops)",
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="portal", description=DESCRIPTION)

    async def create_indexes():
        engine = engine_finder()
        if not isinstance(engine, PostgresEngine):
            return
        await engine.run_ddl("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for name, target in INDEXES.items():
            await engine.run_ddl(f"CREATE INDEX IF NOT EXISTS {name} ON {target}")

    async def drop_indexes():
        engine = engine_finder()
        if not isinstance(engine, PostgresEngine):
            return
        for name in INDEXES:
            await engine.run_ddl(f"DROP INDEX IF EXISTS {name}")

    manager.add_raw(create_indexes)
    manager.add_raw_backwards(drop_indexes)
    return manager
