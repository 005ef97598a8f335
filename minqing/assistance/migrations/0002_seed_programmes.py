"""Seed the pairing programmes named in DOMAIN.md; admins may change rhythms, tags and goals."""

from django.db import migrations

PROGRAMMES = [
    # (code, name, pairing kind, target kind, every, unit, 春节, 六一, 生日, tag, goal, description)
    (
        "cadre",
        "党员干部结对帮扶困难户",
        "one",
        "household",
        1,
        "month",
        True,
        False,
        False,
        "低保",
        None,
        "党员干部与困难户一对一结对，每月至少联系一次，春节走访慰问。",
    ),
    (
        "many",
        "多名干部结对帮扶特困户",
        "many",
        "household",
        1,
        "month",
        True,
        False,
        False,
        "特困",
        None,
        "多对一：几名干部共同帮扶一户特困家庭。",
    ),
    (
        "group",
        "小组结对帮扶（4个小组×2户）",
        "group",
        "household",
        1,
        "week",
        False,
        False,
        False,
        None,
        None,
        "结对小组至少每周走访所帮扶的家庭，走访次数与内容每月报告。",
    ),
    (
        "mother",
        "爱心妈妈结对孤儿",
        "one",
        "person",
        1,
        "month",
        True,
        True,
        True,
        "孤儿",
        100,
        "孤儿结对率100%；每月联系，春节、六一和孩子生日走访；失职者取消资格。",
    ),
    (
        "ribbon",
        "党员结对独居老人（黄丝带）",
        "one",
        "person",
        2,
        "week",
        True,
        False,
        False,
        "独居",
        None,
        "在职党员结对独居老人，至少两周看望一次。",
    ),
    (
        "unit",
        "单位结对村/社区",
        "unit",
        "node",
        3,
        "month",
        True,
        False,
        False,
        None,
        None,
        "机关单位与村/社区结对共建，每季度至少开展一次活动。",
    ),
    (
        "school",
        "城乡学校结对",
        "unit",
        "place",
        3,
        "month",
        False,
        False,
        False,
        None,
        None,
        "城区学校与农村薄弱学校结对，每季度至少一次送课、交流。",
    ),
]


def seed(apps, schema_editor):
    Programme = apps.get_model("assistance", "Programme")
    Tag = apps.get_model("registry", "Tag")
    for i, row in enumerate(PROGRAMMES):
        code, name, pk, tk, every, unit, spring, june, birthday, tag, goal, description = row
        Programme.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "pairing_kind": pk,
                "target_kind": tk,
                "every": every,
                "unit": unit,
                "on_spring_festival": spring,
                "on_childrens_day": june,
                "on_birthday": birthday,
                "target_tag": Tag.objects.filter(name=tag).first() if tag else None,
                "coverage_goal": goal,
                "description": description,
                "sort": i,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("assistance", "0001_initial"), ("registry", "0002_seed_tags")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
