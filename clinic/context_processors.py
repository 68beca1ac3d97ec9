from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject


def clinic(request: HttpRequest) -> dict[str, Any]:
    from clinic.content.crisis import crisis_lines

    return {
        "clinic_name": settings.CLINIC_NAME,
        # Lazy: only pages that render the crisis bar pay for the query.
        "header_crisis_lines": SimpleLazyObject(crisis_lines),
    }
