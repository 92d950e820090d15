from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Bytea
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-26T22:17:08:118639"
VERSION = "1.38.0"
DESCRIPTION = "raw messages as blobs in the database"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="webmail", description=DESCRIPTION
    )

    manager.add_table(
        class_name="Blob", tablename="webmail_blob", schema=None, columns=None
    )

    manager.add_column(
        table_class_name="Blob",
        tablename="webmail_blob",
        column_name="sha",
        db_column_name="sha",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 64,
            "default": "",
            "null": False,
            "primary_key": True,
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
        table_class_name="Blob",
        tablename="webmail_blob",
        column_name="data",
        db_column_name="data",
        column_class_name="Bytea",
        column_class=Bytea,
        params={
            "default": b"",
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
