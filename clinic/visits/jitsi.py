"""Tokens for a self-hosted Jitsi Meet with JWT authentication (prosody ``token`` auth).

The token names the exact room, is valid only around the visit window (``nbf``/``exp``: a token
without ``exp`` never expires in Jitsi), and makes the clinician a moderator.
"""

from __future__ import annotations

import jwt
from django.conf import settings

from clinic.accounts.models import User
from clinic.visits.models import Visit, window


def room_token(visit: Visit, user: User, *, moderator: bool) -> str:
    opens, closes = window(visit.booking)
    claims = {
        "aud": "jitsi",
        "iss": settings.JITSI_APP_ID,
        "sub": settings.JITSI_DOMAIN,
        "room": visit.room,
        "nbf": int(opens.timestamp()),
        "exp": int(closes.timestamp()),
        "context": {
            "user": {
                "id": user.public_id.hex,
                "name": user.display_name or "Patient",
                "moderator": moderator,
            },
        },
        "moderator": moderator,
    }
    return jwt.encode(claims, settings.JITSI_APP_SECRET, algorithm="HS256")
