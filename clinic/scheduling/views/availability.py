"""What can be offered: a clinician's hours (with a preview of exactly what patients see), and
for staff the licences and appointment types."""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from clinic.accounts.decorators import AuthedRequest, role_required
from clinic.accounts.jurisdictions import jurisdiction_name
from clinic.accounts.models import Licence, Role, User
from clinic.audit.actions import Via
from clinic.scheduling import actions, availability
from clinic.scheduling.forms import (
    AppointmentTypeForm,
    LicenceChangeForm,
    LicenceForm,
    OverrideForm,
    TimeOffForm,
    WeeklyHoursForm,
)
from clinic.scheduling.models import AppointmentType
from clinic.scheduling.slots import group_by_local_day

PREVIEW_DAYS = 7


@role_required(Role.CLINICIAN)
@require_http_methods(["GET", "POST"])
def availability_page(request: AuthedRequest) -> HttpResponse:
    clinician = request.user
    zone = ZoneInfo(clinician.time_zone)
    kind = request.POST.get("kind", "")
    via = Via.of(request)
    # Three forms on one page: a prefix each, so their fields and labels have distinct ids.
    weekly_form = WeeklyHoursForm(request.POST if kind == "weekly" else None, prefix="weekly")
    override_form = OverrideForm(request.POST if kind == "override" else None, prefix="override")
    off_form = TimeOffForm(request.POST if kind == "off" else None, prefix="off")
    if request.method == "POST":
        if kind == "weekly" and weekly_form.is_valid():
            data = weekly_form.cleaned_data
            actions.do_add_weekly_hours(
                clinician=clinician, weekday=data["weekday"], start=data["start"], end=data["end"], via=via
            )
            return redirect("scheduling:availability")
        if kind == "override" and override_form.is_valid():
            data = override_form.cleaned_data
            actions.do_add_date_override(
                clinician=clinician, date=data["date"], start=data["start"], end=data["end"], via=via
            )
            return redirect("scheduling:availability")
        if kind == "off" and off_form.is_valid():
            data = off_form.cleaned_data
            # The form's naive local times are the clinician's wall clock.
            actions.do_add_time_off(
                clinician=clinician,
                start=data["start"].replace(tzinfo=None).replace(tzinfo=zone).astimezone(dt.UTC),
                end=data["end"].replace(tzinfo=None).replace(tzinfo=zone).astimezone(dt.UTC),
                note=data["note"],
                via=via,
            )
            return redirect("scheduling:availability")
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "scheduling/availability.html",
        {
            "weekly": clinician.weekly_hours.all(),
            "overrides": clinician.date_overrides.filter(date__gte=timezone.now().astimezone(zone).date()),
            "time_off": clinician.time_off.filter(end__gte=timezone.now()),
            "licences": clinician.licences.all(),
            "weekly_form": weekly_form,
            "override_form": override_form,
            "off_form": off_form,
            "preview": _preview(clinician),
            "zone": clinician.time_zone,
        },
        status=status,
    )


def _preview(clinician: User) -> list[tuple[str, list]]:
    """Exactly the slots patients are offered, per jurisdiction the clinician is licensed in."""
    now = timezone.now()
    result = []
    for licence in clinician.licences.all():
        found, _ = availability.free_slots(
            jurisdiction=licence.jurisdiction,
            appointment_type=actions.consultation_type(),
            start=now,
            end=now + dt.timedelta(days=PREVIEW_DAYS),
            clinician_ids=[str(clinician.public_id)],
        )
        result.append(
            (jurisdiction_name(licence.jurisdiction), group_by_local_day(found, clinician.time_zone))
        )
    return result


@role_required(Role.CLINICIAN)
@require_POST
def availability_delete(request: AuthedRequest, kind: str, row_id: uuid.UUID) -> HttpResponse:
    if not actions.do_remove_availability(
        clinician=request.user, kind=kind, public_id=row_id, via=Via.of(request)
    ):
        raise Http404
    return redirect("scheduling:availability")


# Staff ------------------------------------------------------------------------------------------


@role_required(Role.STAFF)
@require_http_methods(["GET", "POST"])
def licences(request: AuthedRequest) -> HttpResponse:
    form = LicenceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        actions.do_add_licence(
            actor=request.user,
            clinician=data["clinician"],
            jurisdiction=data["jurisdiction"],
            number=data["number"],
            expires_on=data["expires_on"],
            via=Via.of(request),
        )
        messages.success(request, "Licence added. Verify it against the state board before it counts.")
        return redirect("scheduling:licences")
    today = timezone.now().date()
    rows = Licence.objects.select_related("clinician", "verified_by").order_by(
        "clinician__display_name", "jurisdiction"
    )
    return render(
        request,
        "scheduling/licences.html",
        {
            "form": form,
            "licences": rows,
            "soon": today + dt.timedelta(days=60),
            "today": today,
            "uncovered": availability.uncovered_bookings(),
        },
        status=400 if request.method == "POST" else 200,
    )


@role_required(Role.STAFF)
@require_POST
def verify_licence(request: AuthedRequest, licence_id: uuid.UUID) -> HttpResponse:
    licence = get_object_or_404(Licence, public_id=licence_id)
    actions.do_verify_licence(actor=request.user, licence=licence, via=Via.of(request))
    messages.success(request, "Licence verified.")
    return redirect("scheduling:licences")


@role_required(Role.STAFF)
@require_POST
def change_licence(request: AuthedRequest, licence_id: uuid.UUID) -> HttpResponse:
    licence = get_object_or_404(Licence, public_id=licence_id)
    form = LicenceChangeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the new expiry date.")
        return redirect("scheduling:licences")
    actions.do_change_licence(
        actor=request.user,
        licence=licence,
        expires_on=form.cleaned_data["expires_on"],
        verified=licence.verified_at is not None and not form.cleaned_data["withdraw"],
        via=Via.of(request),
    )
    messages.success(request, "Licence updated. Bookings it no longer covers are listed below.")
    return redirect("scheduling:licences")


@role_required(Role.STAFF)
@require_http_methods(["GET", "POST"])
def appointment_types(request: AuthedRequest) -> HttpResponse:
    forms_by_type = []
    status = 200
    for appointment_type in AppointmentType.objects.all():
        bound = request.method == "POST" and request.POST.get("kind") == appointment_type.kind
        form = AppointmentTypeForm(
            request.POST if bound else None, instance=appointment_type, prefix=appointment_type.kind
        )
        if bound:
            if form.is_valid():
                actions.do_save_appointment_type(
                    actor=request.user,
                    appointment_type=appointment_type,
                    values={name: form.cleaned_data[name] for name in AppointmentTypeForm.Meta.fields},
                    via=Via.of(request),
                )
                messages.success(request, f"{appointment_type.name} saved.")
                return redirect("scheduling:appointment_types")
            status = 400
        forms_by_type.append((appointment_type, form))
    return render(request, "scheduling/appointment_types.html", {"forms": forms_by_type}, status=status)
