"""A trigram index on the household number, for the county's household search on PostgreSQL.

registry.selectors.household_search matches the number as a substring (户号 tails such as
"0109" are what people read off a door plate); without an index, every county-wide search read
all households to test it. SQLite is left as it is: its county-wide household search is
answered from the people's text index and the scope.
"""

from django.db import migrations


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS household_number_trgm "
            "ON registry_household USING gin (number gin_trgm_ops)",
            params=None,
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS household_number_trgm", params=None)


class Migration(migrations.Migration):
    dependencies = [("registry", "0007_person_id_last4_digest")]

    operations = [migrations.RunPython(forwards, backwards)]
