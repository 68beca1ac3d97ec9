"""Each role's home page and the staff's audit viewer: pages that gather several domains, so
they live at the top."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from clinic.accounts.actions import do_set_time_zone
from clinic.accounts.decorators import AuthedRequest, role_required
from clinic.accounts.forms import TimeZoneForm
from clinic.accounts.jurisdictions import jurisdiction_name
from clinic.accounts.models import Licence, PatientProfile, Role, User
from clinic.accounts.validators import age_on
from clinic.audit.actions import Via, audit_record
from clinic.audit.forms import AuditFilterForm
from clinic.audit.models import Action, AuditEvent
from clinic.care.lapses import lapsing
from clinic.care.models import TreatmentPlan
from clinic.care.today import DaySession, sessions_between
from clinic.content.models import ContactMessage, ContactStatus
from clinic.intake.models import UrgentItem
from clinic.measures import actions as measures
from clinic.scheduling.availability import uncovered_bookings
from clinic.scheduling.models import Booking, BookingStatus
from clinic.visits.access import WindowState, window_state
from clinic.visits.identity import identity_of
from clinic.visits.live import is_blocked
from clinic.visits.models import BreakGlass, ConsultNote, Visit


@role_required(Role.PATIENT)
@require_http_methods(["GET", "POST"])
def patient_home(request: AuthedRequest) -> HttpResponse:
    user = request.user
    form = TimeZoneForm(request.POST or None, initial={"time_zone": user.time_zone})
    if request.method == "POST" and form.is_valid():
        do_set_time_zone(actor=user, time_zone=form.cleaned_data["time_zone"], via=Via.of(request))
        messages.success(request, "Time zone saved.")
        return redirect("portal:patient_home")
    now = timezone.now()
    bookings = (
        Booking.objects.for_patient(user).select_related("clinician", "appointment_type").order_by("-start")
    )
    upcoming = [b for b in bookings if b.end >= now and b.is_active][::-1]
    for booking in upcoming:
        # A session in clinic is not a video visit: no Join button for it.
        booking.join_open = (  # type: ignore[attr-defined]
            not booking.appointment_type.in_person and window_state(booking, now) == WindowState.OPEN
        )
    past = [b for b in bookings if not (b.end >= now and b.is_active)][:10]
    with_message = set(
        ConsultNote.objects.filter(booking__in=past, signed_at__isnull=False).values_list(
            "booking_id", flat=True
        )
    )
    for booking in past:
        booking.has_message = booking.pk in with_message  # type: ignore[attr-defined]
    plan = TreatmentPlan.objects.for_patient(user).open().first()
    context = {"form": form, "upcoming": upcoming, "past": past, "has_plan": plan is not None}
    return render(
        request, "portal/patient_home.html", context, status=400 if request.method == "POST" else 200
    )


@dataclass
class UrgentCard:
    """Everything the on-call clinician needs to find and identify the person, to send emergency
    services if it comes to that (decrypted here, and the showing is audited)."""

    item: UrgentItem
    legal_name: str
    preferred_name: str
    born: dt.date | None
    age: int | None
    home_address: str
    country: str
    phone: str
    emergency_contact: str
    emergency_phone: str
    where_booked: str  # the jurisdiction of their latest booking, if any
    attested_address: str  # where they said they were at their latest visit, if any


def urgent_cards(items: list[UrgentItem]) -> list[UrgentCard]:
    """The cards, acute first. Their showing is audited with the page (one row naming every
    patient listed, ``clinician_home``)."""
    now = timezone.now()
    patients = {item.patient_id for item in items}
    profiles = {p.user_id: p for p in PatientProfile.objects.filter(user_id__in=patients)}
    latest_booking: dict[int, Booking] = {}
    for booking in Booking.objects.filter(patient_id__in=patients).order_by("start"):
        latest_booking[booking.patient_id] = booking
    attested: dict[int, str] = {}
    for visit in (
        Visit.objects.filter(booking__patient_id__in=patients, attested_at__isnull=False)
        .order_by("attested_at")
        .select_related("booking")
    ):
        attested[visit.booking.patient_id] = visit.attested_address
    cards = []
    for item in sorted(items, key=lambda i: (i.priority, i.created_at)):
        profile = profiles.get(item.patient_id) or PatientProfile(user=item.patient)
        born = profile.birth_date
        latest = latest_booking.get(item.patient_id)
        cards.append(
            UrgentCard(
                item=item,
                legal_name=profile.legal_name,
                preferred_name=profile.preferred_name,
                born=born,
                age=age_on(born, now.date()) if born else None,
                home_address=profile.home_address,
                country=profile.country,
                phone=item.phone or profile.phone,
                emergency_contact=profile.emergency_contact_name,
                emergency_phone=profile.emergency_contact_phone,
                where_booked=jurisdiction_name(latest.jurisdiction) if latest else "",
                attested_address=attested.get(item.patient_id, ""),
            )
        )
    return cards


@role_required(Role.CLINICIAN)
@require_safe
def clinician_home(request: AuthedRequest) -> HttpResponse:
    """Urgent items on top (for whoever is on call: acute first, same-day follow-ups below),
    then today's and upcoming appointments."""
    clinician = request.user
    now = timezone.now()
    urgent: list[UrgentCard] = []
    if clinician in User.objects.on_call():
        waiting = list(UrgentItem.objects.filter(acknowledged_at__isnull=True).select_related("patient"))
        urgent = urgent_cards(waiting)
    upcoming = list(
        Booking.objects.for_clinician(clinician)
        .filter(status=BookingStatus.CONFIRMED, end__gte=now)
        .select_related("patient", "intake", "patient__patient_profile")
        .order_by("start")[:50]
    )
    visits = {v.booking_id: v for v in Visit.objects.filter(booking__in=upcoming)}
    for booking in upcoming:
        profile: PatientProfile | None = getattr(booking.patient, "patient_profile", None)
        booking.preferred = (profile.preferred_name or profile.legal_name) if profile else ""  # type: ignore[attr-defined]
        booking.join_open = window_state(booking, now) == WindowState.OPEN  # type: ignore[attr-defined]
        visit = visits.get(booking.pk)
        booking.waiting = bool(visit and visit.waiting_since and not visit.admitted_at)  # type: ignore[attr-defined]
        # Who they are (to confirm at the start) and whether they are stuck for location.
        booking.identity = identity_of(booking, visit=visit, profile=profile)  # type: ignore[attr-defined]
        booking.blocked = bool(visit and is_blocked(booking, visit))  # type: ignore[attr-defined]
    attention = [(item, measures.explain(item)) for item in measures.attention_for(clinician)]
    # The clinician's plans whose legal basis or PDMP check lapses soon, before it bites.
    lapses = lapsing(clinician=clinician, now=now)
    for lapse in lapses:
        lapse_profile: PatientProfile | None = getattr(lapse.plan.patient, "patient_profile", None)
        lapse.plan.known_as = (  # type: ignore[attr-defined]
            lapse_profile.preferred_name if lapse_profile else ""
        ) or lapse.plan.patient.display_name
    day_sessions = _todays_sessions(clinician)
    # Scores, the item-9 flag, triage, dates of birth and addresses of every patient listed, the
    # reasons of the needs-attention list, the lapsing plans and today's sessions: one read, naming
    # them all.
    with transaction.atomic():
        audit_record(
            action=Action.DASHBOARD_VIEWED,
            actor=clinician,
            via=Via.of(request),
            patients=[b.patient for b in upcoming]
            + [card.item.patient for card in urgent]
            + [item.patient for item, _ in attention]
            + [lapse.plan.patient for lapse in lapses]
            + [s.patient for s in day_sessions],
        )
    return render(
        request,
        "portal/clinician_home.html",
        {
            "urgent": urgent,
            "attention": attention,
            "upcoming": upcoming,
            "zone": clinician.time_zone,
            "on_call": clinician.on_call,
            "uncovered": uncovered_bookings(clinician=clinician),
            "lapses": lapses,
            "pulse": _pulse_of(clinician),
            "day_sessions": day_sessions,
        },
    )


