"""The visit and its record.

- The live visit: device check, where-are-you, waiting room, admission and the call (for its
  two participants only).
- The clinician's side: the appointment page with the intake and the note, signing, addenda,
  no-shows, follow-ups, the patient's chart, and break-glass access.
- The patient's side: their appointment, its doctor's message, cancelling, their data.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from clinic import dates
from clinic.accounts.decorators import AuthedRequest, person, role_required, signed_in
from clinic.accounts.jurisdictions import country_of, jurisdiction_name
from clinic.accounts.models import PatientProfile, Role, User
from clinic.accounts.validators import age_on
from clinic.audit.actions import Via, audit_record
from clinic.audit.models import Action
from clinic.content.crisis import crisis_lines
from clinic.intake.models import IntakeResponse, IntakeStatus, UrgentItem
from clinic.intake.summary import summary
from clinic.scheduling import actions as booking_actions
from clinic.scheduling import availability
from clinic.scheduling.models import (
    SESSION_KINDS,
    AppointmentKind,
    AppointmentType,
    Booking,
    BookingStatus,
    NoShowBy,
)
from clinic.scheduling.slots import group_by_local_day
from clinic.visits import actions, ice, live, session_pane
from clinic.visits.access import (
    WindowState,
    access_reason,
    clinician_licensed_for,
    participant_booking,
    read_intake,
    visit_for,
    window_state,
)
from clinic.visits.export import export_data
from clinic.visits.forms import NOTE_SECTIONS, AttestForm, BreakGlassForm, NoteForm
from clinic.visits.identity import identity_of
from clinic.visits.jitsi import room_token
from clinic.visits.models import Attendance, BreakGlass, ConsultNote, Decision, Participant, Visit, window


def _participant(request: HttpRequest, booking_id: uuid.UUID) -> tuple[Booking, Participant]:
    found = participant_booking(person(request), booking_id)
    if found is None:
        raise Http404("No such visit.")
    return found


# The live visit --------------------------------------------------------------------------------


@signed_in
@require_safe
def visit_page(request: HttpRequest, booking_id: uuid.UUID) -> HttpResponse:
    user = person(request)
    # A signed note completed the visit: its participants go to its record, not to a call.
    completed = Booking.objects.filter(public_id=booking_id, status=BookingStatus.COMPLETED).exclude(
        appointment_type__kind__in=SESSION_KINDS
    )
    if completed.for_clinician(user).exists():
        return redirect("visits:appointment", booking_id=booking_id)
    if completed.for_patient(user).exists():
        return redirect("visits:my_appointment", booking_id=booking_id)
    booking, role = _participant(request, booking_id)
    state = window_state(booking)
    opens, closes = window(booking)
    context: dict[str, Any] = {
        "booking": booking,
        "role": role,
        "zone": user.time_zone if role == Participant.CLINICIAN else booking.patient_time_zone,
        "state": state,
        "opens": opens,
        "closes": closes,
        "lines": crisis_lines(country_of(booking.jurisdiction)),
    }
    if state != WindowState.OPEN:
        return render(request, "visits/closed.html", context)
    visit = visit_for(booking)
    licensed = bool(visit.attested_jurisdiction) and clinician_licensed_for(
        booking, visit.attested_jurisdiction
    )
    context.update(
        visit=visit,
        licensed=licensed,
        place=jurisdiction_name(visit.attested_jurisdiction) if visit.attested_jurisdiction else "",
        # A patient blocked for location keeps what they typed when they try another answer.
        form=AttestForm(
            initial={
                "jurisdiction": visit.attested_jurisdiction or booking.jurisdiction,
                "address": visit.attested_address,
                "phone": visit.callback_phone,
            }
        ),
        provider=settings.VIDEO_PROVIDER,
        duration_seconds=int(booking.appointment_type.duration.total_seconds()),
    )
    if settings.VIDEO_PROVIDER == "jitsi":
        context.update(
            jitsi_domain=settings.JITSI_DOMAIN,
            jitsi_jwt=room_token(visit, user, moderator=role == Participant.CLINICIAN),
        )
    if role == Participant.CLINICIAN:
        # The clinician's page shows where the patient says they are and their call-back number.
        with transaction.atomic():
            audit_record(
                action=Action.VISIT_VIEWED,
                actor=user,
                subject=visit,
                patient=booking.patient,
                via=Via.of(request),
            )
    context["status"] = live.status_of(booking, visit)
    if booking.is_treatment_session:
        # A supervised session: no consultation note; the course's pane instead.
        if role == Participant.CLINICIAN:
            context.update(
                identity=identity_of(booking, visit=visit),
                session_pane=session_pane.clinician(request, booking),
            )
            return render(request, "visits/consult.html", context)
        context["session_pane"] = session_pane.patient(request, booking)
        return render(request, "visits/visit.html", context)
    if role == Participant.CLINICIAN:
        context.update(_consult(request, booking, visit))
        return render(request, "visits/consult.html", context)
    return render(request, "visits/visit.html", context)


def _consult(request: HttpRequest, booking: Booking, visit: Visit) -> dict[str, Any]:
    """The consult screen's record: who the patient is, their questionnaire and the note, with
    each read audited."""
    note = actions.note_for(booking)
    return {
        "identity": identity_of(booking, visit=visit),
        **_note_context(booking, note),
        **_read_record(request, booking, note, reason="consult screen"),
    }


def _read_record(request: HttpRequest, booking: Booking, note: ConsultNote, *, reason: str) -> dict[str, Any]:
    """What the consult screen and the appointment page both show of the record, each read
    audited: the booking (the patient's name, the attested place), the note once it holds
    anything, and the questionnaire's summary (its read audited by ``read_intake``)."""
    clinician = person(request)
    with transaction.atomic():
        audit_record(
            action=Action.BOOKING_VIEWED,
            actor=clinician,
            subject=booking,
            patient=booking.patient,
            via=Via.of(request),
            reason=reason,
        )
        if note.is_signed or note.reason:
            audit_record(
                action=Action.NOTE_VIEWED,
                actor=clinician,
                subject=note,
                patient=booking.patient,
                via=Via.of(request),
            )
    intake = booking.intake
    answers = read_intake(user=clinician, intake=intake, via=Via.of(request)) if intake else None
    if intake is None or answers is None:
        return {}
    return {
        **summary(intake, answers),
        "intake": intake,
        "phq9_band_label": intake.phq9_band_label,
        "gad7_band_label": intake.gad7_band_label,
    }


@signed_in
@require_safe
def patient_panel(request: HttpRequest, booking_id: uuid.UUID) -> HttpResponse:
    """The consult screen's "your patient" panel, fetched again when the socket or the status
    poll says the patient arrived, was blocked or was let in."""
    booking, role = _participant(request, booking_id)
    if role != Participant.CLINICIAN or window_state(booking) != WindowState.OPEN:
        raise Http404("No such visit.")
    visit = visit_for(booking)
    if visit.attested_at is not None:
        with transaction.atomic():
            audit_record(
                action=Action.BOOKING_VIEWED,
                actor=person(request),
                subject=booking,
                patient=booking.patient,
                via=Via.of(request),
                reason="visit status",
            )
    return render(
        request,
        "visits/_patient_status.html",
        {
            "booking": booking,
            "visit": visit,
            "status": live.status_of(booking, visit),
            "identity": identity_of(booking, visit=visit),
            "zone": person(request).time_zone,
        },
    )


@signed_in
@require_POST
def attest(request: HttpRequest, booking_id: uuid.UUID) -> HttpResponse:
    """The patient says where they are now. A clinician without a licence there cannot start."""
    booking, role = _participant(request, booking_id)
    if role != Participant.PATIENT or window_state(booking) != WindowState.OPEN:
        raise Http404("No such visit.")
    form = AttestForm(request.POST)
    if not form.is_valid():
        visit = visit_for(booking)
        context = {
            "booking": booking, "role": role, "zone": booking.patient_time_zone, "state": WindowState.OPEN,
            "visit": visit, "form": form, "licensed": False, "provider": settings.VIDEO_PROVIDER,
            "lines": crisis_lines(country_of(booking.jurisdiction)),
        }  # fmt: skip
        return render(request, "visits/visit.html", context, status=400)
    data = form.cleaned_data
    actions.do_attest(
        patient=person(request),
        booking=booking,
        jurisdiction=data["jurisdiction"],
        address=data["address"],
        phone=data["phone"],
        via=Via.of(request),
    )
    return redirect("visits:visit", booking_id=booking.public_id)


@signed_in
@require_POST
def admit(request: HttpRequest, booking_id: uuid.UUID) -> HttpResponse:
    booking, role = _participant(request, booking_id)
    if role != Participant.CLINICIAN or window_state(booking) != WindowState.OPEN:
        raise Http404("No such visit.")
    try:
        visit = actions.do_admit(clinician=person(request), booking=booking, via=Via.of(request))
    except actions.NotWaiting:
        return JsonResponse(
            {"detail": "The patient is not waiting, or you hold no licence where they are."}, status=409
        )
    if request.headers.get("Accept", "").startswith("application/json"):
        assert visit.admitted_at is not None
        return JsonResponse({"admitted": True, "admitted_at": visit.admitted_at.isoformat()})
    return redirect("visits:visit", booking_id=booking.public_id)


@signed_in
@require_safe
def status(request: HttpRequest, booking_id: uuid.UUID) -> JsonResponse:
    """What the websocket pushes, for pages whose socket is down: they poll this instead."""
    booking, role = _participant(request, booking_id)
    return JsonResponse(live.status_of(booking, visit_for(booking)))


@signed_in
@require_safe
def ice_servers(request: HttpRequest, booking_id: uuid.UUID) -> JsonResponse:
    booking, _ = _participant(request, booking_id)
    return JsonResponse({"iceServers": ice.servers_for(person(request))})


# The clinician's side --------------------------------------------------------------------------


def _note_context(booking: Booking, note: ConsultNote) -> dict[str, Any]:
    """The note form in its sections (the same on the appointment page and the consult screen)."""
    form = NoteForm(instance=note)
    return {
        "note": note,
        "note_sections": [
            (title, [form[name] for name in names]) for title, names in NOTE_SECTIONS if title != "safety"
        ],
        "safety_fields": [form[name] for name in dict(NOTE_SECTIONS)["safety"]],
        # Flagged visits need the safety assessment before signing (the rule of
        # actions.sign_problems), so the form shows it first.
        "flagged": booking.safety_first
        or (booking.intake is not None and booking.intake.triage != "routine"),
        "sign_problems": actions.sign_problems(note, booking),
    }


def _own_booking(request: HttpRequest, booking_id: uuid.UUID) -> Booking:
    return get_object_or_404(
        Booking.objects.for_clinician(person(request)).select_related(
            "patient", "clinician", "intake", "appointment_type"
        ),
        public_id=booking_id,
    )


@role_required(Role.CLINICIAN)
@require_safe
def appointment(request: AuthedRequest, booking_id: uuid.UUID) -> HttpResponse:
    """An appointment as its clinician prepares for it: who, when, triage, the intake, the note."""
    clinician = request.user
    booking = _own_booking(request, booking_id)
    if booking.is_treatment_session and (record := session_pane.record_url(booking)):
        return redirect(record)  # a session has its own record, never a consultation note
    note = actions.note_for(booking)
    visit = Visit.objects.filter(booking=booking).first()
    context: dict[str, Any] = {
        "booking": booking,
        "zone": clinician.time_zone,
        "identity": identity_of(booking, visit=visit),
        "addenda": note.addenda.select_related("author"),
        "visit": visit,
        "attendance": Attendance.objects.filter(visit__booking=booking).select_related("user"),
        "started": booking.start <= timezone.now(),
        "join_open": booking.status == BookingStatus.CONFIRMED
        and not note.is_signed
        and window_state(booking) != WindowState.CLOSED,
        **_note_context(booking, note),
    }
    context.update(_read_record(request, booking, note, reason="appointment"))
    return render(request, "visits/appointment.html", context)


@role_required(Role.CLINICIAN)
@require_POST
def note_save(request: HttpRequest, booking_id: uuid.UUID) -> HttpResponse:
    booking = _own_booking(request, booking_id)
    form = NoteForm(request.POST)
    wants_json = request.headers.get("Accept", "").startswith("application/json")
    if not form.is_valid():
        if wants_json:
            return JsonResponse({"saved": False, "errors": form.errors}, status=400)
        messages.error(request, "Some answers in the note are not valid.")
        return redirect("visits:appointment", booking_id=booking.public_id)
    try:
        note = actions.do_save_note(
            clinician=person(request), booking=booking, data=form.cleaned_data, via=Via.of(request)
        )
    except actions.NoteError as exc:
        if wants_json:
            return JsonResponse({"saved": False, "detail": exc.message}, status=409)
        messages.error(request, exc.message)
        return redirect("visits:appointment", booking_id=booking.public_id)
    if wants_json:
        problems = list(actions.sign_problems(note, booking).values())
        return JsonResponse({"saved": True, "at": note.updated_at.isoformat(), "still_needed": problems})
    if request.POST.get("then") == "sign":
        return note_sign(request, booking_id)
    messages.success(request, "Draft saved.")
    return redirect("visits:appointment", booking_id=booking.public_id)


@role_required(Role.CLINICIAN)
@require_POST
def note_sign(request: HttpRequest, booking_id: uuid.UUID) -> HttpResponse:
    booking = _own_booking(request, booking_id)
    wants_json = request.headers.get("Accept", "").startswith("application/json")
    try:
        note = actions.do_sign_note(clinician=person(request), booking=booking, via=Via.of(request))
    except actions.NoteError as exc:
        if wants_json:
            return JsonResponse({"signed": False, "problems": list(exc.problems.values())}, status=409)
        for problem in exc.problems.values():
            messages.error(request, problem)
        return redirect("visits:appointment", booking_id=booking.public_id)
    if wants_json:
        assert note.signed_at is not None
        return JsonResponse({"signed": True, "signed_at": note.signed_at.isoformat()})
    messages.success(request, "Note signed. The patient has been told a message is waiting.")
    return redirect("visits:appointment", booking_id=booking.public_id)


@role_required(Role.CLINICIAN)
@require_safe
def note_token(request: HttpRequest, booking_id: uuid.UUID) -> JsonResponse:
    """A fresh CSRF token for an open note page whose session ended and was signed in again
    (signing in rotates the token, so the page's own copy no longer works). Same-origin JSON:
    another site cannot read it."""
    _own_booking(request, booking_id)
    return JsonResponse({"csrf": get_token(request)})


@role_required(Role.CLINICIAN)
@require_POST
def note_addendum(request: HttpRequest, booking_id: uuid.UUID) -> HttpResponse:
    booking = _own_booking(request, booking_id)
    try:
        actions.do_add_addendum(
            clinician=person(request),
            booking=booking,
            text=request.POST.get("text", "")[:5000],
            via=Via.of(request),
        )
        messages.success(request, "Addendum added.")
    except actions.NoteError as exc:
        messages.error(request, exc.message)
    return redirect("visits:appointment", booking_id=booking.public_id)


@role_required(Role.CLINICIAN)
@require_POST
def no_show(request: HttpRequest, booking_id: uuid.UUID) -> HttpResponse:
    booking = _own_booking(request, booking_id)
    by = request.POST.get("by", "")
    if by not in NoShowBy.values:
        messages.error(request, "Say who did not come.")
        return redirect("visits:appointment", booking_id=booking.public_id)
    try:
        actions.do_no_show(actor=person(request), booking=booking, by=NoShowBy(by), via=Via.of(request))
        messages.success(request, "Marked as a no-show. The patient has been emailed.")
    except booking_actions.BookingError as exc:
        messages.error(request, exc.message)
    return redirect("visits:appointment", booking_id=booking.public_id)


@role_required(Role.CLINICIAN)
@require_http_methods(["GET", "POST"])
def follow_up(request: HttpRequest, booking_id: uuid.UUID) -> HttpResponse:
    """Book a follow-up for this patient in one of the clinician's own free slots."""
    booking = _own_booking(request, booking_id)
    clinician = person(request)
    kind = AppointmentType.objects.get(kind=AppointmentKind.FOLLOW_UP)
    if request.method == "POST":
        try:
            start = dates.parse_datetime(request.POST.get("start", ""))
        except dates.OutOfRange:
            start = None
        if start is None or start.tzinfo is None:
            messages.error(request, "Choose one of the times shown.")
            return redirect("visits:follow_up", booking_id=booking.public_id)
        try:
            booking_actions.do_book_follow_up(
                clinician=clinician, patient=booking.patient, start=start, jurisdiction=booking.jurisdiction,
                patient_time_zone=booking.patient_time_zone, via=Via.of(request),
            )  # fmt: skip
        except booking_actions.BookingError as exc:
            messages.error(request, exc.message)
            return redirect("visits:follow_up", booking_id=booking.public_id)
        messages.success(request, "Follow-up booked. The patient has been emailed an invitation.")
        return redirect("visits:appointment", booking_id=booking.public_id)
    now = timezone.now()
    found, _ = availability.free_slots(
        jurisdiction=booking.jurisdiction,
        appointment_type=kind,
        start=now,
        end=now + dt.timedelta(days=14),
        clinician_ids=[str(clinician.public_id)],
    )
    return render(
        request,
        "visits/follow_up.html",
        {
            "booking": booking,
            "days": group_by_local_day(found, clinician.time_zone),
            "zone": clinician.time_zone,
            "kind": kind,
        },
    )


@role_required(Role.CLINICIAN)
@require_safe
def chart(request: HttpRequest, patient_id: uuid.UUID) -> HttpResponse:
    """A patient's chart: questionnaire, appointments, notes, decisions and attendance."""
    clinician = person(request)
    patient = get_object_or_404(User, public_id=patient_id, role=Role.PATIENT)
    reason = access_reason(clinician, patient.pk)
    if reason is None:
        return redirect("visits:patient_intake", patient_id=patient.public_id)  # offers break-glass
    with transaction.atomic():
        audit_record(
            action=Action.CHART_VIEWED,
            actor=clinician,
            subject=patient,
            patient=patient,
            via=Via.of(request),
            reason=reason,
        )
    bookings = list(
        Booking.objects.filter(patient=patient)
        .select_related("clinician", "appointment_type", "intake")
        .order_by("-start")
    )
    notes = {
        n.booking_id: n for n in ConsultNote.objects.filter(booking__in=bookings).prefetch_related("addenda")
    }
    attendance: dict[int, list[Attendance]] = {}
    for row in Attendance.objects.filter(visit__booking__in=bookings).select_related("visit"):
        attendance.setdefault(row.visit.booking_id, []).append(row)
    for booking in bookings:
        booking.chart_note = notes.get(booking.pk)  # type: ignore[attr-defined]
        booking.chart_attendance = attendance.get(booking.pk, [])  # type: ignore[attr-defined]
    profile = PatientProfile.objects.filter(user=patient).first()
    born = profile.birth_date if profile else None
    return render(
        request,
        "visits/chart.html",
        {
            "patient": patient,
            "profile": profile,
            "age": age_on(born, timezone.now().date()) if born else None,
            "bookings": bookings,
            "zone": clinician.time_zone,
            "reason": reason,
        },
    )


# The patient's side ------------------------------------------------------------------------------


@role_required(Role.PATIENT)
@require_safe
def my_appointment(request: HttpRequest, booking_id: uuid.UUID) -> HttpResponse:
    booking = get_object_or_404(
        Booking.objects.for_patient(person(request)).select_related("clinician", "appointment_type"),
        public_id=booking_id,
    )
    note = actions.visible_message(booking)
    with transaction.atomic():
        if note is not None:
            audit_record(
                action=Action.MESSAGE_READ,
                actor=person(request),
                subject=note,
                patient=booking.patient,
                via=Via.of(request),
            )
        else:
            audit_record(
                action=Action.BOOKING_VIEWED,
                actor=person(request),
                subject=booking,
                patient=booking.patient,
                via=Via.of(request),
            )
    return render(
        request,
        "visits/my_appointment.html",
        {
            "booking": booking,
            "note": note,
            "zone": booking.patient_time_zone,
            "join_open": booking.status == BookingStatus.CONFIRMED
            and window_state(booking) == WindowState.OPEN,
            "can_change": booking.status == BookingStatus.CONFIRMED and booking_actions.in_cutoff(booking),
            "lines": crisis_lines(country_of(booking.jurisdiction)),
        },
    )


@role_required(Role.PATIENT)
@require_POST
def my_cancel(request: HttpRequest, booking_id: uuid.UUID) -> HttpResponse:
    booking = get_object_or_404(
        Booking.objects.for_patient(person(request)).select_related("clinician", "appointment_type"),
        public_id=booking_id,
    )
    try:
        booking_actions.do_cancel(
            actor=person(request),
            booking=booking,
            reason=request.POST.get("reason", "")[:300],
            via=Via.of(request),
        )
        messages.success(request, "Your appointment is cancelled. We have emailed you to confirm.")
    except booking_actions.BookingError as exc:
        messages.error(request, exc.message)
    return redirect("visits:my_appointment", booking_id=booking.public_id)


@role_required(Role.PATIENT)
@require_safe
def my_data(request: HttpRequest) -> HttpResponse:
    """Download everything: ``?format=json`` for machines, otherwise a printable page."""
    patient = person(request)
    fmt = request.GET.get("format", "html")
    if fmt not in ("json", "html"):
        raise Http404
    data = export_data(patient)
    with transaction.atomic():
        audit_record(
            action=Action.DATA_EXPORTED,
            actor=patient,
            subject=patient,
            patient=patient,
            via=Via.of(request),
            reason=fmt,
        )
    if fmt == "json":
        response = HttpResponse(
            json.dumps(data, cls=DjangoJSONEncoder, indent=2), content_type="application/json"
        )
        response["Content-Disposition"] = 'attachment; filename="my-mendwell-data.json"'
        return response
    labels = {
        "legal_name": "Legal name", "preferred_name": "Preferred name", "date_of_birth": "Date of birth",
        "phone": "Phone", "emergency_contact_name": "Emergency contact", "emergency_contact_phone":
        "Emergency contact's phone", "home_address": "Home address", "country": "Country",
    }  # fmt: skip
    profile = [(labels.get(key, key), value) for key, value in data["profile"].items()]
    for note in data["notes"]:
        note["decision_label"] = Decision(note["decision"]).label if note["decision"] else ""
    for row in data["appointments"]:
        row["status_label"] = BookingStatus(row["status"]).label
    return render(
        request, "visits/my_data.html", {"data": data, "profile": profile, "zone": patient.time_zone}
    )


@role_required(Role.CLINICIAN)
@require_http_methods(["GET", "POST"])
def patient_intake(request: AuthedRequest, patient_id: uuid.UUID) -> HttpResponse:
    """A patient's latest intake. Without a relationship a clinician may break the glass: with a
    reason, for an hour, audited and reviewed by staff."""
    clinician = request.user
    patient = get_object_or_404(User, public_id=patient_id, role=Role.PATIENT)
    intake = (
        IntakeResponse.objects.filter(patient=patient)
        .exclude(status=IntakeStatus.DRAFT)
        .order_by("-submitted_at")
        .first()
    )
    if intake is None:
        raise Http404("No questionnaire yet.")
    form = BreakGlassForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            actions.do_break_glass(
                clinician=clinician, patient=patient, reason=form.cleaned_data["reason"], via=Via.of(request)
            )
            return redirect("visits:patient_intake", patient_id=patient.public_id)
        return render(request, "visits/break_glass.html", {"form": form, "patient": patient}, status=400)
    answers = read_intake(user=clinician, intake=intake, via=Via.of(request))
    if answers is None:
        return render(request, "visits/break_glass.html", {"form": form, "patient": patient}, status=403)
    urgent_items = UrgentItem.objects.filter(patient=patient).select_related("acknowledged_by")[:10]
    context = {
        "intake": intake,
        "patient": patient,
        "profile": PatientProfile.objects.filter(user=patient).first(),
        "zone": clinician.time_zone,
        "urgent_items": urgent_items,
        **summary(intake, answers),
    }
    return render(request, "visits/patient_intake.html", context)


@role_required(Role.STAFF)
@require_safe
def break_glass_review(request: HttpRequest) -> HttpResponse:
    grants = list(BreakGlass.objects.select_related("clinician", "patient", "reviewed_by")[:200])
    # The reasons clinicians typed may name clinical detail: reading the list is a read.
    with transaction.atomic():
        audit_record(
            action=Action.BREAK_GLASS_LIST_VIEWED,
            actor=person(request),
            via=Via.of(request),
            patients=[grant.patient for grant in grants],
        )
    return render(request, "visits/break_glass_review.html", {"grants": grants})


@role_required(Role.STAFF)
@require_POST
def break_glass_reviewed(request: AuthedRequest, grant_id: uuid.UUID) -> HttpResponse:
    grant = get_object_or_404(BreakGlass, public_id=grant_id)
    actions.do_review_break_glass(staff=request.user, grant=grant, via=Via.of(request))
    return redirect("visits:break_glass_review")
