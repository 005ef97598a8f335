"""Keep SQLite's FTS5 search index alive across table rebuilds.

SQLite cannot alter most columns in place: Django rebuilds the table (create, copy, drop,
rename), and the drop takes the table's triggers with it. After every migrate we check that
the triggers of migration 0003 exist and, if any is missing, recreate them and refill the
index from the rows, so a later migration of registry_person can never silently stop search.
PostgreSQL's pg_trgm indexes survive ALTER TABLE and need nothing.
"""

import importlib

from django.db import connections

_TRIGGERS = (
    "registry_person_fts_ai",
    "registry_person_fts_ad",
    "registry_person_fts_au",
    "registry_household_fts_ai",
    "registry_household_fts_ad",
    "registry_household_fts_au",
)


def _forward_sql() -> list[str]:
    return importlib.import_module(
        "minqing.registry.migrations.0003_person_text_index"
    ).SQLITE_FORWARD


def ensure_sqlite_fts(using: str = "default") -> bool:
    """Recreate missing FTS triggers and refill the index; True when a repair was needed."""
    connection = connections[using]
    if connection.vendor != "sqlite":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger')")
        present = {row[0] for row in cursor.fetchall()}
        if "registry_person_fts" not in present or "registry_person" not in present:
            return False  # migration 0003 not applied yet
        if all(t in present for t in _TRIGGERS):
            return False
        for sql in _forward_sql():
            if sql.startswith("CREATE TRIGGER"):
                name = sql.split()[2]
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
                cursor.execute(sql)
        cursor.execute("INSERT INTO registry_person_fts(registry_person_fts) VALUES ('delete-all')")
        cursor.execute(
            "INSERT INTO registry_household_fts(registry_household_fts) VALUES ('delete-all')"
        )
        for sql in _forward_sql():
            if sql.startswith("INSERT INTO registry_person_fts(rowid") or sql.startswith(
                "INSERT INTO registry_household_fts(rowid"
            ):
                cursor.execute(sql)
    return True


def on_post_migrate(sender, using="default", **kwargs):
    ensure_sqlite_fts(using)
