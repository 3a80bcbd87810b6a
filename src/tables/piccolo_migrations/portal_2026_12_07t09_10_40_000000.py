"""Every live account's main address as its first EmailAddress row, held since the account was made:
the unique index that keeps an address to one account (main or second) covers the addresses held
before second ones existed.
Raw SQL that SQLite and PostgreSQL both accept (a data migration, written by hand)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-07T09:10:40:000000"
VERSION = "1.38.0"
DESCRIPTION = "EmailAddress rows for the main addresses held today"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="portal", description=DESCRIPTION)

    async def claim_main_addresses():
        await engine_finder().run_ddl(
            "INSERT INTO email_address (email, account, claimed_at) "
            "SELECT email, id, created_at FROM account WHERE deleted_at IS NULL"
        )

    async def forget_them():
        await engine_finder().run_ddl("DELETE FROM email_address")

    manager.add_raw(claim_main_addresses)
    manager.add_raw_backwards(forget_them)
    return manager
