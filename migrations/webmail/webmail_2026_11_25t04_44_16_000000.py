"""Raw step: composite indexes the message list and the unread counts read through (written by
hand: Piccolo's auto migrations create single-column indexes only)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-25T04:44:16:000000"
VERSION = "1.38.0"
DESCRIPTION = "indexes of a folder's messages by arrival and of unread messages"

INDEXES = {
    # One folder, newest first, counted without reading the rows.
    "webmail_message_list": "webmail_message (mailbox, folder, received_at)",
    # Unread counts per folder and the unread badge.
    "webmail_message_unread": "webmail_message (mailbox, seen, folder)",
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="webmail", description=DESCRIPTION)

    async def create_indexes():
        for name, target in INDEXES.items():
            await engine_finder().run_ddl(f"CREATE INDEX IF NOT EXISTS {name} ON {target}")

    async def drop_indexes():
        for name in INDEXES:
            await engine_finder().run_ddl(f"DROP INDEX IF EXISTS {name}")

    manager.add_raw(create_indexes)
    manager.add_raw_backwards(drop_indexes)
    return manager
