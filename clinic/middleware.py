import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers, patch_cache_control

from clinic.audit.actions import Via, audit_record
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
    kept in the session here. The last-seen clock moves in steps of ``SEEN_STEP`` seconds: a
    signed-in page read within a minute of the last one writes nothing (a session write on each
    page was a database write transaction per request), and the idle timeout is kept to within
    that minute.
    """

    SEEN_STEP = 60

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
                audit_record(action=Action.SESSION_EXPIRED, actor=user, subject=user, via=Via.of(request))
                logout(request)
                messages.info(
                    request, "You were signed out to keep your information safe. Please sign in again."
                )
            elif now - last >= self.SEEN_STEP or "_seen" not in request.session:
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


class PublicPageCacheMiddleware:
    """Public pages (``clinic.views.public_page``) as an anonymous visitor gets them, kept in
    this process for ``PUBLIC_PAGE_SECONDS`` (at most ``PUBLIC_PAGE_ENTRIES`` of them).

    Only for a GET without any cookie (no session, no messages, no CSRF token: nobody whose
    page could differ) and only a 200 response that sets no cookie. Everything outside this
    middleware (request id, security headers) still runs for each request.
    """

    pages: OrderedDict[str, tuple[float, HttpResponse]] = OrderedDict()  # one per process
    lock = threading.Lock()

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method != "GET" or request.COOKIES or settings.PUBLIC_PAGE_SECONDS <= 0:
            return self.get_response(request)
        key = request.get_full_path()
        now = time.monotonic()
        with self.lock:
            kept = self.pages.get(key)
        if kept is not None and kept[0] > now:
            return _copy_of(kept[1])
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if (
            getattr(response, "public_page", False)
            and response.status_code == 200
            and not response.cookies
            and not response.streaming
            and not (user is not None and user.is_authenticated)
        ):
            with self.lock:
                self.pages[key] = (now + settings.PUBLIC_PAGE_SECONDS, _copy_of(response))
                self.pages.move_to_end(key)
                while len(self.pages) > settings.PUBLIC_PAGE_ENTRIES:
                    self.pages.popitem(last=False)
        return response


def _copy_of(response: HttpResponse) -> HttpResponse:
    copy = HttpResponse(response.content, status=response.status_code)
    for name, value in response.items():
        copy[name] = value
    copy.public_page = True  # type: ignore[attr-defined]
    return copy
