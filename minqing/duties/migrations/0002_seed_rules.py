"""Seed the three contact-duty rules of DOMAIN.md (干部直接联系群众); admins may change them.

领导班子成员: 2 居委会, 5 key hardship households, ≥ 3 days a month in a community, the linked
households visited monthly. 其他干部: 1 居委会, 1 hardship household and 3 service targets,
visited monthly. 社区书记: 5 key households, visited monthly.
"""

from django.db import migrations

RULES = [
    # code, name, communities, households, targets, days a month, visit every k months, description
    (
        "leader",
        "领导班子成员",
        2,
        5,
        0,
        3,
        1,
        "联系2个居委会、5户重点困难户，每月驻社区不少于3天，联系户每月走访一次",
    ),
    (
        "cadre",
        "其他干部",
        1,
        1,
        3,
        0,
        1,
        "联系1个居委会、1户困难户和3名服务对象，每月走访一次",
    ),
    ("secretary", "社区书记", 0, 5, 0, 0, 1, "联系5户重点户，每月走访一次"),
]


def seed(apps, schema_editor):
    DutyRule = apps.get_model("duties", "DutyRule")
    for i, (code, name, comm, hh, targets, days, every, description) in enumerate(RULES):
        DutyRule.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "communities": comm,
                "households": hh,
                "targets": targets,
                "days_per_month": days,
                "visit_every_months": every,
                "description": description,
                "sort": i,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("duties", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
