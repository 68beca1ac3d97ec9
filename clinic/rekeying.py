"""Re-encrypting rows that the database otherwise refuses to change.

Some tables are append-only: triggers refuse UPDATE and DELETE (audit events, signed notes,
addenda; later the care app's signed session records and controlled-substance register). Key
rotation must still rewrite the ciphertext of their encrypted columns, and nothing else. So
their UPDATE triggers let a row through only when both hold:

1. a re-keying is in progress *in this transaction* (``rekeying()`` below), and
2. no column changed except the encrypted ones.

The database has no key, so it cannot see that new ciphertext holds the same plaintext: that is
the rotation command's part (it rewrites tokens with ``MultiFernet.rotate``, which decrypts and
re-encrypts the same bytes), and it is why nothing but that command opens ``rekeying()``.
Inside it, a change to any other column is still refused; outside it (other connections, other
transactions, before and after) every change is refused as before.

How "in progress in this transaction" is known differs by database, for a reason each:

- PostgreSQL: ``SET LOCAL mendwell.rekeying = 'on'`` (``set_config(..., true)``). A custom
  setting set LOCAL is visible only to this session and ends with the transaction, committed or
  rolled back, by itself; there is nothing to clean up and nothing another session can see. The
  trigger reads it with ``current_setting('mendwell.rekeying', true)``.
- SQLite has no settings a trigger can read, and a trigger on a table of the main schema cannot
  refer to TEMP tables. So the flag is a one-row table, ``clinic_rekeying``, inserted at the start
  and deleted at the end of the same transaction: other connections never see it (it is never
  committed), a rollback removes it, and ``CHECK (id = 1)`` refuses a second flag.

Making another append-only table re-encryptable (in the migration that creates its triggers):

- SQLite: run ``SQLITE_FLAG_TABLE`` (idempotent), and in the UPDATE trigger's WHEN clause put
  ``NOT <sqlite_rekey_passes(kept_columns)>`` next to the refusal's own condition.
- PostgreSQL: in the trigger function, before raising, ``IF <postgres_rekey_passes(encrypted)>
  THEN RETURN NEW; END IF;``.

``columns(model)`` gives both lists from the migration's historical model. These helpers build
SQL that migrations run once: changing them later changes only new databases, so changing a
trigger that exists takes a new migration. The rotation command
refuses to start when a table with encrypted columns has an UPDATE trigger that does not read
the flag (``tables_without_rekey_path``), and ``clinic/tests/test_rekeying.py`` checks every
such table on both databases.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.db import connections, models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from clinic.crypto import EncryptedTextField

PG_SETTING = "mendwell.rekeying"
FLAG_TABLE = "clinic_rekeying"
SQLITE_FLAG_TABLE = f"CREATE TABLE IF NOT EXISTS {FLAG_TABLE} (id INTEGER PRIMARY KEY CHECK (id = 1))"
_SQLITE_UPDATE_TRIGGER = re.compile(r"\b(BEFORE|AFTER|INSTEAD\s+OF)\s+UPDATE\b", re.I)


def columns(model: type[models.Model]) -> tuple[list[str], list[str]]:
    """(encrypted columns, every other column) of a model, historical or current."""
    encrypted: list[str] = []
    kept: list[str] = []
    for field in model._meta.concrete_fields:
        (encrypted if isinstance(field, EncryptedTextField) else kept).append(str(field.column))
    return encrypted, kept


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sqlite_rekey_passes(kept_columns: Sequence[str]) -> str:
    """SQL for an UPDATE trigger's WHEN clause: true when a re-keying is in progress in this
    transaction and none of ``kept_columns`` (every column that is not encrypted) changed."""
    unchanged = " AND ".join(f"NEW.{_quote(c)} IS OLD.{_quote(c)}" for c in kept_columns)
    return f"(EXISTS (SELECT 1 FROM {FLAG_TABLE}) AND {unchanged})"  # noqa: S608 (a constant name)


def postgres_rekey_passes(encrypted_columns: Sequence[str]) -> str:
    """A PL/pgSQL condition for a row trigger: true for an UPDATE while a re-keying is in progress
    in this transaction that changes nothing but ``encrypted_columns``. The rest of the row is
    compared whole, so a column added later is covered without touching the trigger."""
    names = ", ".join("'" + c.replace("'", "''") + "'" for c in encrypted_columns)
    return (
        f"(TG_OP = 'UPDATE' AND coalesce(current_setting('{PG_SETTING}', true), '') = 'on'"
        f" AND (to_jsonb(OLD) - ARRAY[{names}]::text[]) = (to_jsonb(NEW) - ARRAY[{names}]::text[]))"
    )


@contextmanager
def rekeying(using: str = "default") -> Iterator[BaseDatabaseWrapper]:
    """One transaction in which append-only tables accept ciphertext-only updates. Yields the
    connection; the flag is gone when the block ends, whether it commits or rolls back."""
    connection = connections[using]
    with transaction.atomic(using=using):
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SELECT set_config(%s, 'on', true)", [PG_SETTING])
            elif connection.vendor == "sqlite":
                cursor.execute(f"INSERT INTO {FLAG_TABLE} (id) VALUES (1)")  # noqa: S608
            else:  # pragma: no cover - the project runs on these two only
                raise NotImplementedError(f"re-keying on {connection.vendor}")
        yield connection
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SELECT set_config(%s, 'off', true)", [PG_SETTING])
            else:
                cursor.execute(f"DELETE FROM {FLAG_TABLE}")  # noqa: S608


def rekeying_in_progress(using: str = "default") -> bool:
    """Whether this connection's current transaction has the flag (for tests and checks)."""
    connection = connections[using]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT coalesce(current_setting(%s, true), '') = 'on'", [PG_SETTING])
        else:
            cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {FLAG_TABLE})")  # noqa: S608
        row: Any = cursor.fetchone()
    return bool(row[0])


def update_triggers(connection: BaseDatabaseWrapper, table: str) -> list[str]:
    """The source of every UPDATE trigger on ``table`` (on PostgreSQL, of its function)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [table])
            return [sql for (sql,) in cursor.fetchall() if _SQLITE_UPDATE_TRIGGER.search(sql)]
        cursor.execute(
            """SELECT p.prosrc FROM pg_trigger t
               JOIN pg_class c ON c.oid = t.tgrelid
               JOIN pg_proc p ON p.oid = t.tgfoid
               WHERE NOT t.tgisinternal AND c.relname = %s AND (t.tgtype & 16) <> 0""",
            [table],
        )
        return [row[0] for row in cursor.fetchall()]


def tables_without_rekey_path(connection: BaseDatabaseWrapper, tables: Sequence[str]) -> list[str]:
    """Tables among ``tables`` with an UPDATE trigger that does not read the re-keying flag:
    rotation would be refused there."""
    marker = FLAG_TABLE if connection.vendor == "sqlite" else PG_SETTING
    return [t for t in tables if any(marker not in sql for sql in update_triggers(connection, t))]
