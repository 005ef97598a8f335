"""Care groups defined by disability are given by minqing from 残疾等级 (registry.given_tags):
残疾 is 持残疾证人员 (the seeded description), so it is set. The people with a grade get it
from the next save or the nightly refresh_visit_due, not here (a migration writes no audit)."""

from django.db import migrations, models


def set_disabled(apps, schema_editor):
    Tag = apps.get_model("registry", "Tag")
    Tag.objects.filter(name="残疾", target="person").update(by_disability=True)


class Migration(migrations.Migration):
    dependencies = [("registry", "0011_legacy_id_filed_as_18")]

    operations = [
        migrations.AddField(
            model_name="tag",
            name="by_disability",
            field=models.BooleanField(
                default=False,
                help_text="如残疾：登记了残疾等级（一级至四级）的人员自动列入。",
                verbose_name="有残疾等级自动列入",
            ),
        ),
        migrations.RunPython(set_disabled, migrations.RunPython.noop),
    ]
