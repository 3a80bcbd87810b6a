"""connection_tally: how many connections each account has per side, state and end date, kept by
triggers, so that the counts above the connections list cost the same for 10 connections as for 10,000.

Counting from the (third_party, state, id, expires_on) index read every active connection of the
account (about 10 ms for 10,000 on SQLite, O(n)). The tally has one row per (account, side, state,
end date) with the number of connections, so "active" (state active, ending today or later) reads at
most one row per future end date (access is granted for at most MAX_DAYS), and the waiting counts a
handful. Only the states counted are kept (waiting either way, active); a row whose number falls to 0
is deleted. A connection without an end date is filed under 0001-01-01.

Raw SQL (Piccolo has no triggers): a table, triggers and a backfill, in each engine's dialect.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.engine.sqlite import SQLiteEngine

ID = "2026-11-29T01:15:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "connection_tally kept by triggers, for the counts"

STATES = "('awaiting_third_party', 'awaiting_learner', 'active')"

TABLE = """
CREATE TABLE IF NOT EXISTS connection_tally (
    account INTEGER NOT NULL,
    side VARCHAR(12) NOT NULL,
    state VARCHAR(24) NOT NULL,
    expires_on DATE NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (account, side, state, expires_on)
)
"""

BACKFILL = [
    f"""INSERT INTO connection_tally (account, side, state, expires_on, n)
    SELECT {column}, '{column}', state, COALESCE(expires_on, {{none}}), COUNT(*) FROM connection
    WHERE {column} IS NOT NULL AND state IN {STATES}
    GROUP BY {column}, state, COALESCE(expires_on, {{none}})"""
    for column in ("third_party", "learner")
]


def _sqlite_side(row: str, column: str, change: str) -> str:
    """One side of one row counted in (+1) or out (-1): SQLite trigger statements."""
    key = (
        f"account = {row}.{column} AND side = '{column}' AND state = {row}.state "
        f"AND expires_on = COALESCE({row}.expires_on, '0001-01-01')"
    )
    if change == "+1":
        return (
            "INSERT INTO connection_tally (account, side, state, expires_on, n) "
            f"SELECT {row}.{column}, '{column}', {row}.state, COALESCE({row}.expires_on, '0001-01-01'), 1 "
            f"WHERE {row}.{column} IS NOT NULL AND {row}.state IN {STATES} "
            "ON CONFLICT (account, side, state, expires_on) DO UPDATE SET n = n + 1;"
        )
    return f"UPDATE connection_tally SET n = n - 1 WHERE {key}; DELETE FROM connection_tally WHERE {key} AND n <= 0;"


def _sqlite_triggers() -> list[str]:
    def body(*parts: tuple[str, str]) -> str:
        return " ".join(_sqlite_side(row, column, change) for row, change in parts for column in ("third_party", "learner"))

    return [
        f"CREATE TRIGGER IF NOT EXISTS connection_tally_insert AFTER INSERT ON connection BEGIN {body(('NEW', '+1'))} END",
        f"CREATE TRIGGER IF NOT EXISTS connection_tally_delete AFTER DELETE ON connection BEGIN {body(('OLD', '-1'))} END",
        "CREATE TRIGGER IF NOT EXISTS connection_tally_update "
        "AFTER UPDATE OF state, expires_on, learner, third_party ON connection "
        f"BEGIN {body(('OLD', '-1'), ('NEW', '+1'))} END",
    ]


POSTGRES_FUNCTION = f"""
CREATE OR REPLACE FUNCTION connection_tally_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    side_name text;
    side_account integer;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        FOREACH side_name IN ARRAY ARRAY['third_party', 'learner'] LOOP
            side_account := CASE side_name WHEN 'third_party' THEN OLD.third_party ELSE OLD.learner END;
            IF side_account IS NOT NULL AND OLD.state IN {STATES} THEN
                UPDATE connection_tally SET n = n - 1
                WHERE account = side_account AND side = side_name AND state = OLD.state
                  AND expires_on = COALESCE(OLD.expires_on, DATE '0001-01-01');
                DELETE FROM connection_tally
                WHERE account = side_account AND side = side_name AND state = OLD.state
                  AND expires_on = COALESCE(OLD.expires_on, DATE '0001-01-01') AND n <= 0;
            END IF;
        END LOOP;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        FOREACH side_name IN ARRAY ARRAY['third_party', 'learner'] LOOP
            side_account := CASE side_name WHEN 'third_party' THEN NEW.third_party ELSE NEW.learner END;
            IF side_account IS NOT NULL AND NEW.state IN {STATES} THEN
                INSERT INTO connection_tally (account, side, state, expires_on, n)
                VALUES (side_account, side_name, NEW.state, COALESCE(NEW.expires_on, DATE '0001-01-01'), 1)
                ON CONFLICT (account, side, state, expires_on) DO UPDATE SET n = connection_tally.n + 1;
            END IF;
        END LOOP;
    END IF;
    RETURN NULL;
END
$$
"""

POSTGRES_TRIGGERS = [
    POSTGRES_FUNCTION,
    "DROP TRIGGER IF EXISTS connection_tally_insert_delete ON connection",
    "CREATE TRIGGER connection_tally_insert_delete AFTER INSERT OR DELETE ON connection "
    "FOR EACH ROW EXECUTE FUNCTION connection_tally_change()",
    "DROP TRIGGER IF EXISTS connection_tally_update ON connection",
    "CREATE TRIGGER connection_tally_update AFTER UPDATE OF state, expires_on, learner, third_party ON connection "
    "FOR EACH ROW EXECUTE FUNCTION connection_tally_change()",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="portal", description=DESCRIPTION)

    async def create():
        engine = engine_finder()
        sqlite = isinstance(engine, SQLiteEngine)
        none = "'0001-01-01'" if sqlite else "DATE '0001-01-01'"
        await engine.run_ddl(TABLE)
        await engine.run_ddl("DELETE FROM connection_tally")
        for statement in BACKFILL:
            await engine.run_ddl(statement.format(none=none))
        for statement in _sqlite_triggers() if sqlite else POSTGRES_TRIGGERS:
            await engine.run_ddl(statement)

    async def drop():
        engine = engine_finder()
        if isinstance(engine, SQLiteEngine):
            for name in ("insert", "delete", "update"):
                await engine.run_ddl(f"DROP TRIGGER IF EXISTS connection_tally_{name}")
        else:
            await engine.run_ddl("DROP TRIGGER IF EXISTS connection_tally_insert_delete ON connection")
            await engine.run_ddl("DROP TRIGGER IF EXISTS connection_tally_update ON connection")
            await engine.run_ddl("DROP FUNCTION IF EXISTS connection_tally_change()")
        await engine.run_ddl("DROP TABLE IF EXISTS connection_tally")

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
