"""People whose surname is read otherwise than its character's first readings (单 Shan, 仇 Qiu,
朴 Piao …) get pinyin keys with the surname's reading (core.pinyin.SURNAME_READINGS): 单雄信
was found by `danxiongxin` and `dxx` but not by `shanxiongxin` or `sxx`."""

from django.db import migrations

from minqing.core.pinyin import SURNAME_READINGS, pinyin_keys


def rekey(apps, schema_editor):
    Person = apps.get_model("registry", "Person")
    for surname in SURNAME_READINGS:
        rows = Person.objects.filter(name__startswith=surname).only(
            "id", "name", "name_pinyin", "name_initials"
        )
        changed = []
        for p in rows.iterator(chunk_size=2000):
            full, initials = pinyin_keys(p.name)
            if (full, initials) != (p.name_pinyin, p.name_initials):
                p.name_pinyin, p.name_initials = full, initials
                changed.append(p)
        Person.objects.bulk_update(changed, ["name_pinyin", "name_initials"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [("registry", "0012_tag_by_disability")]

    operations = [migrations.RunPython(rekey, migrations.RunPython.noop)]
