"""The consultation's before and after: the clinician's note, decision and follow-up, the
patient's chart, and the patient's own view of their appointments and data.

Kept apart from ``views.py`` (the live visit: device check, waiting room, call) because the two
change for different reasons.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from django import forms
from django.contrib import messages
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from clinic.accounts.decorators import person, role_required
from clinic.accounts.models import PatientProfile, Role, User
from clinic.audit.actions import audit_record
from clinic.audit.models import Action
from clinic.content.crisis import crisis_lines
from clinic.intake import actions as intake_actions
from clinic.intake.models import IntakeResponse, IntakeStatus
from clinic.scheduling import actions as booking_actions
from clinic.scheduling import availability
from clinic.scheduling.jurisdictions import country_of
from clinic.scheduling.models import AppointmentKind, AppointmentType, Booking, BookingStatus
from clinic.scheduling.slots import group_by_local_day
from clinic.visits import actions
from clinic.visits.access import window_state
from clinic.visits.models import Attendance, ConsultNote, Decision, IdentityMethod, RiskLevel, Visit


class NoteForm(forms.ModelForm):
    class Meta:
        model = ConsultNote
        fields = actions.NOTE_FIELDS
        labels = {
            "identity_method": "How did you verify the patient's identity?",
            "location_confirmed": "I confirmed where the patient is (the place they attested on joining)",
            "others_present": "Who else is present (or 'nobody')",
            "reason": "Reason for visit",
            "history_reviewed": "History reviewed",
            "risk_level": "Safety assessment: risk level",
            "safety_plan": "Safety assessment: plan",
            "contraindications_reviewed": "Contraindications and precautions reviewed",
            "plan": "Plan",
            "follow_up": "Follow-up",
            "decision": "Decision",
            "decision_reason": "Reason (and referral) if not suitable",
            "patient_message": "Message to the patient: what happens next, in plain words",
        }
        widgets = {
            "identity_method": forms.RadioSelect(choices=IdentityMethod.choices),
            "risk_level": forms.Select(choices=[("", "—"), *RiskLevel.choices]),
            "decision": forms.RadioSelect(choices=Decision.choices),
            **{
                name: forms.Textarea(attrs={"rows": 3})
                for name in (
                    "reason",
                    "history_reviewed",
                    "safety_plan",
                    "contraindications_reviewed",
                    "plan",
                    "follow_up",
                    "decision_reason",
                    "patient_message",
                )  # fmt: skip
            },
            "others_present": forms.TextInput(),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False  # drafts may be partial; signing checks completeness
        # Radio buttons need no "---------" choice: nothing ticked is the empty answer.
        self.fields["identity_method"].choices = IdentityMethod.choices  # type: ignore[attr-defined]
        self.fields["decision"].choices = Decision.choices  # type: ignore[attr-defined]

    def clean_risk_level(self) -> str:
        value = self.cleaned_data.get("risk_level") or ""
        if value and value not in RiskLevel.values:
            raise forms.ValidationError("Choose a risk level from the list.")
        return value


def _own_booking(request: HttpRequest, booking_id: uuid.UUID) -> Booking:
    return get_object_or_404(
        Booking.objects.select_related("patient", "clinician", "intake", "appointment_type"),
        public_id=booking_id,
        clinician=person(request),
    )


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
        return redirect("intake:appointment", booking_id=booking.public_id)
    try:
        note = actions.do_save_note(
            clinician=person(request), booking=booking, data=form.cleaned_data, request=request
        )
    except actions.NoteError as exc:
        if wants_json:
            return JsonResponse({"saved": False, "detail": exc.message}, status=409)
        messages.error(request, exc.message)
        return redirect("intake:appointment", booking_id=booking.public_id)
    if wants_json:
        problems = list(actions.sign_problems(note, booking).values())
        return JsonResponse({"saved": True, "at": note.updated_at.isoformat(), "still_needed": problems})
    if request.POST.get("then") == "sign":
        return note_sign(request, booking_id)
    messages.success(request, "Draft saved.")
    return redirect("intake:appointment", booking_id=booking.public_id)


@role_required(Role.CLINICIAN)
@require_POST
def note_sign(request: HttpRequest, booking_id: uuid.UUID) -> HttpResponse:
    booking = _own_booking(request, booking_id)
    try:
        actions.do_sign_note(clinician=person(request), booking=booking, request=request)
    except actions.NoteError as exc:
        for problem in exc.problems.values():
            messages.error(request, problem)
        return redirect("intake:appointment", booking_id=booking.public_id)
    messages.success(request, "Note signed. The patient has been told a message is waiting.")
    return redirect("intake:appointment", booking_id=booking.public_id)


@role_required(Role.CLINICIAN)
@require_POST
def note_addendum(request: HttpRequest, booking_id: uuid.UUID) -> HttpResponse:
    booking = _own_booking(request, booking_id)
    try:
        actions.do_add_addendum(
            clinician=person(request),
            booking=booking,
            text=request.POST.get("text", "")[:5000],
            request=request,
        )
        messages.success(request, "Addendum added.")
    except actions.NoteError as exc:
        messages.error(request, exc.message)
    return redirect("intake:appointment", booking_id=booking.public_id)


@role_required(Role.CLINICIAN)
@require_POST
def no_show(request: HttpRequest, booking_id: uuid.UUID) -> HttpResponse:
    booking = _own_booking(request, booking_id)
    by = request.POST.get("by", "")
    if by not in ("patient", "clinician"):
        messages.error(request, "Say who did not come.")
        return redirect("intake:appointment", booking_id=booking.public_id)
    try:
        actions.do_no_show(actor=person(request), booking=booking, by=by, request=request)
        messages.success(request, "Marked as a no-show. The patient has been emailed.")
    except booking_actions.BookingError as exc:
        messages.error(request, exc.message)
    return redirect("intake:appointment", booking_id=booking.public_id)


@role_required(Role.CLINICIAN)
@require_http_methods(["GET", "POST"])
def follow_up(request: HttpRequest, booking_id: uuid.UUID) -> HttpResponse:
    """Book a follow-up for this patient in one of the clinician's own free slots."""
    booking = _own_booking(request, booking_id)
    clinician = person(request)
    kind = AppointmentType.objects.get(kind=AppointmentKind.FOLLOW_UP)
    if request.method == "POST":
        try:
            start = dt.datetime.fromisoformat(request.POST.get("start", ""))
            if start.tzinfo is None:
                raise ValueError
        except ValueError:
            messages.error(request, "Choose one of the times shown.")
            return redirect("visits:follow_up", booking_id=booking.public_id)
        try:
            booking_actions.do_book_follow_up(
                clinician=clinician, patient=booking.patient, start=start, jurisdiction=booking.jurisdiction,
                patient_time_zone=booking.patient_time_zone, request=request,
            )  # fmt: skip
        except booking_actions.BookingError as exc:
            messages.error(request, exc.message)
            return redirect("visits:follow_up", booking_id=booking.public_id)
        messages.success(request, "Follow-up booked. The patient has been emailed an invitation.")
        return redirect("intake:appointment", booking_id=booking.public_id)
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
    reason = intake_actions.access_reason(clinician, patient.pk)
    if reason is None:
        return redirect("intake:patient_intake", patient_id=patient.public_id)  # offers break-glass
    with transaction.atomic():
        audit_record(
            action=Action.CHART_VIEWED,
            actor=clinician,
            subject=patient,
            patient=patient,
            request=request,
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
    return render(
        request,
        "visits/chart.html",
        {
            "patient": patient,
            "profile": profile,
            "bookings": bookings,
            "zone": clinician.time_zone,
            "reason": reason,
        },
    )


# The patient's side ------------------------------------------------------------------------------


def _my_booking(request: HttpRequest, booking_id: uuid.UUID) -> Booking:
    return get_object_or_404(
        Booking.objects.select_related("clinician", "appointment_type"),
        public_id=booking_id,
        patient=request.user,
    )


@role_required(Role.PATIENT)
@require_safe
def my_appointment(request: HttpRequest, booking_id: uuid.UUID) -> HttpResponse:
    booking = _my_booking(request, booking_id)
    note = actions.visible_message(booking)
    if note is not None:
        with transaction.atomic():
            audit_record(
                action=Action.MESSAGE_READ,
                actor=person(request),
                subject=note,
                patient=booking.patient,
                request=request,
            )
    return render(
        request,
        "visits/my_appointment.html",
        {
            "booking": booking,
            "note": note,
            "zone": booking.patient_time_zone,
            "join_open": booking.status == BookingStatus.CONFIRMED and window_state(booking) == "open",
            "can_change": booking.status == BookingStatus.CONFIRMED and booking_actions.in_cutoff(booking),
            "lines": crisis_lines(country_of(booking.jurisdiction)),
        },
    )


@role_required(Role.PATIENT)
@require_POST
def my_cancel(request: HttpRequest, booking_id: uuid.UUID) -> HttpResponse:
    booking = _my_booking(request, booking_id)
    try:
        booking_actions.do_cancel(
            actor=person(request),
            booking=booking,
            reason=request.POST.get("reason", "")[:300],
            request=request,
        )
        messages.success(request, "Your appointment is cancelled. We have emailed you to confirm.")
    except booking_actions.BookingError as exc:
        messages.error(request, exc.message)
    return redirect("visits:my_appointment", booking_id=booking.public_id)


def export_data(patient: User) -> dict[str, Any]:
    """Everything the clinic holds about a patient, readable by a machine."""
    profile = PatientProfile.objects.filter(user=patient).first()
    bookings = Booking.objects.filter(patient=patient).select_related("clinician").order_by("start")
    notes = ConsultNote.objects.filter(patient=patient, signed_at__isnull=False).prefetch_related("addenda")
    return {
        "exported_at": timezone.now(),
        "account": {"email": patient.email, "time_zone": patient.time_zone, "joined": patient.date_joined},
        "profile": {
            field: getattr(profile, field)
            for field in (
                "legal_name",
                "preferred_name",
                "date_of_birth",
                "phone",
                "emergency_contact_name",
                "emergency_contact_phone",
                "home_address",
                "country",
            )  # fmt: skip
        }
        if profile
        else {},
        "appointments": [
            {
                "id": b.public_id,
                "start": b.start,
                "end": b.end,
                "status": b.status,
                "clinician": b.clinician.display_name,
                "where": b.jurisdiction,
                "cancel_reason": b.cancel_reason,
            }  # fmt: skip
            for b in bookings
        ],
        "questionnaires": [
            {
                "id": i.public_id,
                "status": i.status,
                "submitted_at": i.submitted_at,
                "versions": i.versions,
                "answers": i.answers,
                "phq9_total": i.phq9_total,
                "phq9_band": i.phq9_band,
                "gad7_total": i.gad7_total,
                "gad7_band": i.gad7_band,
                "asq_result": i.asq_result,
                "consent_version": i.consent_version,
                "consented_at": i.consented_at,
            }  # fmt: skip
            for i in IntakeResponse.objects.filter(patient=patient).exclude(status=IntakeStatus.DRAFT)
        ],
        "notes": [
            {
                "appointment": n.booking.public_id,
                "signed_at": n.signed_at,
                **{f: getattr(n, f) for f in actions.NOTE_FIELDS},
                "addenda": [{"at": a.created_at, "text": a.text} for a in n.addenda.all()],
            }  # fmt: skip
            for n in notes
        ],
        "visits": [
            {
                "appointment": v.booking.public_id,
                "where": v.attested_jurisdiction,
                "admitted_at": v.admitted_at,
            }
            for v in Visit.objects.filter(booking__patient=patient).select_related("booking")
        ],
    }


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
            request=request,
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
