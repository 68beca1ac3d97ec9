"""Booking pages: choose where you will be → pick a time → it is held → sign in → the
questionnaire when needed → confirm."""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from clinic.accounts.decorators import person, role_required
from clinic.accounts.jurisdictions import country_of, jurisdiction_name
from clinic.accounts.models import Licence, PatientProfile, Role, User
from clinic.audit.actions import Via, audit_record
from clinic.audit.models import Action
from clinic.content.crisis import crisis_lines, generation
from clinic.intake.actions import booking_block, needs_safety_first, screen_for_booking
from clinic.scheduling import actions, availability, kept_pages
from clinic.scheduling.forms import ConfirmForm, HoldForm, SlotQueryForm, WaitlistForm
from clinic.scheduling.ics import booking_ics
from clinic.scheduling.journey import HOLDER_KEY, WAITING_HOLD_KEY
from clinic.scheduling.models import AppointmentType, Booking, BookingStatus, Hold
from clinic.scheduling.slots import Slot, group_by_local_day

DAYS_SHOWN = 7


def holder_key(request: HttpRequest) -> str:
    """A random key for this browser's holds, kept in the session (it survives sign-in)."""
    key = request.session.get(HOLDER_KEY)
    if not key:
        key = request.session[HOLDER_KEY] = secrets.token_urlsafe(24)
    return key


@dataclass
class DayOfSlots:
    """One local day of free times. ``transition``: the zone's clocks change that day, so a wall
    time may occur twice (or not at all) and each time is shown with its abbreviation (EDT, EST)."""

    day: dt.date
    times: list[Slot]
    zone: str = "UTC"
    transition: bool = False
    names: dict[str, str] | None = None

    @property
    def rows(self) -> list[tuple[Slot, str, str]]:
        """Each time with its doctor's name (for pages that show who) and, on a day the clocks
        change, the zone's abbreviation at that instant."""
        names = self.names or {}
        tz = ZoneInfo(self.zone)
        return [
            (
                slot,
                names.get(slot.clinician_id, ""),
                (slot.start.astimezone(tz).tzname() or "") if self.transition else "",
            )
            for slot in self.times
        ]


def _clocks_change(day: dt.date, tz: ZoneInfo) -> bool:
    start = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return start.utcoffset() != end.utcoffset()


def slot_days(
    *,
    jurisdiction: str,
    zone: str,
    clinician_id: str | None,
    first_day: dt.date,
    days: int,
    ignore_booking: Booking | None = None,
    one_per_time: bool = True,
    appointment_type: AppointmentType | None = None,
    licences: list[Licence] | None = None,
) -> tuple[list[DayOfSlots], dict[str, str]]:
    """Free times for ``days`` local days from ``first_day`` in the patient's zone. With any
    doctor and ``one_per_time``, each time appears once (the doctor is chosen when the time is
    held); otherwise each doctor's times are listed. ``appointment_type``: the consultation's,
    and ``licences`` (``availability.usable_licences`` from the start of ``first_day`` or
    earlier), when the caller has read them already."""
    tz = ZoneInfo(zone)
    appointment_type = appointment_type or actions.consultation_type()
    start = dt.datetime.combine(first_day, dt.time.min, tzinfo=tz).astimezone(dt.UTC)
    end = dt.datetime.combine(first_day + dt.timedelta(days=days), dt.time.min, tzinfo=tz).astimezone(dt.UTC)
    if ignore_booking is None:
        found, names = availability.cached_free_slots(
            jurisdiction=jurisdiction,
            appointment_type=appointment_type,
            start=start,
            end=end,
            clinician_ids=[clinician_id] if clinician_id else None,
            licences=licences,
        )
    else:  # rescheduling: the patient's own booking must not hide its neighbours
        found, clinicians = availability.free_slots(
            jurisdiction=jurisdiction,
            appointment_type=appointment_type,
            start=start,
            end=end,
            clinician_ids=[clinician_id] if clinician_id else None,
            ignore_booking=ignore_booking,
        )
        names = {public_id: c.display_name for public_id, c in clinicians.items()}
    if clinician_id is None and one_per_time:
        unique: dict[dt.datetime, Slot] = {}
        for slot in found:
            unique.setdefault(slot.start, slot)
        found = list(unique.values())
    by_day = dict(group_by_local_day(found, zone))
    # Every day is listed, empty ones too: a weekend that silently vanishes is confusing.
    every_day = [first_day + dt.timedelta(days=n) for n in range(days)]
    return [
        DayOfSlots(day, by_day.get(day, []), zone, _clocks_change(day, tz), names) for day in every_day
    ], names


