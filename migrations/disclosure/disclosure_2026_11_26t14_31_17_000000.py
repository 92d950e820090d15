"""Raw step: the indexes the public pages read through (PUB-1), written by hand because Piccolo
makes one-column indexes only.

- (category, status, publish_at): a category's page counts its visible items and reads the
  newest of them in index order, without touching the rows it skips;
- (unit, status, publish_at): a unit's newest items, read in index order.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-26T14:31:17:000000"
VERSION = "1.38.0"
DESCRIPTION = "composite indexes of disclosure items for category and unit pages"

FORWARDS = (
    "CREATE INDEX IF NOT EXISTS disclosure_item_category_visible ON disclosure_item (category, status, publish_at)",
    "CREATE INDEX IF NOT EXISTS disclosure_item_unit_visible ON disclosure_item (unit, status, publish_at)",
)
BACKWARDS = (
    "DROP INDEX IF EXISTS disclosure_item_category_visible",
    "DROP INDEX IF EXISTS disclosure_item_unit_visible",
)


async def _run(statements: tuple[str, ...]) -> None:
    engine = engine_finder()
    for statement in statements:
        await engine.run_ddl(statement)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="disclosure", description=DESCRIPTION)

    async def create_indexes():
        await _run(FORWARDS)

    async def drop_indexes():
        await _run(BACKWARDS)

    manager.add_raw(create_indexes)
    manager.add_raw_backwards(drop_indexes)
    return manager
