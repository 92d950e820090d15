"""Raw step: full-text search of messages by substring, Chinese included (no word spaces), over
subject, sender name, sender address and body (written by hand: engine-specific SQL).

SQLite: an FTS5 index with the trigram tokenizer (SQLite 3.34+), kept in step with
webmail_message by triggers; the update trigger fires only when a searched column changes, so
moving, reading and flagging cost nothing. Contentless (the text is not stored twice), and every
value is indexed with two spaces after it, so that each character, even the last, begins a
trigram: a search of one or two characters (会议) reads the postings of the trigrams that begin
with it through the fts5vocab table ``webmail_message_fts_instances`` instead of scanning rows.
PostgreSQL: pg_trgm GIN indexes, which ILIKE '%…%' uses directly.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-26T12:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "substring search of messages: FTS5 trigram on SQLite, pg_trgm on PostgreSQL"

COLUMNS = ("subject", "sender_name", "sender_address", "body_text")
_NAMES = ", ".join(COLUMNS)


def _padded(row: str) -> str:
    return ", ".join(f"{row}.{c} || '  '" for c in COLUMNS)


# A contentless index forgets a row only when given the exact values it indexed.
_FORGET_OLD = f"INSERT INTO webmail_message_fts (webmail_message_fts, rowid, {_NAMES}) VALUES ('delete', old.id, {_padded('old')});"
_INDEX_NEW = f"INSERT INTO webmail_message_fts (rowid, {_NAMES}) VALUES (new.id, {_padded('new')});"

SQLITE_FORWARDS = (
    # columnsize=0: no per-row size table (only ranking needs it), one write less per message.
    f"CREATE VIRTUAL TABLE webmail_message_fts USING fts5({_NAMES}, content='', tokenize='trigram', columnsize=0)",
    "CREATE VIRTUAL TABLE webmail_message_fts_instances USING fts5vocab(webmail_message_fts, 'instance')",
    f"CREATE TRIGGER webmail_message_fts_insert AFTER INSERT ON webmail_message BEGIN {_INDEX_NEW} END",
    f"CREATE TRIGGER webmail_message_fts_delete AFTER DELETE ON webmail_message BEGIN {_FORGET_OLD} END",
    f"CREATE TRIGGER webmail_message_fts_update AFTER UPDATE OF {_NAMES} ON webmail_message "
    f"BEGIN {_FORGET_OLD} {_INDEX_NEW} END",
    # Index the messages stored before this migration.
    f"INSERT INTO webmail_message_fts (rowid, {_NAMES}) SELECT id, {_padded('webmail_message')} FROM webmail_message",
)
SQLITE_BACKWARDS = (
    "DROP TRIGGER IF EXISTS webmail_message_fts_insert",
    "DROP TRIGGER IF EXISTS webmail_message_fts_delete",
    "DROP TRIGGER IF EXISTS webmail_message_fts_update",
    "DROP TABLE IF EXISTS webmail_message_fts_instances",
    "DROP TABLE IF EXISTS webmail_message_fts",
)

POSTGRES_FORWARDS = (
    # pg_trgm is a trusted extension (PostgreSQL 13+): the database's owner may create it.
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    *(f"CREATE INDEX IF NOT EXISTS webmail_message_{c}_trgm ON webmail_message USING gin ({c} gin_trgm_ops)"
      for c in COLUMNS),
)
# The extension stays: other tables of the database may use it.
POSTGRES_BACKWARDS = tuple(f"DROP INDEX IF EXISTS webmail_message_{c}_trgm" for c in COLUMNS)


async def _run(statements: dict[str, tuple[str, ...]]) -> None:
    engine = engine_finder()
    for statement in statements[engine.engine_type]:
        await engine.run_ddl(statement)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="webmail", description=DESCRIPTION)

    async def create_search_index():
        await _run({"sqlite": SQLITE_FORWARDS, "postgres": POSTGRES_FORWARDS})

    async def drop_search_index():
        await _run({"sqlite": SQLITE_BACKWARDS, "postgres": POSTGRES_BACKWARDS})

    manager.add_raw(create_search_index)
    manager.add_raw_backwards(drop_search_index)
    return manager
