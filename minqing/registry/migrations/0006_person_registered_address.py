"""Person.registered_address (户籍地址), which import ledgers carry.

Added with a plain ALTER TABLE on both databases: a migration's AddField would rebuild
registry_person on SQLite (a NOT NULL column with a default), dropping the search triggers of
0003; ADD COLUMN … DEFAULT '' keeps the table, its triggers and indexes, and is instant on a
large PostgreSQL table."""

from django.db import migrations, models

ADD = "ALTER TABLE registry_person ADD COLUMN registered_address varchar(200) NOT NULL DEFAULT ''"
DROP = "ALTER TABLE registry_person DROP COLUMN registered_address"


class Migration(migrations.Migration):
    dependencies = [("registry", "0005_encrypt_personal_numbers")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunSQL(ADD, DROP)],
            state_operations=[
                migrations.AddField(
                    model_name="person",
                    name="registered_address",
                    field=models.CharField(
                        blank=True, default="", max_length=200, verbose_name="户籍地址"
                    ),
                )
            ],
        )
    ]
