"""Raw step: triggers that keep each category's ``published_count`` exact, and its first values
(written by hand: Piccolo has no triggers; the pattern of webmail's folder counts).

Counting a unit's visible items per category read every index entry of the unit: about 30 ms of
CPU for 100,000 items on SQLite, on every visit of the unit's catalog page. The count of items
with status "published" is kept here instead; the catalog subtracts the few scheduled ahead
(``public.catalog``). Every writer of disclosure_item is covered, also those that do not go
through the plugin's services.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-26T15:22:07:000000"
VERSION = "1.38.0"
DESCRIPTION = "triggers that keep the count of published items per category"

ADD_NEW = ("UPDATE disclosure_category SET published_count = published_count + 1 "
           "WHERE id = NEW.category AND NEW.status = 'published'")
REMOVE_OLD = ("UPDATE disclosure_category SET published_count = published_count - 1 "
              "WHERE id = OLD.category AND OLD.status = 'published'")
CHANGED = "OLD.category IS DISTINCT FROM NEW.category OR OLD.status IS DISTINCT FROM NEW.status"

SQLITE = [
    f"CREATE TRIGGER disclosure_category_count_insert AFTER INSERT ON disclosure_item BEGIN {ADD_NEW}; END",
    f"CREATE TRIGGER disclosure_category_count_delete AFTER DELETE ON disclosure_item BEGIN {REMOVE_OLD}; END",
    # SQLite spells IS DISTINCT FROM as IS NOT.
    "CREATE TRIGGER disclosure_category_count_update AFTER UPDATE OF category, status ON disclosure_item "
    f"WHEN OLD.category IS NOT NEW.category OR OLD.status IS NOT NEW.status BEGIN {REMOVE_OLD}; {ADD_NEW}; END",
]
POSTGRES = [
    "CREATE FUNCTION disclosure_category_count() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    f"IF TG_OP <> 'INSERT' THEN {REMOVE_OLD}; END IF; "
    f"IF TG_OP <> 'DELETE' THEN {ADD_NEW}; END IF; "
    "RETURN NULL; END $$",
    "CREATE TRIGGER disclosure_category_count_insert AFTER INSERT ON disclosure_item FOR EACH ROW "
    "EXECUTE FUNCTION disclosure_category_count()",
    "CREATE TRIGGER disclosure_category_count_delete AFTER DELETE ON disclosure_item FOR EACH ROW "
    "EXECUTE FUNCTION disclosure_category_count()",
    "CREATE TRIGGER disclosure_category_count_update AFTER UPDATE OF category, status ON disclosure_item FOR EACH ROW "
    f"WHEN ({CHANGED}) EXECUTE FUNCTION disclosure_category_count()",
]
FILL = ("UPDATE disclosure_category SET published_count = (SELECT COUNT(*) FROM disclosure_item i "
        "WHERE i.category = disclosure_category.id AND i.status = 'published')")
TRIGGERS = ("disclosure_category_count_insert", "disclosure_category_count_delete", "disclosure_category_count_update")


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="disclosure", description=DESCRIPTION)

    async def create_triggers():
        engine = engine_finder()
        for statement in SQLITE if engine.engine_type == "sqlite" else POSTGRES:
            await engine.run_ddl(statement)
        await engine.run_ddl(FILL)

    async def drop_triggers():
        engine = engine_finder()
        for name in TRIGGERS:
            await engine.run_ddl(f"DROP TRIGGER IF EXISTS {name}" + ("" if engine.engine_type == "sqlite" else " ON disclosure_item"))
        if engine.engine_type != "sqlite":
            await engine.run_ddl("DROP FUNCTION IF EXISTS disclosure_category_count()")

    manager.add_raw(create_triggers)
    manager.add_raw_backwards(drop_triggers)
    return manager
