"""The case search's bigram function names the schema of the one it calls.

0012's minqing_case_bigrams called minqing_bigrams by its bare name. pg_restore runs with an
empty search_path, so rebuilding the index case_text_bigrams failed there ("function
minqing_bigrams(text) does not exist"): the restore exited 1 and the database came back
without the index, which nothing noticed. The function now calls it in the schema it was
created in, and the index is made again where such a restore lost it.
"""

from django.db import migrations

BODY = r"""
    CREATE OR REPLACE FUNCTION minqing_case_bigrams(
        number text, title text, address text, description text, reporter text
    ) RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT {prefix}minqing_bigrams(
            coalesce(number, '') || E'\n' || coalesce(title, '') || E'\n'
            || coalesce(address, '') || E'\n' || coalesce(description, '') || E'\n'
            || coalesce(reporter, '')
        )
    $$
"""
INDEX = """
    CREATE INDEX IF NOT EXISTS case_text_bigrams ON cases_case USING gin (
        minqing_case_bigrams(number, title, address, description, reporter_name)
    )
"""


def forward(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT quote_ident(current_schema())")
        schema = cursor.fetchone()[0]
    schema_editor.execute(BODY.format(prefix=f"{schema}."), params=None)
    schema_editor.execute(INDEX, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BODY.format(prefix=""), params=None)


class Migration(migrations.Migration):
    dependencies = [("cases", "0017_case_closed_level")]

    operations = [migrations.RunPython(forward, backward)]
