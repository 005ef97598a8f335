"""Phones typed with full-width digits (１３８…) were stored so, and their last four (the key
the search and the progress page look up) never matched what anyone typed: stored again as
ASCII digits, as core.phone.normalise_phone stores them now. Only rows whose last four hold
another digit than 0–9 are read (a few, if any)."""

from django.db import migrations

from minqing.core.phone import normalise_phone


def ascii_digits(apps, schema_editor):
    Person = apps.get_model("registry", "Person")
    for person in Person.objects.filter(phone_last4__regex=r"[^0-9]"):
        person.phone = normalise_phone(person.phone)
        person.phone_last4 = person.phone[-4:] if len(person.phone) >= 4 else ""
        person.save(update_fields=["phone", "phone_last4"])


class Migration(migrations.Migration):
    dependencies = [("registry", "0009_tag_min_age")]

    operations = [migrations.RunPython(ascii_digits, migrations.RunPython.noop)]
