"""The emailed manage link (``/manage/<token>/``: works without signing in, the token is the
key and only its hash is stored) and the patient's own account share one cancel and reschedule
flow."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from clinic import dates
from clinic.accounts.decorators import role_required
from clinic.accounts.models import Role
from clinic.audit.actions import Via
from clinic.scheduling import actions, availability
from clinic.scheduling.forms import CancelForm, HoldForm
from clinic.scheduling.models import Booking, BookingStatus
from clinic.scheduling.views.booking import (
    DAYS_SHOWN,
    holder_key,
    own_booking,
    own_hold,
    slot_days,
    taken_page,
)

# Manage link ----------------------------------------------------------------------------------


def _managed(token: str) -> Booking:
    booking = (
        Booking.objects.by_manage_token(token)
        .select_related("clinician", "appointment_type", "patient")
        .first()
    )
    if booking is None:
        raise Http404("This link is not valid.")
    return booking


@require_safe
def manage(request: HttpRequest, token: str) -> HttpResponse:
    booking = _managed(token)
    return render(
        request,
        "scheduling/manage.html",
        {
            "booking": booking,
            "token": token,
            "zone": booking.patient_time_zone,
            "can_change": booking.status == BookingStatus.CONFIRMED and actions.in_cutoff(booking),
            "active": booking.status == BookingStatus.CONFIRMED,
            "form": CancelForm(),
        },
    )


@require_POST
def manage_cancel(request: HttpRequest, token: str) -> HttpResponse:
    booking = _managed(token)
    form = CancelForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    actor = request.user if request.user.is_authenticated and request.user == booking.patient else None
    try:
        actions.do_cancel(actor=actor, booking=booking, reason=reason, via=Via.of(request))
    except actions.BookingError as exc:
        messages.error(request, exc.message)
        return redirect("scheduling:manage", token=token)
    messages.success(request, "Your appointment is cancelled. We have emailed you to confirm.")
    return redirect("scheduling:manage", token=token)


@dataclass
class RescheduleRoutes:
    """Where a reschedule goes: the emailed manage link and the signed-in account share the flow.
    ``after`` is where to land once moved, given the renewed manage token."""

    pick: str
    back: str
    confirm_name: str
    confirm_args: list[Any]
    after: Callable[[str], str]


def _reschedule_pick(request: HttpRequest, booking: Booking, routes: RescheduleRoutes) -> HttpResponse:
    if booking.status != BookingStatus.CONFIRMED or not actions.in_cutoff(booking):
        return redirect(routes.back)
    if booking.is_treatment_session:
        messages.info(request, actions.SessionMovedByClinic().message)
        return redirect(routes.back)
    zone = booking.patient_time_zone
    if request.method == "POST":
        form = HoldForm(request.POST)
        if not form.is_valid():
            return render(request, "scheduling/problem.html", {"errors": form.errors}, status=400)
        data = form.cleaned_data
        try:
            held = actions.do_hold(
                holder=holder_key(request),
                jurisdiction=booking.jurisdiction,
                start=data["start"],
                patient_time_zone=zone,
                clinician_id=str(data["clinician"]) if data["clinician"] else None,
                reschedule_of=booking,
            )
        except actions.SlotTaken as exc:
            return taken_page(
                request,
                exc,
                booking.jurisdiction,
                zone,
                data["start"],
                ignore_booking=booking,
                hold_url=routes.pick,
            )
        return redirect(routes.confirm_name, *routes.confirm_args, held.public_id)
    today = timezone.now().astimezone(ZoneInfo(zone)).date()
    asked = dates.query_date(request.GET, "start")
    first_day = max(asked, today) if asked else today
    # The same doctor by default: a move never silently changes who the patient sees.
    any_doctor = request.GET.get("doctor") == "any"
    days, _ = slot_days(
        jurisdiction=booking.jurisdiction,
        zone=zone,
        clinician_id=None if any_doctor else str(booking.clinician.public_id),
        first_day=first_day,
        days=DAYS_SHOWN,
        ignore_booking=booking,
        one_per_time=False,
    )
    return render(
        request,
        "scheduling/reschedule.html",
        {
            "booking": booking,
            "zone": zone,
            "days": days,
            "any_doctor": any_doctor,
            "hold_url": routes.pick,
            "back_url": routes.back,
            "next_day": first_day + dt.timedelta(days=DAYS_SHOWN),
            "prev_day": first_day - dt.timedelta(days=DAYS_SHOWN) if first_day > today else None,
        },
    )


def _reschedule_confirm(
    request: HttpRequest, booking: Booking, hold_id: uuid.UUID, routes: RescheduleRoutes
) -> HttpResponse:
    held = own_hold(request, hold_id)
    if held.reschedule_of_id != booking.pk:
        raise Http404("No such hold.")
    if request.method == "GET":
        return render(
            request,
            "scheduling/reschedule_confirm.html",
            {"booking": booking, "hold": held, "zone": booking.patient_time_zone, "back_url": routes.back},
        )
    actor = request.user if request.user.is_authenticated and request.user == booking.patient else None
    try:
        _, token = actions.do_reschedule(
            actor=actor,
            booking=booking,
            hold=held,
            holder=holder_key(request),
            via=Via.of(request),
        )
    except actions.SlotTaken as exc:
        return taken_page(
            request,
            exc,
            booking.jurisdiction,
            booking.patient_time_zone,
            held.start,
            ignore_booking=booking,
            hold_url=routes.pick,
        )
    except actions.BookingError as exc:
        messages.error(request, exc.message)
        return redirect(routes.back)
    messages.success(
        request,
        "Your appointment has a new time. We have emailed you an updated invitation with a new link "
        "to change or cancel it (the old link no longer works).",
    )
    return redirect(routes.after(token))


def _manage_routes(token: str) -> RescheduleRoutes:
    return RescheduleRoutes(
        pick=reverse("scheduling:manage_reschedule", args=[token]),
        back=reverse("scheduling:manage", args=[token]),
        confirm_name="scheduling:manage_reschedule_confirm",
        confirm_args=[token],
        after=lambda renewed: reverse("scheduling:manage", args=[renewed]),
    )


def _account_routes(booking: Booking) -> RescheduleRoutes:
    return RescheduleRoutes(
        pick=reverse("scheduling:my_reschedule", args=[booking.public_id]),
        back=reverse("visits:my_appointment", args=[booking.public_id]),
        confirm_name="scheduling:my_reschedule_confirm",
        confirm_args=[booking.public_id],
        after=lambda _renewed: reverse("visits:my_appointment", args=[booking.public_id]),
    )


@require_http_methods(["GET", "POST"])
def manage_reschedule(request: HttpRequest, token: str) -> HttpResponse:
    return _reschedule_pick(request, _managed(token), _manage_routes(token))


@require_http_methods(["GET", "POST"])
def manage_reschedule_confirm(request: HttpRequest, token: str, hold_id: uuid.UUID) -> HttpResponse:
    return _reschedule_confirm(request, _managed(token), hold_id, _manage_routes(token))


@role_required(Role.PATIENT)
@require_http_methods(["GET", "POST"])
def my_reschedule(request: HttpRequest, booking_id: uuid.UUID) -> HttpResponse:
    booking = own_booking(request, booking_id)
    return _reschedule_pick(request, booking, _account_routes(booking))


@role_required(Role.PATIENT)
@require_http_methods(["GET", "POST"])
def my_reschedule_confirm(request: HttpRequest, booking_id: uuid.UUID, hold_id: uuid.UUID) -> HttpResponse:
    booking = own_booking(request, booking_id)
    return _reschedule_confirm(request, booking, hold_id, _account_routes(booking))


@require_http_methods(["GET", "POST"])
def manage_move(request: HttpRequest, token: str) -> HttpResponse:
    """From the email sent when a licence stopped covering the booking: the same time with
    another licensed doctor, in one click, when one is free; otherwise other times or cancel."""
    booking = _managed(token)
    covered = booking.pk not in {b.pk for b in availability.uncovered_bookings(clinician=booking.clinician)}
    if booking.status != BookingStatus.CONFIRMED or covered or not actions.in_cutoff(booking):
        return redirect("scheduling:manage", token=token)
    others, names = availability.free_slots(
        jurisdiction=booking.jurisdiction,
        appointment_type=booking.appointment_type,
        start=booking.start,
        end=booking.start + dt.timedelta(seconds=1),
        ignore_booking=booking,
    )
    same_time = [slot for slot in others if slot.start == booking.start]
    if request.method == "POST":
        if not same_time:
            messages.error(
                request, "That time is no longer free with another doctor. Please choose another time."
            )
            return redirect("scheduling:manage_reschedule", token=token)
        try:
            held = actions.do_hold(
                holder=holder_key(request),
                jurisdiction=booking.jurisdiction,
                start=booking.start,
                patient_time_zone=booking.patient_time_zone,
                reschedule_of=booking,
            )
            _, renewed = actions.do_reschedule(
                actor=None, booking=booking, hold=held, holder=holder_key(request), via=Via.of(request)
            )
        except actions.BookingError as exc:
            messages.error(request, exc.message)
            return redirect("scheduling:manage_move", token=token)
        messages.success(
            request,
            "Done: same time, with another licensed doctor. We have emailed you the updated invitation "
            "and a new private link.",
        )
        return redirect("scheduling:manage", token=renewed)
    return render(
        request,
        "scheduling/move.html",
        {
            "booking": booking,
            "token": token,
            "zone": booking.patient_time_zone,
            "other_doctor": names[same_time[0].clinician_id].display_name if same_time else "",
        },
    )
