from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from clinic.accounts.models import Role, User


class AuthedRequest(HttpRequest):
    """A request that a sign-in check has let through: ``user`` is a ``User``, never anonymous.
    Only for annotating views behind ``role_required`` or ``signed_in``."""

    user: User


View = Callable[..., HttpResponse]


def role_required(*roles: Role) -> Callable[[View], View]:
    """Signed in, with one of ``roles``, and — for clinicians and staff — with MFA set up.

    Anonymous people are sent to sign in; a person with another role gets 403.
    """

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if not isinstance(user, User):
                return redirect_to_login(request.get_full_path())
            if user.role not in roles:
                raise PermissionDenied
            if user.needs_mfa and not user.has_mfa():
                return redirect("accounts:mfa_required")
            return view(request, *args, **kwargs)

        # Who the page is for, readable from the URL map (the audit walk test opens each page
        # as its role).
        wrapper.roles = roles  # type: ignore[attr-defined]
        return wrapper

    return decorator


def signed_in(view: View) -> View:
    """Signed in (any role), with MFA where the role needs it; anonymous people sign in first.
    For pages whose own lookup decides who may see them (a visit, for its two participants)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not isinstance(user, User):
            return redirect_to_login(request.get_full_path())
        if user.needs_mfa and not user.has_mfa():
            return redirect("accounts:mfa_required")
        return view(request, *args, **kwargs)

    return wrapper


def person(request: HttpRequest) -> User:
    """The signed-in person of a request that a role check has already let through."""
    user = request.user
    assert isinstance(user, User)
    return user
