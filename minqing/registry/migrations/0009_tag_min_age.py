"""Care groups defined by age are given by minqing from the birth date (registry.age_tags):
高龄 is 80周岁以上 (the seeded description), so it is set to 80. The people already 80 get it
from the next save or the nightly refresh_visit_due, not here (a migration writes no audit)."""

from django.db import migrations, models


def set_elderly(apps, schema_editor):
    Tag = apps.get_model("registry", "Tag")
    Tag.objects.filter(name="高龄", min_age__isnull=True).update(min_age=80)


class Migration(migrations.Migration):
    dependencies = [("registry", "0008_household_number_trgm")]

    operations = [
        migrations.AddField(
            model_name="tag",
            name="min_age",
            field=models.PositiveSmallIntegerField(
                blank=True,
                help_text="如高龄填 80：年满 80 周岁的人员自动列入；留空则不按年龄列入。",
                null=True,
                verbose_name="年满周岁自动列入",
            ),
        ),
        migrations.RunPython(set_elderly, migrations.RunPython.noop),
    ]
