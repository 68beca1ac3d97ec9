"""Booking pages: choose where you will be → pick a time → it is held → sign in → confirm.

The manage pages (``/manage/<token>/``) work from the emailed link without signing in: the
token is the key, and only its hash is stored.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from clinic.accounts.decorators import person, role_required
from clinic.accounts.models import PatientProfile, Role, User
from clinic.audit.actions import audit_record
from clinic.audit.models import Action
from clinic.content.crisis import crisis_lines
from clinic.scheduling import actions, availability
from clinic.scheduling.forms import ZONES, CancelForm, ConfirmForm, HoldForm, SlotQueryForm, WaitlistForm
from clinic.scheduling.ics import booking_ics
from clinic.scheduling.jurisdictions import country_of, jurisdiction_name
from clinic.scheduling.models import Booking, BookingStatus, Hold, hash_token
from clinic.scheduling.slots import Slot, group_by_local_day

DAYS_SHOWN = 7


def holder_key(request: HttpRequest) -> str:
    """A random key for this browser's holds, kept in the session (it survives sign-in)."""
    key = request.session.get("hold_holder")
    if not key:
        key = request.session["hold_holder"] = secrets.token_urlsafe(24)
    return key


@dataclass
class DayOfSlots:
    day: dt.date
    times: list[Slot]


def slot_days(
    *,
    jurisdiction: str,
    zone: str,
    clinician_id: str | None,
    first_day: dt.date,
    days: int,
    ignore_booking: Booking | None = None,
) -> tuple[list[DayOfSlots], dict[str, str]]:
    """Free times for ``days`` local days from ``first_day`` in the patient's zone. With any
    doctor, each time appears once (the doctor is chosen when the time is held)."""
    tz = ZoneInfo(zone)
    start = dt.datetime.combine(first_day, dt.time.min, tzinfo=tz).astimezone(dt.UTC)
    end = dt.datetime.combine(first_day + dt.timedelta(days=days), dt.time.min, tzinfo=tz).astimezone(dt.UTC)
    if ignore_booking is None:
        found, names = availability.cached_free_slots(
            jurisdiction=jurisdiction,
            appointment_type=actions.consultation_type(),
            start=start,
            end=end,
            clinician_ids=[clinician_id] if clinician_id else None,
        )
    else:  # rescheduling: the patient's own booking must not hide its neighbours
        found, clinicians = availability.free_slots(
            jurisdiction=jurisdiction,
            appointment_type=actions.consultation_type(),
            start=start,
            end=end,
            clinician_ids=[clinician_id] if clinician_id else None,
            ignore_booking=ignore_booking,
        )
        names = {public_id: c.display_name for public_id, c in clinicians.items()}
    if clinician_id is None:
        unique: dict[dt.datetime, Slot] = {}
        for slot in found:
            unique.setdefault(slot.start, slot)
        found = list(unique.values())
    by_day = dict(group_by_local_day(found, zone))
    # Every day is listed, empty ones too: a weekend that silently vanishes is confusing.
    every_day = [first_day + dt.timedelta(days=n) for n in range(days)]
    return [DayOfSlots(day, by_day.get(day, [])) for day in every_day], names