def _todays_sessions(user: User) -> list[DaySession]:
    """The treatment sessions of the person's day, in their own zone."""
    start = dt.datetime.combine(timezone.now().astimezone(user.zone).date(), dt.time.min, tzinfo=user.zone)
    return sessions_between(user=user, start=start, end=start + dt.timedelta(days=1))


def _pulse_of(clinician: User) -> str:
    """A fingerprint of what the clinician's dashboard shows, without any personal data: the
    page reloads (and so re-audits) only when it changes."""
    now = timezone.now()
    upcoming = list(
        Booking.objects.for_clinician(clinician)
        .filter(status=BookingStatus.CONFIRMED, end__gte=now)
        .select_related("appointment_type")
        .order_by("start")[:50]
    )
    visits = {v.booking_id: v for v in Visit.objects.filter(booking__in=upcoming)}
    rows = []
    for booking in upcoming:
        visit = visits.get(booking.pk)
        rows.append(
            (
                str(booking.public_id),
                window_state(booking, now),
                visit and (visit.attested_at, visit.waiting_since, visit.admitted_at),
            )
        )
    unacknowledged = UrgentItem.objects.filter(acknowledged_at__isnull=True)
    on_call = clinician in User.objects.on_call()
    urgent = sorted(str(i) for i in unacknowledged.values_list("public_id", flat=True)) if on_call else []
    attention = sorted(str(item.public_id) for item in measures.attention_for(clinician))
    return hashlib.sha256(repr((rows, urgent, attention)).encode()).hexdigest()[:16]


@role_required(Role.CLINICIAN)
@require_safe
def clinician_pulse(request: AuthedRequest) -> JsonResponse:
    return JsonResponse({"pulse": _pulse_of(request.user)})


