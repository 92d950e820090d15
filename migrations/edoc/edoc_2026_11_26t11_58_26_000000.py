"""Raw step: the unique index that makes document numbers unique per unit and year (the
numbering upsert's conflict target), and the index the home page's bulletin lists read through
(written by hand: Piccolo's auto migrations create single-column indexes only)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-26T11:58:26:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique document number sequence per unit and year; bulletins by unit, kind and date"

INDEXES = {
    "edoc_number_sequence_unit_year": "UNIQUE INDEX {name} ON edoc_number_sequence (unit, year)",
    "edoc_bulletin_list": "INDEX {name} ON edoc_bulletin (unit, kind, created_at)",
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="edoc", description=DESCRIPTION)

    async def create_indexes():
        for name, definition in INDEXES.items():
            kind, _, target = definition.partition(" {name} ")
            await engine_finder().run_ddl(f"CREATE {kind} IF NOT EXISTS {name} {target}")

    async def drop_indexes():
        for name in INDEXES:
            await engine_finder().run_ddl(f"DROP INDEX IF EXISTS {name}")

    manager.add_raw(create_indexes)
    manager.add_raw_backwards(drop_indexes)
    return manager
