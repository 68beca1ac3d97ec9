from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from clinic.accounts.jurisdictions import jurisdiction_name
from clinic.content.crisis import country_for, crisis_lines
from clinic.scheduling.actions import session_hash
from clinic.scheduling.journey import HOLDER_KEY
from clinic.scheduling.models import Hold


def _booking_hold(request: HttpRequest) -> Hold | None:
    """The live time this browser holds, while the person signs up or in to confirm it."""
    holder = getattr(request, "session", {}).get(HOLDER_KEY)
    if not holder:
        return None
    return (
        Hold.objects.select_related("clinician")
        .filter(
            session_key_hash=session_hash(holder), expires_at__gt=timezone.now(), reschedule_of__isnull=True
        )
        .order_by("-created_at")
        .first()
    )


def clinic(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    return {
        "clinic_name": settings.CLINIC_NAME,
        # Lazy: only pages that render the crisis bar pay for the query. Pages that show crisis
        # numbers in their body pass ``lines``, and the bar shows the same ones (base.html).
        "header_crisis_lines": SimpleLazyObject(lambda: crisis_lines(country_for(user))),
        "booking_hold": SimpleLazyObject(lambda: _booking_hold(request)),
        "booking_hold_place": SimpleLazyObject(
            lambda: jurisdiction_name(hold.jurisdiction) if (hold := _booking_hold(request)) else ""
        ),
    }
