"""Partial indexes for the overdue list: one grid's (one handler's) open cases by deadline."""

from django.db import migrations, models

OPEN = ("accepted", "registered", "dispatched", "handling", "fed_back")


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0003_cache_table"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="case",
            index=models.Index(
                condition=models.Q(("status__in", OPEN)),
                fields=["grid", "deadline"],
                name="case_open_grid_deadline",
            ),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(
                condition=models.Q(("status__in", OPEN)),
                fields=["handler_user", "deadline"],
                name="case_open_handler_deadline",
            ),
        ),
    ]
