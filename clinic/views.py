from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse


def public_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Mark a view as showing nothing personal, so anonymous responses may be cached briefly."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        response.public_page = True  # type: ignore[attr-defined]
        return response

    return wrapper


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """The 400 page, in the site's layout. Only our own ``BadRequest`` messages are shown (they
    say what to change); other refusals (a suspicious request, a body too large) get the generic
    text."""
    from django.core.exceptions import BadRequest
    from django.shortcuts import render

    message = str(exception) if type(exception) is BadRequest else ""
    return render(request, "400.html", {"message": message}, status=400)


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico whatever the page says; point them at the icon."""
    from django.shortcuts import redirect
    from django.templatetags.static import static

    return redirect(static("img/icon.svg"), permanent=True)
