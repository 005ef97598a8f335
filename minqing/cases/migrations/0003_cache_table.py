"""Create the database cache tables named in settings.CACHES (the default cache and the
rate-limit counters of the public progress page), so `migrate` is all a deployment runs."""

from django.core.management import call_command
from django.db import migrations


def create_cache_tables(apps, schema_editor):
    # Without table names the command creates the table of every database cache alias in
    # settings.CACHES, and skips those that already exist.
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("cases", "0002_seed_categories")]

    operations = [migrations.RunPython(create_cache_tables, migrations.RunPython.noop)]
