from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Integer
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-26T15:22:06:511431"
VERSION = "1.38.0"
DESCRIPTION = "the count of published items per category (PUB-1)"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="disclosure", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="Category",
        tablename="disclosure_category",
        column_name="published_count",
        db_column_name="published_count",
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
