"""Search indexes for the connections list, so that a search does not read every connection of the account.

`ILIKE '%q%'` cannot use a B-tree index. Searching a third party's 10,000 connections read each with its
learner row.

- PostgreSQL: pg_trgm GIN indexes on the names searched (account first, last and company name) and
  on the two email columns of connection; the search is written as `id IN (connections of the
  matching accounts UNION ALL connections with a matching email)` so that the planner reads them.
- SQLite: two FTS5 tables with the trigram tokenizer (substring match, case-insensitive, like the
  LIKE it replaces), kept current by triggers: account_search (rowid = account id: first, last and
  company name) and connection_search (rowid = connection id: learner and third party email).
  A prefix column with a B-tree index was the other choice, but it finds "gall" in "Gallagher" and
  not "lagher", nor a part of an email address, which the list's search has always done.

Searches shorter than three characters (no trigram) keep the plain LIKE.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.engine.sqlite import SQLiteEngine

ID = "2026-11-29T01:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "trigram search: pg_trgm GIN indexes, FTS5 trigram tables on SQLite"

POSTGRES_INDEXES = {
    "account_first_name_trgm": "account USING gin (first_name gin_trgm_ops)",
    "account_last_name_trgm": "account USING gin (last_name gin_trgm_ops)",
    "account_company_name_trgm": "account USING gin (company_name gin_trgm_ops)",
    "connection_learner_email_trgm": "connection USING gin (learner_email gin_trgm_ops)",
    "connection_third_party_email_trgm": "connection USING gin (third_party_email gin_trgm_ops)",
}

ACCOUNT_COLUMNS = "first_name, last_name, company_name"
CONNECTION_COLUMNS = "learner_email, third_party_email"


def _new(columns: str) -> str:
    return ", ".join(f"COALESCE(NEW.{c.strip()}, '')" for c in columns.split(","))


SQLITE = [
    f"CREATE VIRTUAL TABLE IF NOT EXISTS account_search USING fts5({ACCOUNT_COLUMNS}, tokenize='trigram')",
    f"CREATE VIRTUAL TABLE IF NOT EXISTS connection_search USING fts5({CONNECTION_COLUMNS}, tokenize='trigram')",
    "DELETE FROM account_search",
    "DELETE FROM connection_search",
    f"INSERT INTO account_search (rowid, {ACCOUNT_COLUMNS}) SELECT id, "
    "COALESCE(first_name, ''), COALESCE(last_name, ''), COALESCE(company_name, '') FROM account",
    f"INSERT INTO connection_search (rowid, {CONNECTION_COLUMNS}) SELECT id, "
    "COALESCE(learner_email, ''), COALESCE(third_party_email, '') FROM connection",
    "CREATE TRIGGER IF NOT EXISTS account_search_insert AFTER INSERT ON account BEGIN "
    f"INSERT INTO account_search (rowid, {ACCOUNT_COLUMNS}) VALUES (NEW.id, {_new(ACCOUNT_COLUMNS)}); END",
    "CREATE TRIGGER IF NOT EXISTS account_search_update AFTER UPDATE OF first_name, last_name, company_name "
    "ON account BEGIN DELETE FROM account_search WHERE rowid = OLD.id; "
    f"INSERT INTO account_search (rowid, {ACCOUNT_COLUMNS}) VALUES (NEW.id, {_new(ACCOUNT_COLUMNS)}); END",
    "CREATE TRIGGER IF NOT EXISTS account_search_delete AFTER DELETE ON account BEGIN "
    "DELETE FROM account_search WHERE rowid = OLD.id; END",
    "CREATE TRIGGER IF NOT EXISTS connection_search_insert AFTER INSERT ON connection BEGIN "
    f"INSERT INTO connection_search (rowid, {CONNECTION_COLUMNS}) VALUES (NEW.id, {_new(CONNECTION_COLUMNS)}); END",
    "CREATE TRIGGER IF NOT EXISTS connection_search_update AFTER UPDATE OF learner_email, third_party_email "
    "ON connection BEGIN DELETE FROM connection_search WHERE rowid = OLD.id; "
    f"INSERT INTO connection_search (rowid, {CONNECTION_COLUMNS}) VALUES (NEW.id, {_new(CONNECTION_COLUMNS)}); END",
    "CREATE TRIGGER IF NOT EXISTS connection_search_delete AFTER DELETE ON connection BEGIN "
    "DELETE FROM connection_search WHERE rowid = OLD.id; END",
]

SQLITE_DROP = [
    *(
        f"DROP TRIGGER IF EXISTS {table}_search_{event}"
        for table in ("account", "connection")
        for event in ("insert", "update", "delete")
    ),
    "DROP TABLE IF EXISTS account_search",
    "DROP TABLE IF EXISTS connection_search",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="portal", description=DESCRIPTION)

    async def create():
        engine = engine_finder()
        if isinstance(engine, SQLiteEngine):
            for statement in SQLITE:
                await engine.run_ddl(statement)
            return
        await engine.run_ddl("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for name, target in POSTGRES_INDEXES.items():
            await engine.run_ddl(f"CREATE INDEX IF NOT EXISTS {name} ON {target}")

    async def drop():
        engine = engine_finder()
        if isinstance(engine, SQLiteEngine):
            for statement in SQLITE_DROP:
                await engine.run_ddl(statement)
            return
        for name in POSTGRES_INDEXES:
            await engine.run_ddl(f"DROP INDEX IF EXISTS {name}")

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
