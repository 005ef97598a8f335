"""The ID number's last four characters, stored as a keyed hash (registry.identity).

Kept in clear, they and the clear birth date rebuilt most ID numbers from a database dump:
the first six digits are mostly the county's own code, and the check character is among
the four. The column is renamed (a plain RENAME COLUMN on both databases, which keeps
SQLite's search triggers of 0003), widened on PostgreSQL (SQLite does not enforce a
varchar's length, and altering it there would rebuild the table without those triggers),
and every stored number's digest is written from the decrypted ID number.
"""

from django.db import migrations, models

from minqing.registry.identity import id_last4_digest

BATCH = 2000


def _fill(apps, schema_editor, value_of):
    Person = apps.get_model("registry", "Person")
    qn = schema_editor.connection.ops.quote_name
    sql = f"UPDATE {qn(Person._meta.db_table)} SET {qn('id_last4_digest')} = %s WHERE id = %s"
    rows = (
        Person.objects.filter(id_number_hash__isnull=False)
        .order_by("pk")
        .values_list("pk", "id_number")
    )
    batch = []
    with schema_editor.connection.cursor() as cursor:
        for pk, number in rows.iterator(chunk_size=BATCH):
            batch.append((value_of(number), pk))
            if len(batch) == BATCH:
                cursor.executemany(sql, batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)


def write_digests(apps, schema_editor):
    _fill(apps, schema_editor, id_last4_digest)


def write_digits(apps, schema_editor):
    _fill(apps, schema_editor, lambda number: (number or "")[-4:])


def widen(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "ALTER TABLE registry_person ALTER COLUMN id_last4_digest TYPE varchar(16)"
        )


def narrow(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "ALTER TABLE registry_person ALTER COLUMN id_last4_digest TYPE varchar(4)"
        )


class Migration(migrations.Migration):
    dependencies = [("registry", "0006_person_registered_address")]

    operations = [
        migrations.RenameField("person", "id_last4", "id_last4_digest"),
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(widen, narrow)],
            state_operations=[
                migrations.AlterField(
                    model_name="person",
                    name="id_last4_digest",
                    field=models.CharField(
                        blank=True, db_index=True, editable=False, max_length=16
                    ),
                )
            ],
        ),
        migrations.RunPython(write_digests, write_digits),
    ]
