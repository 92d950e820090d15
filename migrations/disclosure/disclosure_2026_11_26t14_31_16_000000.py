"""Raw step: search of disclosure items by substring, Chinese included (no word spaces), over
title and body text (PUB-4; written by hand: engine-specific SQL, the pattern of webmail's).

SQLite: a contentless FTS5 index with the trigram tokenizer of the *published* items only, kept
in step with disclosure_item by triggers (the update trigger fires only when title, body text or
status change): a draft or a withdrawn item is not in it at all, so no search can find its text,
and a search reads no rows it would have to throw away. Every value is indexed with two spaces after it, so each character,
even the last, begins a trigram: a search of one or two characters (公开) reads the postings of
the trigrams that begin with it through the fts5vocab table ``disclosure_item_fts_instances``.
PostgreSQL: pg_trgm GIN indexes, which ILIKE '%…%' uses directly.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-26T14:31:16:000000"
VERSION = "1.38.0"
DESCRIPTION = "substring search of disclosure items: FTS5 trigram on SQLite, pg_trgm on PostgreSQL"

COLUMNS = ("title", "body_text")
_NAMES = ", ".join(COLUMNS)


def _padded(row: str) -> str:
    return ", ".join(f"{row}.{c} || '  '" for c in COLUMNS)


# A contentless index forgets a row only when given the exact values it indexed: it was indexed
# while published, so it is forgotten only if it was published.
_FORGET_OLD = (f"INSERT INTO disclosure_item_fts (disclosure_item_fts, rowid, {_NAMES}) "
               f"SELECT 'delete', old.id, {_padded('old')} WHERE old.status = 'published';")
_INDEX_NEW = f"INSERT INTO disclosure_item_fts (rowid, {_NAMES}) SELECT new.id, {_padded('new')} WHERE new.status = 'published';"

SQLITE_FORWARDS = (
    f"CREATE VIRTUAL TABLE disclosure_item_fts USING fts5({_NAMES}, content='', tokenize='trigram', columnsize=0)",
    "CREATE VIRTUAL TABLE disclosure_item_fts_instances USING fts5vocab(disclosure_item_fts, 'instance')",
    f"CREATE TRIGGER disclosure_item_fts_insert AFTER INSERT ON disclosure_item BEGIN {_INDEX_NEW} END",
    f"CREATE TRIGGER disclosure_item_fts_delete AFTER DELETE ON disclosure_item BEGIN {_FORGET_OLD} END",
    f"CREATE TRIGGER disclosure_item_fts_update AFTER UPDATE OF {_NAMES}, status ON disclosure_item "
    f"BEGIN {_FORGET_OLD} {_INDEX_NEW} END",
    f"INSERT INTO disclosure_item_fts (rowid, {_NAMES}) SELECT id, {_padded('disclosure_item')} FROM disclosure_item "
    "WHERE status = 'published'",
)
SQLITE_BACKWARDS = (
    "DROP TRIGGER IF EXISTS disclosure_item_fts_insert",
    "DROP TRIGGER IF EXISTS disclosure_item_fts_delete",
    "DROP TRIGGER IF EXISTS disclosure_item_fts_update",
    "DROP TABLE IF EXISTS disclosure_item_fts_instances",
    "DROP TABLE IF EXISTS disclosure_item_fts",
)

POSTGRES_FORWARDS = (
    # pg_trgm is a trusted extension (PostgreSQL 13+): the database's owner may create it.
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    *(f"CREATE INDEX IF NOT EXISTS disclosure_item_{c}_trgm ON disclosure_item USING gin ({c} gin_trgm_ops)"
      for c in COLUMNS),
)
# The extension stays: other tables of the database may use it.
POSTGRES_BACKWARDS = tuple(f"DROP INDEX IF EXISTS disclosure_item_{c}_trgm" for c in COLUMNS)


async def _run(statements: dict[str, tuple[str, ...]]) -> None:
    engine = engine_finder()
    for statement in statements[engine.engine_type]:
        await engine.run_ddl(statement)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="disclosure", description=DESCRIPTION)

    async def create_search_index():
        await _run({"sqlite": SQLITE_FORWARDS, "postgres": POSTGRES_FORWARDS})

    async def drop_search_index():
        await _run({"sqlite": SQLITE_BACKWARDS, "postgres": POSTGRES_BACKWARDS})

    manager.add_raw(create_search_index)
    manager.add_raw_backwards(drop_search_index)
    return manager
