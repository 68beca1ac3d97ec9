"""The role router and people management. Each role's home page lives at the project top
(``clinic.portal``): it gathers several domains."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from clinic.accounts.actions import do_invite, do_set_on_call
from clinic.accounts.decorators import AuthedRequest, role_required
from clinic.accounts.forms import InviteForm
from clinic.accounts.models import Role, User
from clinic.audit.actions import Via

HOMES = {
    Role.PATIENT: "portal:patient_home",
    Role.CLINICIAN: "portal:clinician_home",
    Role.NURSE: "portal:nurse_home",
    Role.STAFF: "portal:staff_home",
}


@login_required
@require_safe
def home(request: AuthedRequest) -> HttpResponse:
    """Where a signed-in person lands: their own area. Emails link here, so a link works for
    whoever signs in."""
    return redirect(HOMES[Role(request.user.role)])


@login_required
@require_safe
def mfa_required(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/mfa_required.html")


@role_required(Role.STAFF)
@require_http_methods(["GET", "POST"])
def people(request: AuthedRequest) -> HttpResponse:
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        invited = do_invite(
            actor=request.user,
            email=data["email"],
            display_name=data["display_name"],
            role=Role(data["role"]),
            time_zone=data["time_zone"],
            via=Via.of(request),
        )
        messages.success(request, f"Invitation sent to {invited.email}.")
        return redirect("accounts:people")
    team = User.objects.filter(role__in=[Role.CLINICIAN, Role.NURSE, Role.STAFF]).order_by(
        "role", "display_name"
    )
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/people.html", {"form": form, "team": team}, status=status)


@role_required(Role.STAFF)
@require_POST
def toggle_on_call(request: AuthedRequest, user_id: uuid.UUID) -> HttpResponse:
    clinician = get_object_or_404(User, public_id=user_id, role=Role.CLINICIAN)
    do_set_on_call(
        actor=request.user, clinician=clinician, on_call=not clinician.on_call, via=Via.of(request)
    )
    return redirect("accounts:people")
