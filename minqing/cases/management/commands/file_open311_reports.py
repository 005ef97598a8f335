"""File the reports that deferred Open311 clients sent (cases.intake) as cases.

    python manage.py file_open311_reports             # once (cron / a systemd timer, each minute)
    python manage.py file_open311_reports --loop 5    # forever, every 5 s (a simple service)

Each run prints one line of counts. Several copies may run at once: each report is filed once.
"""

import logging
import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from minqing.cases import intake
from minqing.core.looping import run_every

logger = logging.getLogger("minqing.cases.intake")

ERR_LOOP = "--loop 应为至少 1 秒。"
ERR_LIMIT = "--limit 应为 1 到 1000000 之间的整数。"


class Command(BaseCommand):
    help = "Open311 待受理报告：逐条受理为案件（每条只受理一次）。"
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=10_000, help="reports filed per run")
        parser.add_argument(
            "--loop", type=float, default=0, help="run again every SECONDS until SIGTERM"
        )

    def handle(self, *args, limit: int, loop: float, **options):
        if not 1 <= limit <= 1_000_000:
            raise CommandError(ERR_LIMIT)
        if loop and loop < 1:
            raise CommandError(ERR_LOOP)
        if not loop:
            self.run_once(limit)
            return
        run_every(loop, lambda: self.run_once(limit), logger)
        self.stdout.write("stopped")

    def run_once(self, limit: int) -> intake.Filing:
        started = time.perf_counter()
        result = intake.file_waiting(limit=limit)
        seconds = time.perf_counter() - started
        moment = timezone.localtime().isoformat(timespec="seconds")
        self.stdout.write(
            f"{moment} filed={result.filed} failed={result.failed} seconds={seconds:.3f}"
        )
        self.stdout.flush()
        return result
