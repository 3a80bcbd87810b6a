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


POSTGRES_STEP = """
CREATE OR REPLACE FUNCTION connection_tally_step(
    tally_account integer, tally_side text, tally_state text, tally_day date, step integer
) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF step > 0 THEN
        INSERT INTO connection_tally (account, side, state, expires_on, n)
        VALUES (tally_account, tally_side, tally_state, tally_day, step)
        ON CONFLICT (account, side, state, expires_on) DO UPDATE SET n = connection_tally.n + step;
    ELSE
        UPDATE connection_tally SET n = n + step
        WHERE account = tally_account AND side = tally_side AND state = tally_state AND expires_on = tally_day;
        DELETE FROM connection_tally
        WHERE account = tally_account AND side = tally_side AND state = tally_state AND expires_on = tally_day
          AND n <= 0;
    END IF;
END
$$
"""

# Each trigger call touches the tally rows in one order (side, then account, state and end date), so
# two transactions moving connections of one account between the same rows (two extensions that
# swap end dates, say) lock those rows in the same order and wait for each other instead of
# deadlocking.
POSTGRES_FUNCTION = f"""
CREATE OR REPLACE FUNCTION connection_tally_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    side_name text;
    old_account integer;
    new_account integer;
    old_day date;
    new_day date;
    old_counted boolean;
    new_counted boolean;
    new_first boolean;
BEGIN
    FOREACH side_name IN ARRAY ARRAY['third_party', 'learner'] LOOP
        old_counted := FALSE;
        new_counted := FALSE;
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            old_account := CASE side_name WHEN 'third_party' THEN OLD.third_party ELSE OLD.learner END;
            old_counted := old_account IS NOT NULL AND OLD.state IN {STATES};
            old_day := COALESCE(OLD.expires_on, DATE '0001-01-01');
        END IF;
        IF TG_OP IN ('UPDATE', 'INSERT') THEN
            new_account := CASE side_name WHEN 'third_party' THEN NEW.third_party ELSE NEW.learner END;
            new_counted := new_account IS NOT NULL AND NEW.state IN {STATES};
            new_day := COALESCE(NEW.expires_on, DATE '0001-01-01');
        END IF;
        IF old_counted AND new_counted
           AND (old_account, OLD.state, old_day) = (new_account, NEW.state, new_day) THEN
            CONTINUE;  -- the same row out and in: nothing changes
        END IF;
        new_first := old_counted AND new_counted
            AND (new_account, NEW.state::text, new_day) < (old_account, OLD.state::text, old_day);
        IF new_first THEN
            PERFORM connection_tally_step(new_account, side_name, NEW.state, new_day, 1);
        END IF;
        IF old_counted THEN
            PERFORM connection_tally_step(old_account, side_name, OLD.state, old_day, -1);
        END IF;
        IF new_counted AND NOT new_first THEN
            PERFORM connection_tally_step(new_account, side_name, NEW.state, new_day, 1);
        END IF;
    END LOOP;
    RETURN NULL;
END
$$
"""

POSTGRES_TRIGGERS = [
    POSTGRES_STEP,
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
            await engine.run_ddl("DROP FUNCTION IF EXISTS connection_tally_step(integer, text, text, date, integer)")
        await engine.run_ddl("DROP TABLE IF EXISTS connection_tally")

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