@role_required(Role.CLINICIAN)
@require_safe
def patients(request: AuthedRequest) -> HttpResponse:
    """The clinician's patients: everyone with a booking with them, most recent first, with the
    next and the last appointment."""
    clinician = request.user
    now = timezone.now()
    rows: dict[int, dict[str, Any]] = {}
    for booking in (
        Booking.objects.for_clinician(clinician)
        .select_related("patient", "patient__patient_profile")
        .order_by("start")
    ):
        row = rows.setdefault(
            booking.patient_id, {"patient": booking.patient, "next": None, "last": None, "count": 0}
        )
        row["count"] += 1
        if booking.status == BookingStatus.CONFIRMED and booking.end >= now and row["next"] is None:
            row["next"] = booking
        elif booking.start < now:
            row["last"] = booking
    people = []
    for row in rows.values():
        profile: PatientProfile | None = getattr(row["patient"], "patient_profile", None)
        row["name"] = ((profile.preferred_name or profile.legal_name) if profile else "") or row[
            "patient"
        ].display_name
        people.append(row)
    people.sort(key=lambda r: (r["next"] is None, r["next"].start if r["next"] else now, r["name"].lower()))
    # Who the clinician's patients are: one read, naming them all (like the dashboard).
    with transaction.atomic():
        audit_record(
            action=Action.DASHBOARD_VIEWED,
            actor=clinician,
            via=Via.of(request),
            reason="patients",
            patients=[row["patient"] for row in people],
        )
    return render(request, "portal/patients.html", {"people": people, "zone": clinician.time_zone})


@role_required(Role.NURSE)
@require_safe
def nurse_home(request: AuthedRequest) -> HttpResponse:
    """A nurse's day: the treatment sessions they are scheduled with, and only those patients."""
    day_sessions = _todays_sessions(request.user)
    with transaction.atomic():
        audit_record(
            action=Action.DASHBOARD_VIEWED,
            actor=request.user,
            via=Via.of(request),
            reason="nurse",
            patients=[s.patient for s in day_sessions],
        )
    return render(
        request, "portal/nurse_home.html", {"day_sessions": day_sessions, "zone": request.user.time_zone}
    )


@role_required(Role.STAFF)
@require_safe
def staff_home(request: AuthedRequest) -> HttpResponse:
    today = timezone.now().date()
    # Escalated acute items: in red until a clinician acknowledges them. Staff see who and since
    # when, to chase the on-call clinician, never what was answered.
    escalated = list(
        UrgentItem.objects.filter(acknowledged_at__isnull=True, escalated_at__isnull=False)
        .select_related("patient")
        .order_by("created_at")
    )
    new_messages = ContactMessage.objects.filter(status=ContactStatus.NEW).count()
    unreviewed_break_glass = BreakGlass.objects.filter(reviewed_at__isnull=True).count()
    expiring = Licence.objects.filter(
        expires_on__gte=today, expires_on__lte=today + dt.timedelta(days=60)
    ).count()
    # Today in the staff member's own zone, like the day view.
    local_day = timezone.now().astimezone(request.user.zone).date()
    day_start = dt.datetime.combine(local_day, dt.time.min, tzinfo=request.user.zone)
    today_bookings = (
        Booking.objects.filter(start__gte=day_start, start__lt=day_start + dt.timedelta(days=1))
        .exclude(status=BookingStatus.CANCELLED)
        .count()
    )
    licences = Licence.objects.filter(
        clinician__is_active=True, clinician__role__in=[Role.CLINICIAN, Role.NURSE]
    )
    to_verify = licences.filter(verified_at__isnull=True).count()
    expired = licences.filter(expires_on__lt=today).count()
    return render(
        request,
        "portal/staff_home.html",
        {
            "escalated": escalated,
            "uncovered": uncovered_bookings(),
            "on_call": User.objects.on_call(),
            "new_messages": new_messages,
            "unreviewed_break_glass": unreviewed_break_glass,
            "expiring": expiring,
            "today_bookings": today_bookings,
            "waiting_items": new_messages + unreviewed_break_glass,
            "to_verify": to_verify,
            "expired": expired,
            "licence_problems": to_verify + expired + expiring,
        },
    )


@role_required(Role.STAFF)
@require_safe
def audit_log(request: AuthedRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    events = AuditEvent.objects.select_related("actor", "patient")
    if form.is_valid():
        data = form.cleaned_data
        if data["actor"]:
            events = events.filter(actor_label__icontains=data["actor"])
        if data["action"]:
            events = events.filter(action=data["action"])
        if data["patient"]:
            # Rows about the patient, and list pages that showed them among others.
            events = events.filter(
                Q(patient__public_id=data["patient"]) | Q(patients__icontains=str(data["patient"]))
            )
        if data["subject"]:
            events = events.filter(subject_id=data["subject"])
        if data["since"]:
            events = events.filter(at__gte=dt.datetime.combine(data["since"], dt.time.min, tzinfo=dt.UTC))
        if data["until"]:
            events = events.filter(
                at__lt=dt.datetime.combine(data["until"] + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
            )
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    # Reading the log is itself an event: who looked at whose history.
    audit_record(action=Action.AUDIT_VIEWED, actor=request.user, via=Via.of(request))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "portal/audit_log.html",
        {"form": form, "page": page, "query": query.urlencode()},
        status=400 if form.is_bound and not form.is_valid() else 200,
    )
