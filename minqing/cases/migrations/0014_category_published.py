"""Open311's public list shows a case only if its category is marked public: a grid patrol
records neighbours' quarrels and requests for help as well as broken street lights, and those
must never be published. The seeded public-space classes (数字城管 01–06: 市容环境 … 公用设施)
are public; 社区事务 (07: disputes, help, petitions …), 其他 and any category an admin added
stay private until someone decides otherwise."""

from django.db import migrations, models

PUBLIC_ROOTS = ("01", "02", "03", "04", "05", "06")


def mark_public(apps, schema_editor):
    Category = apps.get_model("cases", "Category")
    by_id = {c.pk: c for c in Category.objects.all()}

    def root_code(category):
        seen = 0
        while category.parent_id is not None and seen < 10:
            category, seen = by_id[category.parent_id], seen + 1
        return category.code

    public = [pk for pk, c in by_id.items() if root_code(c) in PUBLIC_ROOTS]
    Category.objects.filter(pk__in=public).update(published=True)


class Migration(migrations.Migration):
    dependencies = [("cases", "0013_case_phone_last4_index")]

    operations = [
        migrations.AddField(
            model_name="category",
            name="published",
            field=models.BooleanField(
                default=False,
                help_text=(
                    "网上报告和网格巡查的此类案件在 Open311 公开接口中列出（不含反映人和处置人）。"
                    "矛盾纠纷、求助、信访等涉及个人和家庭的类别不要公开。"
                ),
                verbose_name="公开",
            ),
        ),
        migrations.RunPython(mark_public, migrations.RunPython.noop),
    ]
