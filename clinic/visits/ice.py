"""ICE servers for the built-in room. TURN credentials follow coturn's REST API form
(``use-auth-secret``): username ``<expiry unix time>:<id>``, password
``base64(HMAC-SHA1(secret, username))``, valid until the expiry."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any

from django.conf import settings

from clinic.accounts.models import User


def turn_credentials(secret: str, user_id: str, ttl: int, now: float | None = None) -> tuple[str, str]:
    expiry = int((now if now is not None else time.time()) + ttl)
    username = f"{expiry}:{user_id}"
    password = base64.b64encode(hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()).decode()
    return username, password


def servers_for(user: User) -> list[dict[str, Any]]:
    servers: list[dict[str, Any]] = []
    if settings.ICE_URLS:
        servers.append({"urls": list(settings.ICE_URLS)})
    if settings.TURN_URLS and settings.TURN_SECRET:
        username, credential = turn_credentials(
            settings.TURN_SECRET, user.public_id.hex, settings.TURN_TTL_SECONDS
        )
        servers.append({"urls": list(settings.TURN_URLS), "username": username, "credential": credential})
    return servers
