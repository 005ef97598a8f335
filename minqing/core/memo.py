"""Small tables that every request reads, kept in-process for a short while.

Category trees, tags, Open311 clients: they change a few times a year, through the admin,
and are read on every page or report. `Cached` keeps one loaded value per process for `ttl`
seconds, with rules that keep it honest:

- An edit through the ORM (the admin) forgets this process's copy at once (post_save and
  post_delete signals, and again after its commit; see `forget_on_change`); other processes
  read the table again within `ttl` seconds.
- Inside a transaction (`connection.in_atomic_block`) the rows are read from the database and
  not kept: that transaction may have changed them, uncommitted, or may still roll back (every
  test runs in one). Only reads in autocommit mode — committed rows — fill the cache.
- `flush` (and `migrate`) send post_migrate: every `Cached` is forgotten then too.
"""

import threading
import time
import weakref
from collections.abc import Callable

from django.db import connection, transaction
from django.db.models.signals import post_delete, post_migrate, post_save

TTL = 60.0  # seconds a process may use its copy

_all: weakref.WeakSet = weakref.WeakSet()


class Cached:
    """One value loaded by `load`, kept for `ttl` seconds outside transactions."""

    def __init__(self, load: Callable, ttl: float = TTL):
        self._load = load
        self.ttl = ttl
        self._entry: tuple[float, object] | None = None
        self._lock = threading.Lock()
        _all.add(self)

    def get(self):
        if connection.in_atomic_block:
            return self._load()
        entry = self._entry
        if entry is not None and time.monotonic() - entry[0] < self.ttl:
            return entry[1]
        with self._lock:
            value = self._load()
            self._entry = (time.monotonic(), value)
        return value

    def clear(self) -> None:
        self._entry = None


def forget_on_change(cached: Cached, *models) -> None:
    """Forget `cached` when a row of one of `models` is saved or deleted in this process."""

    def changed(sender, using="default", **kwargs) -> None:
        cached.clear()
        transaction.on_commit(cached.clear, using=using)

    for model in models:
        uid = f"memo_{id(cached)}_{model._meta.label}"
        post_save.connect(changed, sender=model, weak=False, dispatch_uid=uid + "_saved")
        post_delete.connect(changed, sender=model, weak=False, dispatch_uid=uid + "_deleted")


def clear_all() -> None:
    for cached in list(_all):
        cached.clear()


post_migrate.connect(lambda **kwargs: clear_all(), dispatch_uid="core_memo_migrated", weak=False)