@require_safe
def book(request: HttpRequest) -> HttpResponse:
    """Step 1 and 2: where you will be, then the free times in your zone. A visitor without a
    session may be given the page as it was made for the last one (``kept_pages``)."""
    if "jurisdiction" not in request.GET or "tz" not in request.GET or not kept_pages.may_keep(request):
        return _book(request)
    now = timezone.now()
    key = f"{generation()}:{request.get_full_path()}"
    current = kept_pages.version()
    served = kept_pages.served(request, key, current, now)
    if served is not None:
        return served
    response = _book(request, csrf_token=kept_pages.PLACEHOLDER)
    if response.status_code != 200:
        return response
    return kept_pages.keep(request, key, current, now, response)


def _book(request: HttpRequest, csrf_token: str | None = None) -> HttpResponse:
    """The page itself; ``csrf_token``: what to write where the forms' token goes, when the
    page is made to be kept."""
    token = {"csrf_token": csrf_token} if csrf_token else {}
    initial_zone = request.user.time_zone if request.user.is_authenticated else ""
    if "jurisdiction" not in request.GET or "tz" not in request.GET:
        # A link may name the place only ("Find a doctor licensed in Texas"): ask for the zone,
        # keeping the place.
        initial = {
            "tz": request.GET.get("tz") or initial_zone,
            "jurisdiction": request.GET.get("jurisdiction", ""),
        }
        form = SlotQueryForm(initial=initial)
        return render(request, "scheduling/book.html", {"form": form})
    form = SlotQueryForm(request.GET)
    if not form.is_valid():
        return render(request, "scheduling/book.html", {"form": form}, status=400)
    data = form.cleaned_data
    zone, jurisdiction = data["tz"], data["jurisdiction"]
    today = timezone.now().astimezone(ZoneInfo(zone)).date()
    first_day = max(data["start"] or today, today)
    consultation = actions.consultation_type()
    horizon = consultation.horizon_days
    first_day = min(first_day, today + dt.timedelta(days=horizon))
    # The licences once, for the doctors' list and every week of times the page looks at.
    licences = availability.usable_licences(
        jurisdiction, from_=dt.datetime.combine(today, dt.time.min, tzinfo=ZoneInfo(zone))
    )
    doctors = availability.licensed_clinicians(jurisdiction, licences)
    clinician_id = data["clinician"]
    if clinician_id and clinician_id not in {str(d.public_id) for d in doctors}:
        form.add_error("clinician", "That doctor is not licensed where you will be. Choose another.")
        return render(request, "scheduling/book.html", {"form": form}, status=400)
    days, _ = slot_days(
        jurisdiction=jurisdiction,
        zone=zone,
        clinician_id=clinician_id,
        first_day=first_day,
        days=DAYS_SHOWN,
        appointment_type=consultation,
        licences=licences,
    )
    any_in_horizon = any(d.times for d in days)
    if not any_in_horizon and doctors:
        horizon_days, _ = slot_days(
            jurisdiction=jurisdiction,
            zone=zone,
            clinician_id=clinician_id,
            first_day=today,
            days=horizon + 1,
            appointment_type=consultation,
            licences=licences,
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
            **token,
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
        return taken_page(request, exc, data["jurisdiction"], data["tz"], data["start"])
    return redirect("scheduling:confirm", hold_id=held.public_id)


def taken_page(
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


def own_hold(request: HttpRequest, hold_id: uuid.UUID) -> Hold:
    held = Hold.objects.select_related("clinician", "appointment_type").filter(public_id=hold_id).first()
    if held is None or held.session_key_hash != actions.session_hash(holder_key(request)):
        raise Http404("No such hold.")
    return held


def pre_confirm_step(request: HttpRequest, held: Hold) -> HttpResponse | None:
    """The seam before "confirm": a step that must happen first returns its redirect here.
    An acute screen waiting for a clinician gives the time back and shows the crisis page (a
    booking is not the answer); the questionnaire comes first when the latest screen is not a
    recent complete one, and comes back here."""
    patient = person(request)
    block = booking_block(patient)
    if block is not None:
        actions.do_release_holds(holder=holder_key(request))
        return redirect("intake:crisis", intake_id=block.intake.public_id)  # type: ignore[union-attr]
    if screen_for_booking(patient) is None:
        request.session[WAITING_HOLD_KEY] = str(held.public_id)
        back = reverse("scheduling:confirm", args=[held.public_id])
        return redirect(f"{reverse('intake:start')}?{urlencode({'next': back})}")
    return None


@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, hold_id: uuid.UUID) -> HttpResponse:
    """Step 4 and 5: sign in or create an account, then confirm."""
    if request.method == "POST" and isinstance(request.user, User):
        # A retry after the first one went through (a timeout, a refresh): the same booking.
        try:
            key = str(uuid.UUID(request.POST.get("idempotency_key", "")))
        except ValueError:
            key = ""
        twin = actions.booking_for_key(request.user, key) if key else None
        if twin is not None:
            return redirect("scheduling:booked", booking_id=twin.public_id)
    held = own_hold(request, hold_id)
    expired = held.expires_at <= timezone.now()
    context = {
        "hold": held,
        "zone": held.patient_time_zone,
        "expired": expired,
        "place": jurisdiction_name(held.jurisdiction),
    }
    if not request.user.is_authenticated:
        return render(request, "scheduling/hold_sign_in.html", context)
    user: User = request.user
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
    context["safety_first"] = needs_safety_first(user)
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
        booking, _ = actions.do_book(
            patient=user,
            hold=held,
            holder=holder_key(request),
            idempotency_key=str(form.cleaned_data["idempotency_key"]),
            date_of_birth=form.cleaned_data.get("date_of_birth"),
            via=Via.of(request),
        )
    except actions.NotAdult as exc:
        actions.do_release_holds(holder=holder_key(request))
        return render(
            request,
            "content/not_adult.html",
            {"message": exc.message, "lines": crisis_lines(profile.country if profile else None)},
            status=403,
        )
    except actions.SafetyHold:
        return pre_confirm_step(request, held) or redirect("accounts:home")
    except actions.BookingError as exc:
        # The same confirmation sent twice at once (a double click, two tabs): the second one
        # waited for the first and answers with its booking.
        twin = actions.booking_for_key(user, str(form.cleaned_data["idempotency_key"]))
        if twin is not None:
            return redirect("scheduling:booked", booking_id=twin.public_id)
        if isinstance(exc, actions.SlotTaken):
            return taken_page(request, exc, held.jurisdiction, held.patient_time_zone, held.start)
        context["error"] = exc.message
        return render(request, "scheduling/confirm.html", context, status=409)
    # The raw manage token goes only into the email (sealed on its way): never the session.
    return redirect("scheduling:booked", booking_id=booking.public_id)


def own_booking(request: HttpRequest, booking_id: uuid.UUID) -> Booking:
    """The signed-in patient's booking, or 404."""
    return get_object_or_404(
        Booking.objects.for_patient(person(request)).select_related("clinician", "appointment_type"),
        public_id=booking_id,
    )


@role_required(Role.PATIENT)
@require_safe
def booked(request: HttpRequest, booking_id: uuid.UUID) -> HttpResponse:
    booking = own_booking(request, booking_id)
    audit_record(
        action=Action.BOOKING_VIEWED,
        actor=person(request),
        subject=booking,
        patient=booking.patient,
        via=Via.of(request),
    )
    return render(
        request,
        "scheduling/booked.html",
        {
            "booking": booking,
            "zone": booking.patient_time_zone,
            "lines": crisis_lines(country_of(booking.jurisdiction)),
        },
    )


@role_required(Role.PATIENT)
@require_safe
def booked_ics(request: HttpRequest, booking_id: uuid.UUID) -> HttpResponse:
    booking = own_booking(request, booking_id)
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
        patient=request.user if request.user.is_authenticated else None,
        via=Via.of(request),
    )
    return render(
        request, "scheduling/waitlisted.html", {"place": jurisdiction_name(form.cleaned_data["jurisdiction"])}
    )
