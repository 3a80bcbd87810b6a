from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-28T21:42:15:959379"
VERSION = "1.38.0"
DESCRIPTION = "Connection.open_pair"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="portal", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="Connection",
        tablename="connection",
        column_name="open_pair",
        db_column_name="open_pair",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 520,
            "default": None,
            "null": True,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    return manager
