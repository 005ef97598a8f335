"""Move ID numbers, phones and health notes to encrypted storage, with a keyed hash for lookups.

Applies on an existing database: rows are read (plaintext passes through decrypt untouched),
hashed, and written back encrypted, in batches. Reversing decrypts back to plaintext columns.
"""

from django.db import migrations, models

import minqing.core.fields

BATCH = 5000


def encrypt_rows(apps, schema_editor):
    # Raw batched UPDATEs: the ORM's bulk_update builds one CASE per column and takes hours
    # on a county of a million people; this takes about a minute.
    from minqing.core.crypto import blind_index, decrypt, encrypt, is_encrypted

    def seal(value):
        if not value:
            return value
        return value if is_encrypted(value) else encrypt(value)

    connection = schema_editor.connection
    last = 0
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id, id_number, phone, health_note FROM registry_person WHERE id > %s ORDER BY id LIMIT %s",
                [last, BATCH],
            )
            rows = cursor.fetchall()
            if not rows:
                break
            last = rows[-1][0]
            cursor.executemany(
                "UPDATE registry_person SET id_number = %s, id_number_hash = %s, phone = %s, health_note = %s "
                "WHERE id = %s",
                [
                    (seal(n), blind_index(decrypt(n)) if n else None, seal(p), seal(h), pk)
                    for pk, n, p, h in rows
                ],
            )


def decrypt_rows(apps, schema_editor):
    from minqing.core.crypto import decrypt

    Person = apps.get_model("registry", "Person")
    with schema_editor.connection.cursor() as cursor:
        table = Person._meta.db_table
        cursor.execute(f"SELECT id, id_number, phone, health_note FROM {table}")
        rows = cursor.fetchall()
        for pk, id_number, phone, note in rows:
            cursor.execute(
                f"UPDATE {table} SET id_number = %s, phone = %s, health_note = %s WHERE id = %s",
                [
                    decrypt(id_number) if id_number else id_number,
                    decrypt(phone) if phone else phone,
                    decrypt(note) if note else note,
                    pk,
                ],
            )


class Migration(migrations.Migration):
    dependencies = [("registry", "0004_grid_record_base")]

    operations = [
        migrations.AddField(
            model_name="person",
            name="id_number_hash",
            field=models.CharField(blank=True, editable=False, max_length=64, null=True),
        ),
        migrations.AlterField(
            model_name="person",
            name="id_number",
            field=minqing.core.fields.EncryptedTextField(
                blank=True, null=True, plain_max_length=18, verbose_name="公民身份号码"
            ),
        ),
        migrations.AlterField(
            model_name="person",
            name="phone",
            field=minqing.core.fields.EncryptedTextField(
                blank=True, default="", plain_max_length=20, verbose_name="联系电话"
            ),
        ),
        migrations.AlterField(
            model_name="person",
            name="health_note",
            field=minqing.core.fields.EncryptedTextField(
                blank=True, default="", plain_max_length=200, verbose_name="健康/残疾说明"
            ),
        ),
        migrations.RunPython(encrypt_rows, decrypt_rows),
        migrations.AlterField(
            model_name="person",
            name="id_number_hash",
            field=models.CharField(
                blank=True, editable=False, max_length=64, null=True, unique=True
            ),
        ),
    ]
