"""Raw step: the composite index the message list reads through (written by hand: Piccolo's
auto migrations create single-column indexes only)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-25T04:44:16:000000"
VERSION = "1.38.0"
DESCRIPTION = "index of a folder's messages by arrival"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="webmail", description=DESCRIPTION)

    async def create_index():
        await engine_finder().run_ddl(
            "CREATE INDEX IF NOT EXISTS webmail_message_folder_received ON webmail_message (folder, received_at)"
        )

    async def drop_index():
        await engine_finder().run_ddl("DROP INDEX IF EXISTS webmail_message_folder_received")

    manager.add_raw(create_index)
    manager.add_raw_backwards(drop_index)
    return manager
