from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine

ID = "2026-11-30T03:07:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Faster search: a small vector to rank on (PostgreSQL), the scope in FTS5 (SQLite)"

# Both: the council and kind filter through an index, not a scan.
# PostgreSQL: `lead`, the tsvector of the title (A) and the start of the body (D), written by
# conseils.search beside `document`: ranking reads it instead of detoasting a whole minutes'
# vector. Rows indexed before this migration rank on their whole document until rewritten.
POSTGRES = (
    "CREATE INDEX IF NOT EXISTS search_entry_scope ON search_entry (kind, council_id)",
    "ALTER TABLE search_entry ADD COLUMN IF NOT EXISTS lead tsvector",
    "UPDATE search_entry SET lead = document WHERE lead IS NULL",
)

# SQLite: FTS5 cannot add a column, so `search_entry_terms` replaces `search_entry_fts` with
# a third one, `scope`: tokens of the kind (`k` + hex of its UTF-8) and of the council (`c3`,
# `cnone`), so that FTS5 itself keeps only the entries of the kinds and council searched
# (and bm25 ranks only those). The stems are copied over; the trigger follows.
SQLITE = (
    "CREATE INDEX IF NOT EXISTS search_entry_scope ON search_entry (kind, council_id)",
    "CREATE VIRTUAL TABLE IF NOT EXISTS search_entry_terms USING fts5("
    "title_terms, body_terms, scope, tokenize = 'unicode61 remove_diacritics 2')",
    "INSERT INTO search_entry_terms (rowid, title_terms, body_terms, scope) "
    "SELECT f.rowid, f.title_terms, f.body_terms, "
    "'k' || hex(e.kind) || ' c' || coalesce(e.council_id, 'none') "
    "FROM search_entry_fts f JOIN search_entry e ON e.id = f.rowid",
    "DROP TRIGGER IF EXISTS search_entry_fts_delete",
    "DROP TABLE IF EXISTS search_entry_fts",
    "CREATE TRIGGER IF NOT EXISTS search_entry_terms_delete AFTER DELETE ON search_entry "
    "BEGIN DELETE FROM search_entry_terms WHERE rowid = old.id; END",
)


async def engine_parts() -> None:
    engine = engine_finder()
    for statement in POSTGRES if isinstance(engine, PostgresEngine) else SQLITE:
        await engine.run_ddl(statement)


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="conseils", description=DESCRIPTION
    )
    manager.add_raw(engine_parts)
    return manager
