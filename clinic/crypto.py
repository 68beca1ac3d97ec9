"""Application-level encryption for health data (DESIGN.md safety rule 4).

Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``) under a MultiFernet: the first key
encrypts, every key decrypts, so keys rotate without downtime. ``manage.py
rotate_encryption_keys`` then re-encrypts every stored value under the newest key.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


def local_key_file_keys(path: Path) -> list[str]:
    """Keys for the embedded run: read from a git-ignored file, created (mode 0600) when missing.
    Called by ``manage.py create_local_key``, never at import time."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(Fernet.generate_key().decode() + "\n")
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]


@functools.cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured(
            "No field encryption key: set FIELD_ENCRYPTION_KEYS, or run `manage.py create_local_key` "
            "for the embedded run (make run does)."
        )
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS holds a value that is not a Fernet key (32 url-safe base64-encoded bytes)."
        ) from exc


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    return fernet().encrypt(plaintext.encode()).decode()


# Every Fernet token starts so (version byte 0x80, base64-encoded).
FERNET_PREFIX = "gAAAA"


def try_decrypt(token: str) -> str | None:
    """The plaintext, or None when no key opens ``token`` (for data that may be dropped, such
    as a session)."""
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        return None


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise ImproperlyConfigured(
            "A stored value cannot be decrypted with any key in FIELD_ENCRYPTION_KEYS. "
            "Was an old key removed before `rotate_encryption_keys` ran?"
        ) from None


def rotate(token: str) -> str:
    return fernet().rotate(token.encode()).decode()


def seal(values: dict[str, Any], *, purpose: str) -> str:
    """A short-lived encrypted value: JSON ``values`` under the field keys, bound to
    ``purpose``, with Fernet's own timestamp. For task arguments that a worker must read but
    the database must not keep in the clear (``clinic.mail``)."""
    return fernet().encrypt(json.dumps({"purpose": purpose, "values": values}).encode()).decode()


def unseal(token: str, *, purpose: str, max_age: dt.timedelta) -> dict[str, Any] | None:
    """The values of a ``seal`` made for ``purpose`` within ``max_age``; None when it is older,
    made for something else, or not ours."""
    try:
        data = json.loads(fernet().decrypt(token.encode(), ttl=int(max_age.total_seconds())))
    except (InvalidToken, ValueError):
        return None
    if not isinstance(data, dict) or data.get("purpose") != purpose:
        return None
    values = data.get("values")
    return values if isinstance(values, dict) else None


class EncryptedTextField(models.TextField):
    """A text field stored as a Fernet token. Not searchable or orderable by its contents.

    Empty strings are stored encrypted too, so the database does not reveal which answers
    were left blank.
    """

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None:
            return None
        return encrypt(str(value))

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None:
            return None
        return decrypt(value)


def encrypted_fields() -> list[tuple[type[models.Model], list[str]]]:
    """Every concrete model with encrypted fields, with those fields' names."""
    from django.apps import apps

    found = []
    for model in apps.get_models():
        names = [f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
        if names:
            found.append((model, names))
    return found


def encrypt_plaintext_column(model: type[models.Model], *fields: str) -> int:
    """For data migrations that turn a plain text column into an ``EncryptedTextField``: run it
    while the migration state still has the column as a plain ``TextField`` (so reading gives
    the stored text), before the field becomes encrypted. Empty values are encrypted too, as
    the field itself does. Returns how many rows were rewritten."""
    count = 0
    for row in model._base_manager.values("pk", *fields).iterator(chunk_size=500):
        changes = {name: encrypt(row[name] or "") for name in fields}
        model._base_manager.filter(pk=row["pk"]).update(**changes)
        count += 1
    return count