@require_safe
def book(request: HttpRequest) -> HttpResponse:
    """Step 1 and 2: where you will be, then the free times in your zone."""
    initial_zone = request.user.time_zone if request.user.is_authenticated else ""
    if "jurisdiction" not in request.GET:
        form = SlotQueryForm(initial={"tz": initial_zone})
        return render(request, "scheduling/book.html", {"form": form, "zones": ZONES})
    form = SlotQueryForm(request.GET)
    if not form.is_valid():
        return render(request, "scheduling/book.html", {"form": form, "zones": ZONES}, status=400)
    data = form.cleaned_data
    zone, jurisdiction = data["tz"], data["jurisdiction"]
    today = timezone.now().astimezone(ZoneInfo(zone)).date()
    first_day = max(data["start"] or today, today)
    horizon = actions.consultation_type().horizon_days
    first_day = min(first_day, today + dt.timedelta(days=horizon))
    doctors = availability.licensed_clinicians(jurisdiction)
    clinician_id = data["clinician"]
    if clinician_id and clinician_id not in {str(d.public_id) for d in doctors}:
        form.add_error("clinician", "That doctor is not licensed where you will be. Choose another.")
        return render(request, "scheduling/book.html", {"form": form, "zones": ZONES}, status=400)
    days, _ = slot_days(
        jurisdiction=jurisdiction, zone=zone, clinician_id=clinician_id, first_day=first_day, days=DAYS_SHOWN
    )
    any_in_horizon = any(d.times for d in days)
    if not any_in_horizon and doctors:
        horizon_days, _ = slot_days(
            jurisdiction=jurisdiction, zone=zone, clinician_id=clinician_id, first_day=today, days=horizon + 1
        )
        any_in_horizon = any(d.times for d in horizon_days)
    email = request.user.email if request.user.is_authenticated else ""
    return render(
        request,
        "scheduling/slots.html",
        {
            "form": form,
            "zone": zone,
            "jurisdiction": jurisdiction,
            "place": jurisdiction_name(jurisdiction),
            "doctors": doctors,
            "clinician_id": clinician_id or "any",
            "chosen_clinician": clinician_id or "",
            "days": days,
            "first_day": first_day,
            "prev_day": first_day - dt.timedelta(days=DAYS_SHOWN) if first_day > today else None,
            "next_day": first_day + dt.timedelta(days=DAYS_SHOWN)
            if first_day + dt.timedelta(days=DAYS_SHOWN) <= today + dt.timedelta(days=horizon)
            else None,
            "waitlist": not doctors or not any_in_horizon,
            "waitlist_form": WaitlistForm(initial={"jurisdiction": jurisdiction, "email": email}),
        },
    )


@require_POST
def hold(request: HttpRequest) -> HttpResponse:
    """Step 3: keep the chosen time for a few minutes."""
    form = HoldForm(request.POST)
    if not form.is_valid():
        return render(request, "scheduling/problem.html", {"errors": form.errors}, status=400)
    data = form.cleaned_data
    try:
        held = actions.do_hold(
            holder=holder_key(request),
            jurisdiction=data["jurisdiction"],
            start=data["start"],
            patient_time_zone=data["tz"],
            clinician_id=str(data["clinician"]) if data["clinician"] else None,
        )
    except actions.SlotTaken as exc:
        return _taken(request, exc, data["jurisdiction"], data["tz"], data["start"])
    return redirect("scheduling:confirm", hold_id=held.public_id)


def _taken(
    request: HttpRequest,
    exc: actions.BookingError,
    jurisdiction: str,
    zone: str,
    near: dt.datetime,
    ignore_booking: Booking | None = None,
    hold_url: str = "",
) -> HttpResponse:
    first_day = max(near.astimezone(ZoneInfo(zone)).date(), timezone.now().astimezone(ZoneInfo(zone)).date())
    days, _ = slot_days(
        jurisdiction=jurisdiction,
        zone=zone,
        clinician_id=None,
        first_day=first_day,
        days=3,
        ignore_booking=ignore_booking,
    )
    upcoming = [slot for day in days for slot in day.times][:6]
    return render(
        request,
        "scheduling/taken.html",
        {
            "message": exc.message,
            "upcoming": upcoming,
            "zone": zone,
            "jurisdiction": jurisdiction,
            "hold_url": hold_url or reverse("scheduling:hold"),
        },
        status=409,
    )


def _own_hold(request: HttpRequest, hold_id: uuid.UUID) -> Hold:
    held = Hold.objects.select_related("clinician", "appointment_type").filter(public_id=hold_id).first()
    if held is None or held.session_key_hash != actions.session_hash(holder_key(request)):
        raise Http404("No such hold.")
    return held


def pre_confirm_step(request: HttpRequest, held: Hold) -> HttpResponse | None:
    """The seam before "confirm": a step that must happen first returns its redirect here.
    The intake questionnaire comes first when there is no recent one."""
    from clinic.intake.actions import fresh_intake

    if fresh_intake(person(request)) is None:
        return redirect(f"{reverse('intake:start')}?hold={held.public_id}")
    return None


