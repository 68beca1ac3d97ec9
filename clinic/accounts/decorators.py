from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from clinic.accounts.models import Role, User


def role_required(*roles: Role) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Signed in, with one of ``roles``, and — for clinicians and staff — with MFA set up.

    Anonymous people are sent to sign in; a person with another role gets 403.
    """

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if user.role not in roles:  # type: ignore[union-attr]
                raise PermissionDenied
            if user.needs_mfa and not user.has_mfa():  # type: ignore[union-attr]
                return redirect("accounts:mfa_required")
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def person(request: HttpRequest) -> User:
    """The signed-in person of a request that a role check has already let through."""
    assert request.user.is_authenticated
    return request.user  # type: ignore[return-value]
