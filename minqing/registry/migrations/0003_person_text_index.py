"""Text indexes for person search (registry.selectors.text_query), one per database vendor.

SQLite: two contentless FTS5 tables with the trigram tokenizer, kept in sync by triggers:
  registry_person_fts(rowid = person id; name, pinyin, initials)
  registry_household_fts(rowid = household id; address)
Each value is stored padded with two spaces on both sides, and the space-separated pinyin and
initials variants are separated by two spaces, so that a query of one or two characters can
still be answered from trigrams as "a name / variant starts or ends with it" ("  zs", "zs  ").

PostgreSQL: pg_trgm GIN indexes (gin_trgm_ops) on name, name_pinyin, name_initials and the
household address, for substring search of three characters or more; and for shorter queries
a pattern-ops btree on name and on reverse(name) (prefix and suffix ranges).

Both run on an existing database: the FTS tables are filled from the current rows, and the
PostgreSQL indexes are built over them. Nothing here is part of the model state.
"""

from django.db import migrations

SQLITE_PAD = "'  ' || replace({v}, ' ', '  ') || '  '"


def _p(v: str) -> str:
    return SQLITE_PAD.format(v=v)


def _person_values(row: str) -> str:
    return (
        f"{row}.id, {_p(row + '.name')}, {_p(row + '.name_pinyin')}, {_p(row + '.name_initials')}"
    )


SQLITE_FORWARD = [
    "CREATE VIRTUAL TABLE registry_person_fts USING fts5("
    "name, pinyin, initials, content='', tokenize='trigram')",
    "CREATE VIRTUAL TABLE registry_household_fts USING fts5("
    "address, content='', tokenize='trigram')",
    # Person: insert, delete, and update of a searched column.
    f"""CREATE TRIGGER registry_person_fts_ai AFTER INSERT ON registry_person BEGIN
        INSERT INTO registry_person_fts(rowid, name, pinyin, initials)
        VALUES ({_person_values("new")});
    END""",
    f"""CREATE TRIGGER registry_person_fts_ad AFTER DELETE ON registry_person BEGIN
        INSERT INTO registry_person_fts(registry_person_fts, rowid, name, pinyin, initials)
        VALUES ('delete', {_person_values("old")});
    END""",
    f"""CREATE TRIGGER registry_person_fts_au AFTER UPDATE OF id, name, name_pinyin, name_initials
        ON registry_person
        WHEN old.id IS NOT new.id OR old.name IS NOT new.name
          OR old.name_pinyin IS NOT new.name_pinyin OR old.name_initials IS NOT new.name_initials
    BEGIN
        INSERT INTO registry_person_fts(registry_person_fts, rowid, name, pinyin, initials)
        VALUES ('delete', {_person_values("old")});
        INSERT INTO registry_person_fts(rowid, name, pinyin, initials)
        VALUES ({_person_values("new")});
    END""",
    f"""CREATE TRIGGER registry_household_fts_ai AFTER INSERT ON registry_household BEGIN
        INSERT INTO registry_household_fts(rowid, address) VALUES (new.id, {_p("new.address")});
    END""",
    f"""CREATE TRIGGER registry_household_fts_ad AFTER DELETE ON registry_household BEGIN
        INSERT INTO registry_household_fts(registry_household_fts, rowid, address)
        VALUES ('delete', old.id, {_p("old.address")});
    END""",
    f"""CREATE TRIGGER registry_household_fts_au AFTER UPDATE OF id, address ON registry_household
        WHEN old.id IS NOT new.id OR old.address IS NOT new.address
    BEGIN
        INSERT INTO registry_household_fts(registry_household_fts, rowid, address)
        VALUES ('delete', old.id, {_p("old.address")});
        INSERT INTO registry_household_fts(rowid, address) VALUES (new.id, {_p("new.address")});
    END""",
    # Existing rows.
    f"INSERT INTO registry_person_fts(rowid, name, pinyin, initials) "
    f"SELECT {_person_values('p')} FROM registry_person p",
    f"INSERT INTO registry_household_fts(rowid, address) "
    f"SELECT h.id, {_p('h.address')} FROM registry_household h",
    "INSERT INTO registry_person_fts(registry_person_fts) VALUES ('optimize')",
    "INSERT INTO registry_household_fts(registry_household_fts) VALUES ('optimize')",
]

SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS registry_person_fts_ai",
    "DROP TRIGGER IF EXISTS registry_person_fts_ad",
    "DROP TRIGGER IF EXISTS registry_person_fts_au",
    "DROP TRIGGER IF EXISTS registry_household_fts_ai",
    "DROP TRIGGER IF EXISTS registry_household_fts_ad",
    "DROP TRIGGER IF EXISTS registry_household_fts_au",
    "DROP TABLE IF EXISTS registry_person_fts",
    "DROP TABLE IF EXISTS registry_household_fts",
]

POSTGRES_FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS person_name_trgm ON registry_person USING gin (name gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS person_pinyin_trgm "
    "ON registry_person USING gin (name_pinyin gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS person_initials_trgm "
    "ON registry_person USING gin (name_initials gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS household_address_trgm "
    "ON registry_household USING gin (address gin_trgm_ops)",
    # Short queries: name prefix and name suffix (the database collation need not be C).
    "CREATE INDEX IF NOT EXISTS person_name_prefix ON registry_person (name varchar_pattern_ops)",
    "CREATE INDEX IF NOT EXISTS person_name_suffix "
    "ON registry_person ((reverse(name::text)) text_pattern_ops)",
    "ANALYZE registry_person",
    "ANALYZE registry_household",
]

POSTGRES_BACKWARD = [
    "DROP INDEX IF EXISTS person_name_trgm",
    "DROP INDEX IF EXISTS person_pinyin_trgm",
    "DROP INDEX IF EXISTS person_initials_trgm",
    "DROP INDEX IF EXISTS household_address_trgm",
    "DROP INDEX IF EXISTS person_name_prefix",
    "DROP INDEX IF EXISTS person_name_suffix",
]


def sqlite_text_index_resync(apps, schema_editor):
    """Put the SQLite triggers back and refill the FTS tables from the rows (idempotent).

    Django rebuilds a SQLite table for many AlterField/RemoveField operations, and the rebuild
    drops the table's triggers. registry.search_index repairs that after every migrate
    (post_migrate); a migration that must search right after such a rebuild can call this.
    Keep SQLITE_FORWARD's statement shapes: registry.search_index reads them.
    """
    if schema_editor.connection.vendor != "sqlite":
        return
    for sql in SQLITE_BACKWARD:
        schema_editor.execute(sql, params=None)
    for sql in SQLITE_FORWARD:
        schema_editor.execute(sql, params=None)


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        statements = statements_by_vendor.get(schema_editor.connection.vendor, [])
        for sql in statements:
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("registry", "0002_seed_tags")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_FORWARD, "postgresql": POSTGRES_FORWARD}),
            _run({"sqlite": SQLITE_BACKWARD, "postgresql": POSTGRES_BACKWARD}),
        ),
    ]