@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, hold_id: uuid.UUID) -> HttpResponse:
    """Step 4 and 5: sign in or create an account, then confirm."""
    held = _own_hold(request, hold_id)
    expired = held.expires_at <= timezone.now()
    context = {
        "hold": held,
        "zone": held.patient_time_zone,
        "expired": expired,
        "place": jurisdiction_name(held.jurisdiction),
    }
    if not request.user.is_authenticated:
        return render(request, "scheduling/hold_sign_in.html", context)
    user: User = request.user  # type: ignore[assignment]
    if user.role != Role.PATIENT:
        return render(
            request,
            "scheduling/problem.html",
            {"message": "Bookings are made from a patient account."},
            status=403,
        )
    if expired:
        return render(request, "scheduling/confirm.html", context, status=410)
    step = pre_confirm_step(request, held)
    if step is not None:
        return step
    profile = PatientProfile.objects.filter(user=user).first()
    needs_birth_date = not (profile and profile.date_of_birth)
    from clinic.intake.actions import fresh_intake
    from clinic.intake.models import TriageLevel

    recent = fresh_intake(user)
    context["safety_first"] = recent is not None and recent.triage == TriageLevel.SAFETY_FIRST
    context["lines"] = crisis_lines(profile.country if profile else None)
    form = ConfirmForm(
        request.POST or None, needs_birth_date=needs_birth_date, initial={"idempotency_key": uuid.uuid4()}
    )
    context["form"] = form
    if request.method == "GET":
        return render(request, "scheduling/confirm.html", context)
    if not form.is_valid():
        return render(request, "scheduling/confirm.html", context, status=400)
    try:
        booking, token = actions.do_book(
            patient=user,
            hold=held,
            holder=holder_key(request),
            idempotency_key=str(form.cleaned_data["idempotency_key"]),
            date_of_birth=form.cleaned_data.get("date_of_birth"),
            request=request,
        )
    except actions.NotAdult as exc:
        held.delete()
        return render(
            request,
            "scheduling/not_adult.html",
            {"message": exc.message, "lines": crisis_lines()},
            status=403,
        )
    except actions.SlotTaken as exc:
        return _taken(request, exc, held.jurisdiction, held.patient_time_zone, held.start)
    except actions.BookingError as exc:
        context["error"] = exc.message
        return render(request, "scheduling/confirm.html", context, status=409)
    if token:
        request.session[f"manage:{booking.public_id}"] = token
    return redirect("scheduling:booked", booking_id=booking.public_id)


def _own_booking(request: HttpRequest, booking_id: uuid.UUID) -> Booking:
    return get_object_or_404(
        Booking.objects.select_related("clinician", "appointment_type"),
        public_id=booking_id,
        patient=request.user,
    )


@role_required(Role.PATIENT)
@require_safe
def booked(request: HttpRequest, booking_id: uuid.UUID) -> HttpResponse:
    booking = _own_booking(request, booking_id)
    audit_record(
        action=Action.BOOKING_VIEWED,
        actor=person(request),
        subject=booking,
        patient=booking.patient,
        request=request,
    )  # type: ignore[arg-type]
    token = request.session.get(f"manage:{booking.public_id}")
    return render(
        request,
        "scheduling/booked.html",
        {
            "booking": booking,
            "zone": booking.patient_time_zone,
            "manage_url": request.build_absolute_uri(reverse("scheduling:manage", args=[token]))
            if token
            else "",
            "lines": crisis_lines(country_of(booking.jurisdiction)),
        },
    )


