"""Audit entries written before birth dates were masked held a person's full birth date beside
the masked ID number, whose hidden middle it is: keep the year and a keyed fingerprint
(core.masking.mask_birth_date_audited), as new entries have it."""

import datetime

from django.db import migrations

from minqing.core.masking import mask_birth_date_audited


def _masked(value):
    if not isinstance(value, str):
        return value
    try:
        return mask_birth_date_audited(datetime.date.fromisoformat(value))
    except ValueError:  # already masked, or not a date at all
        return value


def scrub(apps, schema_editor):
    AuditEntry = apps.get_model("core", "AuditEntry")
    rows = AuditEntry.objects.filter(model="registry.person").only("id", "changes")
    for entry in rows.iterator(chunk_size=2000):
        change = (entry.changes or {}).get("birth_date")
        if not isinstance(change, list):
            continue
        masked = [_masked(v) for v in change]
        if masked != change:
            entry.changes["birth_date"] = masked
            entry.save(update_fields=["changes"])


class Migration(migrations.Migration):
    dependencies = [("core", "0004_scrub_health_notes_from_audit")]

    operations = [migrations.RunPython(scrub, migrations.RunPython.noop)]
