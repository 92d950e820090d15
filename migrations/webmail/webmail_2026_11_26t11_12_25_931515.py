from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Integer
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-26T11:12:25:931515"
VERSION = "1.38.0"
DESCRIPTION = "message and unread counts of a folder"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="webmail", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="Folder",
        tablename="webmail_folder",
        column_name="total",
        db_column_name="total",
        column_class_name="Integer",
        column_class=Integer,
        params={
            "default": 0,
            "null": False,
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

    manager.add_column(
        table_class_name="Folder",
        tablename="webmail_folder",
        column_name="unread",
        db_column_name="unread",
        column_class_name="Integer",
        column_class=Integer,
        params={
            "default": 0,
            "null": False,
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
