"""The staff's day view: every booking of a day by clinician, with cancel and no-show."""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from clinic import dates
from clinic.accounts.decorators import AuthedRequest, role_required
from clinic.accounts.models import Role
from clinic.audit.actions import Via, audit_record
from clinic.audit.models import Action
from clinic.scheduling import actions, day_notes
from clinic.scheduling.forms import StaffCancelForm
from clinic.scheduling.models import Booking


@role_required(Role.STAFF)
@require_safe
def day_view(request: AuthedRequest) -> HttpResponse:
    zone = ZoneInfo(request.user.time_zone)
    day = dates.query_date(request.GET, "date") or timezone.now().astimezone(zone).date()
    start = dt.datetime.combine(day, dt.time.min, tzinfo=zone)
    end = start + dt.timedelta(days=1)
    # What staff need to coordinate (README, "Who reads what"): who, with which doctor, when,
    # where, the status, and a neutral "clinician review" marker. Never triage, scores or what
    # anyone typed (the cancel reason stays on the booking, encrypted).
    bookings = list(
        Booking.objects.filter(start__gte=start, start__lt=end)
        .select_related(
            "clinician", "patient", "patient__patient_profile", "appointment_type", "cancelled_by"
        )
        .defer("cancel_reason")
        .order_by("clinician__display_name", "start")
    )
    by_clinician: dict[str, list[Booking]] = {}
    # Treatment sessions: how long each patient has been observed (no dose, no reading).
    observing = day_notes.notes(bookings)
    for booking in bookings:
        booking.observing = observing.get(booking.pk)  # type: ignore[attr-defined]
        # Patients are named by their account's name, else the name they go by; never the legal
        # name or any other profile detail (README, "Who reads what"). The email is beside it.
        profile = getattr(booking.patient, "patient_profile", None)
        booking.patient_name = booking.patient.display_name or (profile.preferred_name if profile else "")  # type: ignore[attr-defined]
        by_clinician.setdefault(booking.clinician.display_name or booking.clinician.email, []).append(booking)
    with transaction.atomic():
        audit_record(
            action=Action.DAY_VIEWED,
            actor=request.user,
            via=Via.of(request),
            reason=day.isoformat(),
            patients=[b.patient for b in bookings],
        )
    return render(
        request,
        "scheduling/day.html",
        {
            "day": day,
            "zone": request.user.time_zone,
            "by_clinician": by_clinician,
            "prev": day - dt.timedelta(days=1),
            "next": day + dt.timedelta(days=1),
            "now": timezone.now(),
            "cancel_form": StaffCancelForm(),
        },
    )


def _day_of(request: AuthedRequest, booking: Booking) -> str:
    return (
        f"{reverse('scheduling:day')}?date={booking.start.astimezone(request.user.zone).date().isoformat()}"
    )


@role_required(Role.STAFF)
@require_POST
def staff_cancel(request: AuthedRequest, booking_id: uuid.UUID) -> HttpResponse:
    booking = get_object_or_404(Booking.objects.select_related("patient", "clinician"), public_id=booking_id)
    form = StaffCancelForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give a reason: the patient is told why.")
    else:
        try:
            actions.do_cancel(
                actor=request.user, booking=booking, reason=form.cleaned_data["reason"], via=Via.of(request)
            )
            messages.success(request, "Cancelled; the patient has been emailed.")
        except actions.BookingError as exc:
            messages.error(request, exc.message)
    return redirect(_day_of(request, booking))


@role_required(Role.STAFF)
@require_POST
def staff_no_show(request: AuthedRequest, booking_id: uuid.UUID) -> HttpResponse:
    booking = get_object_or_404(Booking.objects.select_related("patient", "clinician"), public_id=booking_id)
    try:
        actions.do_mark_no_show(actor=request.user, booking=booking, via=Via.of(request))
        messages.success(request, "Marked as a no-show.")
    except actions.BookingError as exc:
        messages.error(request, exc.message)
    return redirect(_day_of(request, booking))
