"""A text index for the case search (cases.selectors.matching_text), on PostgreSQL.

Case texts are Chinese: the words people search for are mostly two characters (漏水, 噪音,
路灯), which pg_trgm cannot index — a trigram index finds nothing to look up for a
two-character word, so every case was read. This indexes each case's character pairs
(bigrams) of its number, title, address, description and reporter's name, upper-cased as
Django's icontains compares them; a search for a word of two characters or more first takes
the cases holding all of the word's pairs from the index, then checks the text as before.
SQLite (a single office's database) keeps reading the cases.
"""

from django.db import migrations

POSTGRES_FORWARD = [
    r"""
    CREATE OR REPLACE FUNCTION minqing_bigrams(t text) RETURNS text[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
        SELECT coalesce(array_agg(DISTINCT substr(s.u, i, 2)), '{}')
        FROM (SELECT upper(t) AS u) s, generate_series(1, char_length(s.u) - 1) AS i
    $$
    """,
    r"""
    CREATE OR REPLACE FUNCTION minqing_case_bigrams(
        number text, title text, address text, description text, reporter text
    ) RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT minqing_bigrams(
            coalesce(number, '') || E'\n' || coalesce(title, '') || E'\n'
            || coalesce(address, '') || E'\n' || coalesce(description, '') || E'\n'
            || coalesce(reporter, '')
        )
    $$
    """,
    """
    CREATE INDEX IF NOT EXISTS case_text_bigrams ON cases_case USING gin (
        minqing_case_bigrams(number, title, address, description, reporter_name)
    )
    """,
]
POSTGRES_BACKWARD = [
    "DROP INDEX IF EXISTS case_text_bigrams",
    "DROP FUNCTION IF EXISTS minqing_case_bigrams(text, text, text, text, text)",
    "DROP FUNCTION IF EXISTS minqing_bigrams(text)",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for sql in statements:
                schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("cases", "0011_case_registered_at_index")]

    operations = [migrations.RunPython(_run(POSTGRES_FORWARD), _run(POSTGRES_BACKWARD))]
