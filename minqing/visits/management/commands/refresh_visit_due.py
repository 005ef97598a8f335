"""Recompute every household's visit schedule (class, last visit, next due date).

Run nightly (cron / systemd timer) after midnight: it picks up tags edited in the resident
files, households moved to another grid, households put on file, and hand-made plans that
expired. Idempotent: a second run writes nothing. Safe while people record visits: each batch
locks its households, and recording a visit locks its household too.
"""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from minqing.registry.given_tags import give_due
from minqing.visits.services import visit_states_refresh


class Command(BaseCommand):
    help = "Recompute the next due visit date of every household (走访应访日期)."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=1000)
        parser.add_argument("--today", help="compute as of this date (YYYY-MM-DD); default today")

    def handle(self, *args, batch_size: int, today: str | None, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        day = None
        if today:
            try:
                day = dt.date.fromisoformat(today)
            except ValueError:
                raise CommandError("--today must be a date as YYYY-MM-DD") from None
        # First the age groups (高龄 on an 80th birthday): their homes' schedules move with them.
        aged = give_due(today=day)
        if aged:
            self.stdout.write(f"{aged} people came of age for a care group (高龄 …)")
        counts = visit_states_refresh(batch_size=batch_size, today=day)
        self.stdout.write(
            "checked {checked} households: {created} new, {updated} changed".format(**counts)
        )
