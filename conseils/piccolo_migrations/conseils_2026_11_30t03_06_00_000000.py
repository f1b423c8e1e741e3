from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine

ID = "2026-11-30T03:06:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "What the search index searches: a French tsvector (PostgreSQL), FTS5 (SQLite)"

# PostgreSQL: the text search configuration `conseils_french` is `french` (Snowball French
# stemmer, French stop words) with accents removed first (the `unaccent` extension: the
# database user needs the right to create it, or an administrator creates it beforehand).
# Title weighs A, body D (the tsvector is written by conseils.search, from text already
# normalised in Python: hyphens split, elisions cut).
POSTGRES = (
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    """
    DO $$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = 'conseils_french') THEN
            CREATE TEXT SEARCH CONFIGURATION conseils_french (COPY = pg_catalog.french);
            ALTER TEXT SEARCH CONFIGURATION conseils_french
                ALTER MAPPING FOR asciiword, asciihword, hword_asciipart, word, hword, hword_part
                WITH unaccent, french_stem;
        END IF;
    END $$
    """,
    "ALTER TABLE search_entry ADD COLUMN IF NOT EXISTS document tsvector",
    "CREATE INDEX IF NOT EXISTS search_entry_document ON search_entry USING gin (document)",
    "CREATE UNIQUE INDEX IF NOT EXISTS search_entry_kind_object "
    "ON search_entry (kind, object_id)",
)

# SQLite: FTS5 over the stems conseils.search computes in Python (Snowball French), with
# rowid = search_entry.id; a trigger removes a row's stems with the row, whoever deletes it.
SQLITE = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS search_entry_fts USING fts5("
    "title_terms, body_terms, tokenize = 'unicode61 remove_diacritics 2')",
    "CREATE TRIGGER IF NOT EXISTS search_entry_fts_delete AFTER DELETE ON search_entry "
    "BEGIN DELETE FROM search_entry_fts WHERE rowid = old.id; END",
    "CREATE UNIQUE INDEX IF NOT EXISTS search_entry_kind_object "
    "ON search_entry (kind, object_id)",
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
