"""A 15-digit ID number is filed under the key of its 18-digit form (registry.identity), so
that the old number and the new one are one person: the people filed under 15 digits get
that key. One whose 18-digit twin is already on file (a second record, made before) keeps
its old key and is still found by either number; merging the two is an office's decision."""

from django.db import migrations

from minqing.core.crypto import blind_index
from minqing.core.idnumber import upgraded


def _refile(apps, key_of):
    Person = apps.get_model("registry", "Person")
    legacy = Person.objects.filter(id_legacy=True, id_number__isnull=False)
    for person in legacy.only("pk", "id_number", "id_number_hash").iterator():
        number = person.id_number
        if not number or len(number) != 15:
            continue
        key = key_of(number)
        if key == person.id_number_hash or Person.objects.filter(id_number_hash=key).exists():
            continue
        Person.objects.filter(pk=person.pk).update(id_number_hash=key)


def file_under_18(apps, schema_editor):
    _refile(apps, lambda number: blind_index(upgraded(number)))


def file_under_15(apps, schema_editor):
    _refile(apps, blind_index)


class Migration(migrations.Migration):
    dependencies = [("registry", "0010_phone_ascii_digits")]

    operations = [migrations.RunPython(file_under_18, file_under_15)]
