"""Run the deadline sweeper: 80% reminders (催办), lateness (超期) and automatic escalation (上报).

Each run also files the reports of deferred Open311 clients still waiting (cases.intake), for
sites that run no `file_open311_reports` timer of their own.

    python manage.py sweep_deadlines                  # once (cron / a systemd timer)
    python manage.py sweep_deadlines --loop 60        # forever, every 60 s (a simple service)
    python manage.py sweep_deadlines --now 2026-03-05T17:31:00+08:00   # as if it were then

Each run prints one line of counts. Several copies may run at once (several app servers, an
overlapping timer): on PostgreSQL each batch locks its rows with SKIP LOCKED, so every reminder,
overdue notice and escalation happens exactly once. In --loop mode SIGTERM and SIGINT end the
loop after the run in progress (a run is a few seconds); a database error is logged and the
next run tries again.
"""

import logging
import time
from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from minqing.cases import intake, services
from minqing.core.looping import run_every

logger = logging.getLogger("minqing.cases.sweeper")

# Left untranslated, unlike the services' ERR_* messages: the command line has no language
# switch, and its operators read the logs in Chinese.
ERR_NOW = "--now 应为 ISO 8601 时间，例如 2026-03-05T17:31:00+08:00。"
ERR_BATCH = "--batch 应为 1 到 10000 之间的整数。"
ERR_LOOP = "--loop 应为至少 1 秒。"
ERR_NOW_LOOP = "--now 与 --loop 不能同时使用：循环运行总是按当前时间。"


def parse_now(value: str) -> datetime:
    """An ISO 8601 moment; without an offset it is read in TIME_ZONE (Asia/Shanghai)."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except (ValueError, AttributeError):
        raise CommandError(ERR_NOW) from None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, timezone.get_default_timezone())
    return moment


class Command(BaseCommand):
    help = "案件时限巡检：80% 催办、超期标记、超期自动上报（每项只做一次）。"
    # Started every few minutes by a timer: the system checks belong to deploys, not to each run.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--now", default="", help="ISO 8601 time to sweep as of (tests)")
        parser.add_argument("--batch", type=int, default=500, help="rows locked per transaction")
        parser.add_argument(
            "--loop", type=float, default=0, help="run again every SECONDS until SIGTERM"
        )

    def handle(self, *args, now: str, batch: int, loop: float, **options):
        if not 1 <= batch <= 10_000:
            raise CommandError(ERR_BATCH)
        moment = parse_now(now) if now else None
        if not loop:
            self.run_once(moment, batch)
            return
        if loop < 1:
            raise CommandError(ERR_LOOP)
        if moment is not None:
            raise CommandError(ERR_NOW_LOOP)
        run_every(loop, lambda: self.run_once(None, batch), logger)
        self.stdout.write("stopped")

    def run_once(self, moment: datetime | None, batch: int) -> dict:
        moment_text = timezone.localtime(moment or timezone.now()).isoformat(timespec="seconds")
        started = time.perf_counter()
        counts = services.sweep_deadlines(now=moment, batch_size=batch)
        seconds = time.perf_counter() - started
        line = " ".join(f"{k}={v}" for k, v in counts.items())
        self.stdout.write(f"{moment_text} {line} seconds={seconds:.3f}")
        if moment is None:
            # A safety net for deferred Open311 reports, on a site that runs no filer of its own
            # (file_open311_reports): every site runs the sweeper. Both may run; each report is
            # filed once.
            filing = intake.file_waiting()
            if filing.filed or filing.failed:
                self.stdout.write(
                    f"{moment_text} open311_filed={filing.filed} open311_failed={filing.failed}"
                )
        self.stdout.flush()
        return counts
