"""Next year's holidays from the State Council's notice, for servers run from the command line.

`python manage.py import_holiday_notice notice.txt --year 2027 [--dry-run]`: the same reading as
the admin's 从国务院通知导入 (core.holiday_notice): the days are listed; with a line it cannot
read nothing is written and the command fails.
"""

import sys

from django.core.management.base import BaseCommand, CommandError

from minqing.core.holiday_notice import apply_notice, counts, parse_notice


class Command(BaseCommand):
    help = "Read a State Council holiday notice (UTF-8 text) into the working-day overrides."

    def add_arguments(self, parser):
        parser.add_argument("file", help="the notice as UTF-8 text; - for standard input")
        parser.add_argument("--year", type=int, required=True, help="the year it arranges")
        parser.add_argument("--dry-run", action="store_true", help="list the days, write nothing")

    def handle(self, *args, file: str, year: int, dry_run: bool, **options):
        if not 2000 <= year <= 2100:
            raise CommandError(f"--year {year}: a year from 2000 to 2100")
        try:
            if file == "-":
                text = sys.stdin.read()
            else:
                with open(file, encoding="utf-8") as f:
                    text = f.read(200_000)
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"{file}: {exc}") from None
        notice = parse_notice(text, year)
        for day in notice.days:
            kind = "上班" if day.is_working_day else "放假"
            self.stdout.write(f"{day.date:%Y-%m-%d} {kind} {day.name}")
        if notice.problems:
            raise CommandError("\n".join(notice.problems))
        if dry_run:
            self.stdout.write(f"dry run: {len(notice.days)} days, nothing written")
            return
        created, updated = counts(apply_notice(notice))
        self.stdout.write(f"created={created} updated={updated}")
