"""Audit entries' birth-date fingerprints were keyed by the date alone (core 0005 and every
entry since): the same for everyone born that day, so a record whose date shows told what
the others meant. New entries key them by the record (core.masking); here the old ones keep
the year only — the entry still says the field changed."""

import re

from django.db import migrations

FINGERPRINT = re.compile(r"^(\d{4}-\*\*-\*\*)（·[0-9a-f]{6}）$")


def _year_only(value):
    if isinstance(value, str) and (m := FINGERPRINT.match(value)):
        return m[1]
    return value


def scrub(apps, schema_editor):
    """Only the entries that name a birth date, written back a thousand at a time (a county of
    a million people has a million creation entries: one UPDATE each took minutes)."""
    AuditEntry = apps.get_model("core", "AuditEntry")
    rows = AuditEntry.objects.filter(
        model="registry.person", changes__has_key="birth_date"
    ).only("id", "changes")
    batch = []
    for entry in rows.iterator(chunk_size=2000):
        change = entry.changes.get("birth_date")
        if not isinstance(change, list):
            continue
        scrubbed = [_year_only(v) for v in change]
        if scrubbed != change:
            entry.changes["birth_date"] = scrubbed
            batch.append(entry)
        if len(batch) >= 1000:
            AuditEntry.objects.bulk_update(batch, ["changes"])
            batch = []
    AuditEntry.objects.bulk_update(batch, ["changes"])


class Migration(migrations.Migration):
    dependencies = [("core", "0006_import_batch_failed")]

    operations = [migrations.RunPython(scrub, migrations.RunPython.noop)]
