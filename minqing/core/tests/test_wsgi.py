"""The WSGI module tunes the garbage collector for long-lived workers (see its docstring)."""

import os
import subprocess
import sys

from django.conf import settings

PROBE = "import gc, minqing.wsgi; print(gc.get_threshold()[0], gc.get_freeze_count() > 1000)"


def _probe(**env) -> str:
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        env={**os.environ, "MINQING_DEV": "1", **env},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_workers_freeze_start_up_objects_and_collect_less_often():
    assert _probe() == ["50000", "True"]


def test_the_tuning_can_be_turned_off():
    assert _probe(MINQING_GC_THRESHOLD="0") == ["700", "False"]
