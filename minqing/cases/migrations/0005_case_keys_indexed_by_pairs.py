"""Drop single-column indexes that a two-column index starting with the same key serves: four
keys of a case (their (key, status) indexes), an event's case ((case, at)) and a
notification's user ((user, read_at)). Fewer indexes to update on every case written.

Only the indexes go: the columns and their foreign keys stay as they are (a plain AlterField
would re-create each constraint and check every row on PostgreSQL, and copy the table four
times on SQLite).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


DROPPED = [
    ("cases_case", "cases_case_grid_id_af7609ce", "grid_id"),
    ("cases_case", "cases_case_level_node_id_7cf7893e", "level_node_id"),
    ("cases_case", "cases_case_handler_user_id_a0604643", "handler_user_id"),
    ("cases_case", "cases_case_handler_unit_id_5c60445f", "handler_unit_id"),
    ("cases_caseevent", "cases_caseevent_case_id_6c6031ac", "case_id"),
    ("cases_notification", "cases_notification_user_id_b9224c7f", "user_id"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0004_open_case_deadline_indexes"),
        ("grids", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="case",
                    name="grid",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="cases",
                        to="grids.node",
                        verbose_name="所属网格",
                    ),
                ),
                migrations.AlterField(
                    model_name="case",
                    name="handler_unit",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="cases",
                        to="cases.unit",
                        verbose_name="处置部门",
                    ),
                ),
                migrations.AlterField(
                    model_name="case",
                    name="handler_user",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="handled_cases",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="处置人",
                    ),
                ),
                migrations.AlterField(
                    model_name="case",
                    name="level_node",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="grids.node",
                        verbose_name="当前责任层级",
                    ),
                ),
                migrations.AlterField(
                    model_name="caseevent",
                    name="case",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="events",
                        to="cases.case",
                    ),
                ),
                migrations.AlterField(
                    model_name="notification",
                    name="user",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="notifications",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{name}"',
                    reverse_sql=f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ("{column}")',
                )
                for table, name, column in DROPPED
            ],
        ),
    ]