@role_required(Role.PATIENT)
@require_safe
def booked_ics(request: HttpRequest, booking_id: uuid.UUID) -> HttpResponse:
    booking = _own_booking(request, booking_id)
    method = "REQUEST" if booking.status == BookingStatus.CONFIRMED else "CANCEL"
    response = HttpResponse(booking_ics(booking, method=method), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="appointment.ics"'
    return response


@require_POST
def waitlist(request: HttpRequest) -> HttpResponse:
    form = WaitlistForm(request.POST)
    if not form.is_valid():
        return render(request, "scheduling/problem.html", {"errors": form.errors}, status=400)
    actions.do_join_waitlist(
        email=form.cleaned_data["email"],
        jurisdiction=form.cleaned_data["jurisdiction"],
        patient=request.user if request.user.is_authenticated else None,  # type: ignore[arg-type]
        request=request,
    )
    return render(
        request, "scheduling/waitlisted.html", {"place": jurisdiction_name(form.cleaned_data["jurisdiction"])}
    )


# Manage link ----------------------------------------------------------------------------------


def _managed(token: str) -> Booking:
    booking = (
        Booking.objects.select_related("clinician", "appointment_type", "patient")
        .filter(manage_token_hash=hash_token(token))
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
        actions.do_cancel(actor=actor, booking=booking, reason=reason, request=request)  # type: ignore[arg-type]
    except actions.BookingError as exc:
        messages.error(request, exc.message)
        return redirect("scheduling:manage", token=token)
    messages.success(request, "Your appointment is cancelled. We have emailed you to confirm.")
    return redirect("scheduling:manage", token=token)


@dataclass
class RescheduleRoutes:
    """Where a reschedule goes: the emailed manage link and the signed-in account share the flow."""

    pick: str
    back: str
    confirm_name: str
    confirm_args: list[Any]


def _reschedule_pick(request: HttpRequest, booking: Booking, routes: RescheduleRoutes) -> HttpResponse:
    if booking.status != BookingStatus.CONFIRMED or not actions.in_cutoff(booking):
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
                reschedule_of=booking,
            )
        except actions.SlotTaken as exc:
            return _taken(
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
    start_param = request.GET.get("start", "")
    try:
        first_day = max(dt.date.fromisoformat(start_param), today) if start_param else today
    except ValueError:
        first_day = today
    days, _ = slot_days(
        jurisdiction=booking.jurisdiction,
        zone=zone,
        clinician_id=None,
        first_day=first_day,
        days=DAYS_SHOWN,
        ignore_booking=booking,
    )
    return render(
        request,
        "scheduling/reschedule.html",
        {
            "booking": booking,
            "zone": zone,
            "days": days,
            "hold_url": routes.pick,
            "back_url": routes.back,
            "next_day": first_day + dt.timedelta(days=DAYS_SHOWN),
            "prev_day": first_day - dt.timedelta(days=DAYS_SHOWN) if first_day > today else None,
        },
    )


def _reschedule_confirm(
    request: HttpRequest, booking: Booking, hold_id: uuid.UUID, routes: RescheduleRoutes
) -> HttpResponse:
    held = _own_hold(request, hold_id)
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
        actions.do_reschedule(
            actor=actor,  # type: ignore[arg-type]
            booking=booking,
            hold=held,
            holder=holder_key(request),
            request=request,
        )
    except actions.SlotTaken as exc:
        return _taken(
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
    messages.success(request, "Your appointment has a new time. We have emailed you an updated invitation.")
    return redirect(routes.back)


def _manage_routes(token: str) -> RescheduleRoutes:
    return RescheduleRoutes(
        pick=reverse("scheduling:manage_reschedule", args=[token]),
        back=reverse("scheduling:manage", args=[token]),
        confirm_name="scheduling:manage_reschedule_confirm",
        confirm_args=[token],
    )


def _account_routes(booking: Booking) -> RescheduleRoutes:
    return RescheduleRoutes(
        pick=reverse("scheduling:my_reschedule", args=[booking.public_id]),
        back=reverse("visits:my_appointment", args=[booking.public_id]),
        confirm_name="scheduling:my_reschedule_confirm",
        confirm_args=[booking.public_id],
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
    booking = _own_booking(request, booking_id)
    return _reschedule_pick(request, booking, _account_routes(booking))


@role_required(Role.PATIENT)
@require_http_methods(["GET", "POST"])
def my_reschedule_confirm(request: HttpRequest, booking_id: uuid.UUID, hold_id: uuid.UUID) -> HttpResponse:
    booking = _own_booking(request, booking_id)
    return _reschedule_confirm(request, booking, hold_id, _account_routes(booking))
