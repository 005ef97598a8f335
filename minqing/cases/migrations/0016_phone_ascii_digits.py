"""Reporters' and visitors' phones typed with full-width digits were stored so: the progress
page (案件编号 + 手机号后四位) never found their cases. Stored again as ASCII digits, as
core.phone.normalise_phone stores them now; only rows whose last four hold another digit."""

from django.db import migrations

from minqing.core.phone import normalise_phone


def ascii_digits(apps, schema_editor):
    for model, phone, last4 in (
        ("Case", "reporter_phone", "reporter_phone_last4"),
        ("ReceptionMatter", "visitor_phone", "visitor_phone_last4"),
    ):
        Model = apps.get_model("cases", model)
        for row in Model.objects.filter(**{f"{last4}__regex": r"[^0-9]"}):
            value = normalise_phone(getattr(row, phone))
            setattr(row, phone, value)
            setattr(row, last4, value[-4:] if len(value) >= 4 else "")
            row.save(update_fields=[phone, last4])


class Migration(migrations.Migration):
    dependencies = [("cases", "0015_case_step_timeliness")]

    operations = [migrations.RunPython(ascii_digits, migrations.RunPython.noop)]
