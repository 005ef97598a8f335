"""Seed the care and attention groups named in DOMAIN.md; admins may add, rename or hide them."""

from django.db import migrations

TAGS = [
    # (name, target, description, sensitive)
    ("低保", "household", "最低生活保障家庭", False),
    ("特困", "person", "特困供养人员", False),
    ("贫困户", "household", "建档立卡贫困家庭", False),
    ("空巢", "person", "空巢老人", False),
    ("独居", "person", "独居老人", False),
    ("高龄", "person", "80周岁以上老人", False),
    ("三无", "person", "无劳动能力、无生活来源、无法定赡养人的老人", False),
    ("残疾", "person", "持残疾证人员", False),
    ("留守儿童", "person", "", False),
    ("留守妇女", "person", "", False),
    ("留守老人", "person", "", False),
    ("孤儿", "person", "", False),
    ("下岗失业", "person", "下岗失业人员", False),
    ("4050", "person", "女40岁、男50岁以上就业困难人员", False),
    ("零就业家庭", "household", "家庭中无一人就业", False),
    ("重点人员", "person", "需要重点关注的人员", True),
    ("流动党员", "person", "", False),
    ("优抚对象", "person", "", False),
]


def seed(apps, schema_editor):
    Tag = apps.get_model("registry", "Tag")
    for i, (name, target, description, sensitive) in enumerate(TAGS):
        Tag.objects.get_or_create(
            name=name,
            defaults={"target": target, "description": description, "sensitive": sensitive, "sort": i},
        )


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
