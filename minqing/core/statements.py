"""Queries compiled once per process: asked again with the same inputs, they skip the ORM.

Building and compiling an ORM query can cost more than the database takes to run it: a grid
worker's due list took 1.4 ms to build and compile and 0.8 ms to run (bench/README, visits run
7). `rows(key, build)` compiles the values/values_list queryset that `build()` returns the first
time this thread sees `key`, keeps its SQL, its parameters and the ORM's converters for its
columns, and afterwards only executes the statement.

The key must name every input of the query: anything not in it is frozen at the first call.
So use it where a query's inputs are few and plain (a grid id, a date, a limit), and check
scope before asking — visibility is the caller's, through `minqing.accounts.access`, never
part of what is cached. Entries are per thread (a thread has its own connection) and the
oldest are dropped beyond MAX_ENTRIES. An entry is also compiled again once it is MAX_AGE
seconds old: what a key cannot name (a node an administrator moved to another parent, whose
subtree paths a compiled query holds) is then stale for minutes, not until the next restart,
and no app server has to be told.

One input may change on every call without a new compilation: the current time. A query
such as "open cases past their deadline" is built once with `MOMENT` in place of now
(`rows(key, build, moment=now)`); where that value stands among the statement's parameters,
each call puts `moment` instead.
"""

import datetime as dt
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connections, transaction
from django.db.models import QuerySet

MAX_ENTRIES = 512
MAX_AGE = 300.0  # seconds
EMPTY = object()  # a query that can match nothing (e.g. `pk__in=[]`): not sent at all
_MISSING = object()
# A time no record holds, standing for `moment` while a statement is compiled.
MOMENT = dt.datetime(1901, 2, 3, 4, 5, 6, 789012, tzinfo=dt.UTC)
_local = threading.local()


@dataclass(frozen=True)
class Statement:
    """A compiled values/values_list query: its SQL, parameters and column converters."""

    alias: str
    sql: str
    params: tuple
    converters: tuple
    slots: tuple = ()  # where MOMENT stands among params


def compile_queryset(qs: QuerySet, with_moment: bool = False):
    """`qs` compiled once (a Statement), or EMPTY for a query that can match nothing."""
    compiler = qs.query.get_compiler(qs.db)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        return EMPTY
    fields = [s[0] for s in compiler.select[: compiler.col_count]]
    converters = tuple(compiler.get_converters(fields).items())
    slots = ()
    if with_moment:
        marker = connections[qs.db].ops.adapt_datetimefield_value(MOMENT)
        slots = tuple(i for i, p in enumerate(params) if type(p) is type(marker) and p == marker)
        if not slots:
            raise ValueError("the query does not use statements.MOMENT")
    return Statement(qs.db, sql, tuple(params), converters, slots)


def remembered(key: tuple, make: Callable[[], object]):
    """What `make()` gave the first time this thread asked for `key` (a compiled statement,
    or anything built from one), made again after MAX_AGE seconds; the oldest entries are
    dropped beyond MAX_ENTRIES."""
    entries = getattr(_local, "entries", None)
    if entries is None:
        entries = _local.entries = OrderedDict()
    now = time.monotonic()
    found = entries.get(key, _MISSING)
    if found is _MISSING or now - found[0] > MAX_AGE:
        entry = make()
        entries[key] = (now, entry)
        entries.move_to_end(key)
        if len(entries) > MAX_ENTRIES:
            entries.popitem(last=False)
        return entry
    entries.move_to_end(key)
    return found[1]


@contextmanager
def planned_each_time(alias: str = "default") -> Iterator[None]:
    """PostgreSQL: statements run in this block are not prepared, so each is planned for its
    own values.

    A prepared statement is planned generically after five runs when PostgreSQL judges that
    plan no worse. For a text search that is a LIKE whose pattern the plan cannot see: the
    prefix index (`name LIKE '范雅%'`) is no longer usable, and the county-wide search of a
    two-character name went from 6 to 83 ms on its eleventh run in a process (bench/README,
    search run 12). Planning such a statement costs well under a millisecond.
    """
    connection = connections[alias]
    if connection.vendor != "postgresql":
        yield
        return
    connection.ensure_connection()
    raw = connection.connection
    before = raw.prepare_threshold
    raw.prepare_threshold = None
    try:
        yield
    finally:
        raw.prepare_threshold = before


@contextmanager
def with_workers(alias: str = "default") -> Iterator[None]:
    """PostgreSQL: queries run in this block may each use REPORT_PARALLEL_WORKERS parallel
    workers (pages run with none: DATABASE_PARALLEL_WORKERS).

    For a report that aggregates a county's year of cases (the indicators: 0.67 → 0.44 s on
    two cores). The setting is local to a transaction (a savepoint inside one) and put back
    at the block's end.
    """
    connection = connections[alias]
    workers = getattr(settings, "REPORT_PARALLEL_WORKERS", 0)
    if connection.vendor != "postgresql" or workers <= 0:
        yield
        return
    name = "max_parallel_workers_per_gather"
    with transaction.atomic(using=alias):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT current_setting(%s), set_config(%s, %s, true)", [name, name, str(workers)]
            )
            before = cursor.fetchone()[0]
        yield
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config(%s, %s, true)", [name, before])


def execute(statement: Statement, params=None) -> list:
    """The rows of a compiled statement (with `params` in place of its own), converted as the
    ORM converts them."""
    connection = connections[statement.alias]
    with connection.cursor() as cursor:
        cursor.execute(statement.sql, statement.params if params is None else params)
        fetched = cursor.fetchall()
    if not statement.converters:
        return fetched
    out = []
    for row in fetched:
        row = list(row)
        for pos, (functions, expression) in statement.converters:
            value = row[pos]
            for convert in functions:
                value = convert(value, expression, connection)
            row[pos] = value
        out.append(tuple(row))
    return out


def rows(key: tuple, build: Callable[[], QuerySet], *, moment: dt.datetime | None = None) -> list:
    """The rows of `build()`, a values_list queryset, as tuples.

    moment: the time to put where `build()` used MOMENT (an aware datetime).
    """
    entry = remembered(key, lambda: compile_queryset(build(), moment is not None))
    return _execute(key, entry, moment)


def count(key: tuple, build: Callable[[], QuerySet], *, moment: dt.datetime | None = None) -> int:
    """How many rows `build()` (any queryset) has: `rows` for a COUNT(*), compiled once.

    The home page's figures are counts over scoped queries with nested subqueries; Django took
    longer to build and compile each than PostgreSQL took to count.
    """

    def make():
        entry = compile_queryset(build().order_by().values("pk"), moment is not None)
        if entry is EMPTY:
            return EMPTY
        sql = f"SELECT COUNT(*) FROM ({entry.sql}) counted"
        return Statement(entry.alias, sql, entry.params, (), entry.slots)

    found = _execute(key, remembered(("count", *key), make), moment)
    return found[0][0] if found else 0


def _execute(key: tuple, entry, moment: dt.datetime | None) -> list:
    if entry is EMPTY:
        return []
    params = None
    if entry.slots:
        if moment is None:
            raise ValueError(f"{key!r} was compiled with a moment: give one")
        value = connections[entry.alias].ops.adapt_datetimefield_value(moment)
        params = list(entry.params)
        for i in entry.slots:
            params[i] = value
    return execute(entry, params)


def clear() -> None:
    """Forget this thread's statements (tests)."""
    _local.entries = OrderedDict()
