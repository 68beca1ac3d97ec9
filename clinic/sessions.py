"""Sessions encrypted at rest: Django's database sessions, with each session's data a Fernet
token under the field encryption keys.

A session holds more than a sign-in: allauth keeps the address being signed up, a pending
email verification code, a password-reset key while it is being used, and, when it asks for
the password again, the request that was interrupted (with what was typed into it). Django
stores all of it signed but readable; here nobody reading the database can read it.

Rows written before this engine (signed, not encrypted) are still read, and are encrypted the
next time they change. A row that no key opens is an empty session (the person signs in again).
"""

from __future__ import annotations

from typing import Any

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore

from clinic import crypto


class SessionStore(DatabaseSessionStore):
    def encode(self, session_dict: dict[str, Any]) -> str:
        return crypto.encrypt(super().encode(session_dict))

    def decode(self, session_data: bytes | str) -> dict[str, Any]:
        if isinstance(session_data, bytes):
            session_data = session_data.decode()
        if session_data.startswith(crypto.FERNET_PREFIX):
            opened = crypto.try_decrypt(session_data)
            if opened is None:
                return {}
            session_data = opened
        return super().decode(session_data)
