"""Django's database cache with bounds, for the embedded run (no Redis).

Django's own culls only by row count, past ``MAX_ENTRIES``: 300 rows of a few megabytes each
grew the SQLite file to hundreds of megabytes. Here a value whose pickle is over
``MAX_ENTRY_BYTES`` is not stored at all (the caller simply computes again next time), and once
the rows' values add up to more than ``MAX_TOTAL_BYTES`` (or their count passes
``MAX_ENTRIES``) expired rows go first, then the rows closest to expiring, until the table is
under three quarters of either cap. ``set_many`` writes every row in one statement. The worker
deletes expired rows on a schedule (``delete_expired``, called by ``clinic.taskqueue``).
"""

from __future__ import annotations

import base64
import pickle
from datetime import UTC, datetime
from typing import Any

from django.core.cache import caches
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.db import DatabaseCache
from django.db import DatabaseError, connections, router
from django.utils.timezone import now as tz_now

_UPSERT = (
    "INSERT INTO {table} (cache_key, value, expires) VALUES (%s, %s, %s) "
    "ON CONFLICT (cache_key) DO UPDATE SET value = excluded.value, expires = excluded.expires"
)


class BoundedDatabaseCache(DatabaseCache):
    def __init__(self, table: str, params: dict[str, Any]) -> None:
        super().__init__(table, params)
        self.table = table
        options = params.get("OPTIONS", {})
        self.max_entry_bytes = int(options.get("MAX_ENTRY_BYTES", 512 * 1024))
        self.max_total_bytes = int(options.get("MAX_TOTAL_BYTES", 32 * 1024 * 1024))

    def _encode(self, value: Any) -> str | None:
        pickled = pickle.dumps(value, self.pickle_protocol)
        encoded = base64.b64encode(pickled).decode("latin1")
        return encoded if len(encoded) <= self.max_entry_bytes else None

    def _expires(self, timeout: Any) -> datetime:
        seconds = self.get_backend_timeout(timeout)
        moment = (
            datetime.max.replace(tzinfo=UTC) if seconds is None else datetime.fromtimestamp(seconds, tz=UTC)
        )
        return moment.replace(microsecond=0)

    def _base_set(self, mode: str, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT) -> bool:
        """One statement per write: an upsert (``add`` only over a missing or expired row)."""
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        table = connection.ops.quote_name(self.table)
        expires = connection.ops.adapt_datetimefield_value(self._expires(timeout))
        now = connection.ops.adapt_datetimefield_value(tz_now().replace(microsecond=0))
        with connection.cursor() as cursor:
            if mode == "touch":
                cursor.execute(f"UPDATE {table} SET expires = %s WHERE cache_key = %s", [expires, key])
                return bool(cursor.rowcount)
            encoded = self._encode(value)
            if encoded is None:
                # An older, smaller value must not outlive this one.
                cursor.execute(f"DELETE FROM {table} WHERE cache_key = %s", [key])
                return False
            self._bound(db, cursor)
            sql, params = _UPSERT.format(table=table), [key, encoded, expires]
            if mode == "add":
                sql, params = sql + f" WHERE {table}.expires < %s", [*params, now]
            try:
                cursor.execute(sql, params)
            except DatabaseError:  # as Django's: a cache write may fail silently under contention
                return False
            return bool(cursor.rowcount)

    def set_many(self, data: dict[str, Any], timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> list:
        """Every row in one statement; keys whose value is too large are returned as not stored."""
        rows, refused = [], []
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        expires = connection.ops.adapt_datetimefield_value(self._expires(timeout))
        for key, value in data.items():
            made = self.make_and_validate_key(key, version=version)
            encoded = self._encode(value)
            if encoded is None:
                refused.append(key)
            else:
                rows.append((made, encoded, expires))
        if not rows:
            return refused
        table = connection.ops.quote_name(self.table)
        try:
            with connection.cursor() as cursor:
                self._bound(db, cursor)
                cursor.executemany(_UPSERT.format(table=table), rows)
        except DatabaseError:
            return list(data)
        return refused

    def _bound(self, db: str, cursor: Any) -> None:
        """Under both caps: expired rows first, then those closest to expiring."""
        connection = connections[db]
        table = connection.ops.quote_name(self.table)
        cursor.execute(f"SELECT COUNT(*), COALESCE(SUM(LENGTH(value)), 0) FROM {table}")
        count, total = cursor.fetchone()
        if count < self._max_entries and total < self.max_total_bytes:
            return
        now = connection.ops.adapt_datetimefield_value(tz_now().replace(microsecond=0))
        cursor.execute(f"DELETE FROM {table} WHERE expires < %s", [now])
        cursor.execute(f"SELECT COUNT(*), COALESCE(SUM(LENGTH(value)), 0) FROM {table}")
        count, total = cursor.fetchone()
        if count < self._max_entries * 3 // 4 and total < self.max_total_bytes * 3 // 4:
            return
        # Keep the rows that expire last, up to three quarters of both caps.
        cursor.execute(f"SELECT cache_key, LENGTH(value) FROM {table} ORDER BY expires DESC")
        kept, size, drop = 0, 0, []
        for key, length in cursor.fetchall():
            if kept < self._max_entries * 3 // 4 and size + length < self.max_total_bytes * 3 // 4:
                kept, size = kept + 1, size + length
            else:
                drop.append(key)
        for start in range(0, len(drop), 500):
            part = drop[start : start + 500]
            cursor.execute(f"DELETE FROM {table} WHERE cache_key IN ({', '.join(['%s'] * len(part))})", part)

    def delete_expired(self) -> int:
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        table = connection.ops.quote_name(self.table)
        now = connection.ops.adapt_datetimefield_value(tz_now().replace(microsecond=0))
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table} WHERE expires < %s", [now])
            return cursor.rowcount


def delete_expired() -> int:
    """Delete the database cache's expired rows (Redis expires keys itself); how many went."""
    cache = caches["default"]
    return cache.delete_expired() if isinstance(cache, BoundedDatabaseCache) else 0
