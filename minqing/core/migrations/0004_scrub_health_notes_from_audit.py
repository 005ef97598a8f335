"""Audit entries written before notes were masked held a person's health/disability note in
clear, beside the encrypted column: replace those values with the note's fingerprint
(core.masking.mask_note), as new entries have it."""

from django.db import migrations

from minqing.core.masking import mask_note


def scrub(apps, schema_editor):
    AuditEntry = apps.get_model("core", "AuditEntry")
    rows = AuditEntry.objects.filter(model="registry.person").only("id", "changes")
    for entry in rows.iterator(chunk_size=2000):
        change = (entry.changes or {}).get("health_note")
        if not isinstance(change, list):
            continue
        masked = [mask_note(v) if isinstance(v, str) and not v.startswith("（已加密·") else v for v in change]
        if masked != change:
            entry.changes["health_note"] = masked
            entry.save(update_fields=["changes"])


class Migration(migrations.Migration):
    dependencies = [("core", "0003_workdayoverride")]

    operations = [migrations.RunPython(scrub, migrations.RunPython.noop)]
