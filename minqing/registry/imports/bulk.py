"""The import's writer thread: INSERTs of prepared rows (minqing.core.bulk.Inserter) run on
the same transaction in a second thread while the importing thread prepares the next rows."""

import queue
import sys
import threading

from django.db import connection

from minqing.core.bulk import Inserter

_switch_lock = threading.Lock()
_switch_users = 0
_switch_before = sys.getswitchinterval()


def _faster_thread_switches(delta: int) -> None:
    """While a pipeline runs, hand the GIL over every 0.5 ms instead of 5 ms: the writer thread
    needs it back after each statement the database ran without it, and would otherwise wait
    for the preparing thread's full time slice (about 5 % of a 100 000-row import)."""
    global _switch_users, _switch_before
    with _switch_lock:
        if delta > 0 and _switch_users == 0:
            _switch_before = sys.getswitchinterval()
            sys.setswitchinterval(min(_switch_before, 0.0005))
        _switch_users += delta
        if _switch_users == 0:
            sys.setswitchinterval(_switch_before)


class Pipeline:
    """Inserts in a second thread while the caller prepares the next batch.

    Python prepares rows (pinyin, encryption, audit JSON) holding the GIL; sqlite3 and psycopg
    release it while the database works (SQLite maintains its indexes and full-text tables in
    C, PostgreSQL in its own process), so the two overlap on two cores. The thread uses the
    DB-API connection of Django's connection, inside the caller's transaction; while the
    pipeline is open the caller must not use the database (Django's SQLite connection is opened
    with check_same_thread=False; psycopg connections are thread-safe). Leaving the `with`
    block waits for every insert and re-raises the first error, so the caller's transaction
    rolls back as a whole.
    """

    def __init__(self, depth: int = 4):
        connection.ensure_connection()
        self.dbapi = connection.connection
        self.vendor = connection.vendor
        self.queue: queue.Queue = queue.Queue()
        # At most `depth` batches wait at a time, unless put(…, wait=False) (see put).
        self.slots = threading.Semaphore(depth)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="import-writer", daemon=True)

    def __enter__(self) -> "Pipeline":
        _faster_thread_switches(+1)
        self.thread.start()
        return self

    def put(self, inserter: Inserter, rows: list, *, wait: bool = True) -> None:
        """Queue rows for insertion. wait=False queues without waiting for a free slot: for a
        bounded amount of rows the caller wants off its hands before its next long step."""
        if self.error is not None:
            raise self.error
        if rows:
            if wait:
                self.slots.acquire()
            self.queue.put((inserter, rows, wait))

    def _run(self) -> None:
        while True:
            item = self.queue.get()
            if item is None:
                return
            inserter, rows, held = item
            try:
                if self.error is None:
                    inserter.insert_raw(self.dbapi, self.vendor, rows)
            except BaseException as exc:  # handed to the caller's thread in __exit__
                self.error = exc
            finally:
                if held:
                    self.slots.release()

    def __exit__(self, exc_type, exc, tb) -> None:
        self.queue.put(None)
        self.thread.join()
        _faster_thread_switches(-1)
        if self.error is not None and exc is None:
            raise self.error
