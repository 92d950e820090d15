"""Raw step (written by hand: multi-column and partial indexes, the same SQL on SQLite and
PostgreSQL) for the catalog's duties (CAT-4, CAT-5).

- A department is concerned by an event once.
- A department has at most one open (pending) or granted request per resource, so a second
  request of the same resource is refused even when two colleagues send it at the same moment.
- The lists read duties by department and due day, requests by owner and status.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-26T14:44:12:000000"
VERSION = "1.38.0"
DESCRIPTION = "catalog: unique duty per event and department, one open or granted request per department and resource (CAT-4, CAT-5)"

INDEXES = {
    "catalog_change_duty_once": "UNIQUE INDEX {name} ON catalog_change_duty (event, department)",
    "catalog_change_duty_department_due": "INDEX {name} ON catalog_change_duty (department, due_on)",
    "catalog_share_request_open": "UNIQUE INDEX {name} ON catalog_share_request (requester_department, resource_id) "
                                  "WHERE status IN ('pending', 'granted')",
    "catalog_share_request_owner_status": "INDEX {name} ON catalog_share_request (owner_department, status)",
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="catalog", description=DESCRIPTION)

    async def create():
        engine = engine_finder()
        for name, definition in INDEXES.items():
            kind, _, target = definition.partition(" {name} ")
            await engine.run_ddl(f"CREATE {kind} IF NOT EXISTS {name} {target}")

    async def drop():
        engine = engine_finder()
        for name in INDEXES:
            await engine.run_ddl(f"DROP INDEX IF EXISTS {name}")

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
