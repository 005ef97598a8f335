"""Inserting many rows of one model fast: values prepared column by column, then one
`executemany` (SQLite) or one COPY (PostgreSQL) per batch.

Django's bulk_create prepares every value of every row through the field API and compiles an
INSERT per few dozen rows; for a 100 000-row ledger that costs more than everything else the
import does together. Here each column gets one converter, chosen once from its field:
encrypted fields are encrypted (minqing.core.crypto, exactly as EncryptedTextField would), dates
and datetimes are adapted by the backend's own `connection.ops`, JSON is dumped as JSONField
does. Values that the field API would add by itself (defaults, auto_now) come from the fields
too, so a row written here reads back through the ORM like any other.

Ids are taken before the insert, so the caller can link categories and audit entries to the new
rows without reading them back: PostgreSQL hands out sequence values; on SQLite the caller holds
the write lock (transaction_mode IMMEDIATE), and ids continue after both MAX(id) and
sqlite_sequence, so an id of a deleted record (and its audit history) is never reused.
"""

import json
from collections.abc import Callable, Iterable, Sequence

from django.db import connection, models
from django.db.models.base import ModelState

from minqing.core import crypto
from minqing.core.fields import EncryptedTextField


def _memo(fn: Callable) -> Callable:
    """fn with a one-value memory: every row of an import carries the same timestamps."""
    last = [object(), None]

    def convert(v):
        if v is not last[0]:
            last[0], last[1] = v, fn(v)
        return last[1]

    return convert


class Sealed(str):
    """A value already encrypted with minqing.core.crypto.encrypt (by a worker process)."""

    __slots__ = ()


def _encrypt(v):
    if v is None or v == "" or type(v) is Sealed:
        return v
    return crypto.encrypt(str(v))


def _converter(field: models.Field) -> Callable | None:
    ops = connection.ops
    if isinstance(field, EncryptedTextField):
        return _encrypt
    if isinstance(field, models.DateTimeField):
        return _memo(lambda v: ops.adapt_datetimefield_value(v) if v is not None else None)
    if isinstance(field, models.DateField):
        return lambda v: ops.adapt_datefield_value(v) if v is not None else None
    if isinstance(field, models.JSONField):
        return lambda v: json.dumps(v, cls=field.encoder)
    if isinstance(field, models.DecimalField):
        return lambda v: ops.adapt_decimalfield_value(v, field.max_digits, field.decimal_places)
    return None


class Inserter:
    """Rows of `model` in, INSERTed; `fields` are attnames, in the order rows give them."""

    def __init__(self, model: type[models.Model], fields: Sequence[str], *, with_ids: bool):
        meta = model._meta
        self.model = model
        self.table = meta.db_table
        self.with_ids = with_ids
        by_attname = {f.attname: f for f in meta.concrete_fields}
        self.fields = [by_attname[a] for a in fields]
        self.converters = [_converter(f) for f in self.fields]
        columns = ([meta.pk.column] if with_ids else []) + [f.column for f in self.fields]
        self.columns = columns
        quote = connection.ops.quote_name
        self.column_sql = ", ".join(quote(c) for c in columns)
        self.quoted_table = quote(self.table)

    def prepare(self, values: Sequence) -> list:
        return [c(v) if c is not None else v for c, v in zip(self.converters, values, strict=True)]

    def allocate_ids(self, n: int) -> list[int]:
        if n == 0:
            return []
        pk = self.model._meta.pk.column
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                    [self.quoted_table, pk, n],
                )
                return [r[0] for r in cursor.fetchall()]
            cursor.execute(
                f"SELECT COALESCE(MAX({connection.ops.quote_name(pk)}), 0) FROM {self.quoted_table}"
            )
            top = cursor.fetchone()[0]
            if connection.vendor == "sqlite":
                cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [self.table])
                row = cursor.fetchone()
                top = max(top, row[0] if row else 0)
            return list(range(top + 1, top + n + 1))

    def insert(self, rows: Iterable[Sequence]) -> None:
        """rows: prepared values (see prepare), with the id first when with_ids."""
        rows = list(rows)
        if rows:
            connection.ensure_connection()
            self.insert_raw(connection.connection, connection.vendor, rows)

    def insert_raw(self, dbapi, vendor: str, rows: list) -> None:
        """The INSERT itself, on the DB-API connection under Django's (inside its transaction)."""
        if vendor == "postgresql":
            with dbapi.cursor() as cursor:
                sql = f"COPY {self.quoted_table} ({self.column_sql}) FROM STDIN"
                with cursor.copy(sql) as copy:
                    for row in rows:
                        copy.write_row(row)
        elif vendor == "sqlite":
            # Many rows per statement, not executemany: an FTS5 table kept by a trigger (the
            # person and household search index) flushes its pending terms at every statement,
            # which makes one-row statements about five times slower.
            width = len(self.columns)
            per = max(1, min(1000, sqlite_variable_limit(dbapi) // width))
            one = "(" + ", ".join(["?"] * width) + ")"
            head = f"INSERT INTO {self.quoted_table} ({self.column_sql}) VALUES "
            full_sql = head + ", ".join([one] * per)
            for start in range(0, len(rows), per):
                chunk = rows[start : start + per]
                sql = full_sql if len(chunk) == per else head + ", ".join([one] * len(chunk))
                dbapi.execute(sql, [v for row in chunk for v in row])
        else:
            raise NotImplementedError(f"bulk insert for {vendor}")


def sqlite_variable_limit(dbapi) -> int:
    try:
        import sqlite3

        return dbapi.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    except (AttributeError, ImportError):  # Python < 3.11
        return 999


def instance(model: type[models.Model], values: dict) -> models.Model:
    """A model instance from attribute values without Model.__init__ (a large share of the time
    for 100 000 rows); `values` must hold every concrete attname. Marked as not yet saved."""
    obj = model.__new__(model)
    obj.__dict__.update(values)
    obj._state = ModelState()
    return obj


def defaults(model: type[models.Model]) -> dict:
    """Each concrete field's default (what Model.__init__ would set), by attname."""
    return {f.attname: f.get_default() for f in model._meta.concrete_fields if not f.primary_key}
