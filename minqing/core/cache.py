"""A database cache with an atomic increment, shared by every app server.

The database is the one store all gunicorn hosts share, so counters that must add up across
them (django-ratelimit's lookups on the public progress page) live in a cache table there.
"""

import base64
import pickle

from django.core.cache.backends.db import DatabaseCache
from django.db import connections, router, transaction
from django.utils.timezone import now as tz_now


class AtomicDatabaseCache(DatabaseCache):
    """Django's database cache with an atomic incr(), as django-ratelimit requires.

    DatabaseCache.incr() reads the value and writes value + 1 in two statements, so two requests
    at once both turn 5 into 6 and lookups go uncounted. Here the read and the write happen in
    one transaction that holds the row: SELECT … FOR UPDATE on PostgreSQL; on SQLite the
    settings begin every transaction IMMEDIATE, which already lets one writer in at a time.
    """

    def incr(self, key, delta=1, version=None):
        cache_key = self.make_and_validate_key(key, version=version)
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        qn = connection.ops.quote_name
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        now = tz_now().replace(microsecond=0, tzinfo=None)  # as DatabaseCache.has_key
        with transaction.atomic(using=db), connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {qn('value')} FROM {qn(self._table)} "
                f"WHERE {qn('cache_key')} = %s AND {qn('expires')} > %s{lock}",
                [cache_key, connection.ops.adapt_datetimefield_value(now)],
            )
            row = cursor.fetchone()
            if row is None:
                raise ValueError(f"Key '{key}' not found")
            raw = connection.ops.process_clob(row[0])
            value = pickle.loads(base64.b64decode(raw.encode())) + delta
            stored = base64.b64encode(pickle.dumps(value, self.pickle_protocol)).decode("latin1")
            cursor.execute(
                f"UPDATE {qn(self._table)} SET {qn('value')} = %s WHERE {qn('cache_key')} = %s",
                [stored, cache_key],
            )
        return value
