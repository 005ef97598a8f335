"""Seed the three visit classes of 组团式服务 (普遍走访、重点必访、跟踪重访); admins may change them.

Frequencies follow the community practice in seeds/000 and the duty rules in seeds/001 (key
households visited monthly); the follow-up class is weekly and is given by hand.
"""

from django.db import migrations

CLASSES = [
    # code, name, every, unit, applies to all, tag names, description
    ("general", "普遍走访", 3, "month", True, [], "辖区每户每季度至少走访一次"),
    (
        "key",
        "重点必访",
        1,
        "month",
        False,
        ["低保", "特困", "贫困户", "空巢", "独居", "高龄", "三无", "孤儿", "留守儿童", "留守老人",
         "零就业家庭", "重点人员"],
        "困难家庭、空巢独居高龄老人、重点人员等每月至少走访一次",
    ),
    ("follow", "跟踪重访", 7, "day", False, [], "有突发情况或诉求未了结的家庭，每周回访，手工安排"),
]


def seed(apps, schema_editor):
    VisitClass = apps.get_model("visits", "VisitClass")
    Tag = apps.get_model("registry", "Tag")
    for i, (code, name, every, unit, everyone, tags, description) in enumerate(CLASSES):
        vc, created = VisitClass.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "every": every,
                "unit": unit,
                "applies_to_all": everyone,
                "description": description,
                "sort": i,
            },
        )
        if created and tags:
            vc.tags.set(Tag.objects.filter(name__in=tags))


class Migration(migrations.Migration):
    dependencies = [("visits", "0001_initial"), ("registry", "0002_seed_tags")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
