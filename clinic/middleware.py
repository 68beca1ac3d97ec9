import secrets
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers, patch_cache_control

from clinic.audit.actions import audit_record
from clinic.audit.models import Action

Handler = Callable[[HttpRequest], HttpResponse]


class RequestIdMiddleware:
    """Give every request an id, echoed in a response header and kept in audit rows."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request.request_id = (  # type: ignore[attr-defined]
            incoming if incoming.isalnum() and len(incoming) <= 64 else secrets.token_hex(8)
        )
        response = self.get_response(request)
        response["X-Request-ID"] = request.request_id  # type: ignore[attr-defined]
        return response


class SessionTimeoutMiddleware:
    """Sign people out after SESSION_IDLE_TIMEOUT idle and SESSION_ABSOLUTE_TIMEOUT in all.

    Django's session age alone is either idle-based or absolute, not both, so both clocks are
    kept in the session here.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = timezone.now().timestamp()
            started = request.session.setdefault("_started", now)
            last = request.session.get("_seen", now)
            idle = settings.SESSION_IDLE_TIMEOUT.total_seconds()
            absolute = settings.SESSION_ABSOLUTE_TIMEOUT.total_seconds()
            if now - last > idle or now - started > absolute:
                user = request.user
                audit_record(action=Action.SESSION_EXPIRED, actor=user, subject=user, request=request)  # type: ignore[arg-type]
                logout(request)
                messages.info(
                    request, "You were signed out to keep your information safe. Please sign in again."
                )
            else:
                request.session["_seen"] = now
        return self.get_response(request)


class NoStoreMiddleware:
    """No page that could show personal data may be kept by a browser or proxy cache.

    Everything is no-store except static files and public pages served to anonymous visitors
    (views marked with ``clinic.views.public_page``).
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path.startswith(settings.STATIC_URL):
            return response
        if getattr(response, "public_page", False) and not request.user.is_authenticated:
            patch_cache_control(response, public=True, max_age=300)
        else:
            add_never_cache_headers(response)
            patch_cache_control(response, no_store=True, private=True)
        return response
