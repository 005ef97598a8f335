"""Run a scheduled job again and again until SIGTERM or SIGINT (`--loop SECONDS` of a command).

A timer (cron, systemd) starts a command for each run; some sites would rather keep one simple
service running. The loop ends after the run in progress, and a database error is logged and
tried again next run, with a fresh connection.
"""

import logging
import signal
import threading
import time
from collections.abc import Callable

from django.db import DatabaseError, close_old_connections, connection


def run_every(seconds: float, run_once: Callable[[], object], logger: logging.Logger) -> None:
    stop = threading.Event()

    def request_stop(signum, frame):
        logger.info("signal %s, stopping after this run", signum)
        stop.set()

    previous = {s: signal.signal(s, request_stop) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        while not stop.is_set():
            started = time.monotonic()
            try:
                run_once()
            except DatabaseError:
                logger.exception("database error; retrying next run")
            finally:
                if not connection.in_atomic_block:  # (a caller's transaction: keep it)
                    close_old_connections()  # drop a broken or too old connection
            stop.wait(max(0.0, seconds - (time.monotonic() - started)))
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
