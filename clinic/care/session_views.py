"""The session page, where the record is filled during a treatment session, and the REMS
monitoring form.

Every page looks its session up through ``sessions_for`` (the booked clinician and the session's
nurse; 404 for anyone else) or, for staff, through signed esketamine records only. Each read
writes an audit row; each write is one action."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from clinic.accounts.decorators import AuthedRequest, person, role_required, signed_in
from clinic.accounts.models import Role, User
from clinic.audit.actions import Via, audit_record
from clinic.audit.models import Action
from clinic.care import session_actions as actions
from clinic.care import session_rules as rules
from clinic.care.models import PreSessionCheckIn, TreatmentSession
from clinic.care.models.sessions import (
    AdverseEventKind,
    CadssForm,
    ObservedWhen,
    RemsSubmission,
    SessionRecord,
    Severity,
    VitalsWhen,
)
from clinic.care.session_forms import (
    AddendumForm,
    AdverseEventForm,
    DischargeForm,
    DoseForm,
    ObservationForm,
    VitalsForm,
)


def patient_name(patient: User) -> str:
    """The name the patient is known by (never the legal name on a working page)."""
    profile = getattr(patient, "patient_profile", None)
    return patient.display_name or (profile.preferred_name if profile else "") or patient.email


def _session(request: HttpRequest, session_id: uuid.UUID) -> TreatmentSession:
    user = person(request)
    return get_object_or_404(actions.sessions_for(user), public_id=session_id)


def _status(record: SessionRecord) -> dict[str, Any]:
    now = timezone.now()
    clock = actions.clock_of(record, now)
    have_post = record.vitals.filter(when=VitalsWhen.POST_DOSE).exists()
    return {
        "missing": actions.missing(record),
        "dosed_at": clock.dosed_at.isoformat() if clock.dosed_at else None,
        "minutes": clock.minutes,
        "minimum": clock.minimum,
        "ended": clock.ended,
        "may_discharge": clock.may_discharge and not clock.ended,
        "post_dose_due": rules.post_dose_reading_due(record.dosed_at, now, have_it=have_post),
        "signed": record.is_signed,
    }


def _next_vitals(record: SessionRecord) -> str:
    taken = set(record.vitals.values_list("when", flat=True))
    if record.dosed_at is None:
        return VitalsWhen.PRE_DOSE
    if VitalsWhen.POST_DOSE not in taken:
        return VitalsWhen.POST_DOSE
    return VitalsWhen.DISCHARGE if VitalsWhen.DISCHARGE not in taken else VitalsWhen.OTHER


@signed_in
@require_safe
def session_page(request: HttpRequest, session_id: uuid.UUID) -> HttpResponse:
    return _show(request, _session(request, session_id))


def _show(
    request: HttpRequest, session: TreatmentSession, status_code: int = 200, **bound: Any
) -> HttpResponse:
    """The session page; after a refused write, again with the bound form and a 400."""
    user = person(request)
    record = actions.record_for(session)
    version = actions.version_of(session)
    plan = session.plan
    zone = user.time_zone
    status = _status(record)
    pre = actions.latest_vitals(record, VitalsWhen.PRE_DOSE)
    held = rules.hold_problems(actions.reading_of(pre), actions.limits_of(version)) if pre else []
    vitals = list(record.vitals.select_related("recorded_by"))
    for v in vitals:
        v.outside = rules.hold_problems(actions.reading_of(v), actions.limits_of(version))  # type: ignore[attr-defined]
    observed_next = ObservedWhen.POST_DOSE
    if record.observations.filter(when=ObservedWhen.POST_DOSE).exists():
        observed_next = ObservedWhen.DISCHARGE
    context: dict[str, Any] = {
        "session": session,
        "record": record,
        "plan": plan,
        "version": version,
        "patient_name": patient_name(plan.patient),
        "zone": zone,
        "status": status,
        "prescriber": actions.is_prescriber(user, session),
        "recorder": actions.can_record_vitals(user, session),
        "vitals": vitals,
        "held": held,
        "observations": record.observations.select_related("recorded_by"),
        "adverse_events": record.adverse_events.select_related("recorded_by"),
        "addenda": record.addenda.select_related("author"),
        "checklist": actions.checklist_of(record),
        "rems": actions.rems_status(record),
        "esketamine": actions.is_esketamine(session),
        "checkin": (checkin := PreSessionCheckIn.objects.filter(session=session).first()),
        "companion": checkin.answers.get("companion", "") if checkin and checkin.submitted_at else "",
        "supervisors": record.supervisors.select_related("confirmed_by"),
        "home_readings": record.home_readings.all(),
        "vitals_form": VitalsForm(initial={"when": _next_vitals(record)}, zone=zone),
        "observation_form": ObservationForm(
            initial={"when": observed_next, "cadss_form": CadssForm.SHORT_6}, zone=zone
        ),
        "dose_form": DoseForm(zone=zone),
        "event_form": AdverseEventForm(zone=zone),
        "discharge_form": DischargeForm(),
        "addendum_form": AddendumForm(),
    }
    context.update(bound)
    with transaction.atomic():
        audit_record(
            action=Action.SESSION_RECORD_VIEWED,
            actor=user,
            subject=record,
            patient=plan.patient,
            via=Via.of(request),
            reason="prescriber" if context["prescriber"] else "nurse",
        )
    return render(request, "care/session.html", context, status=status_code)


@signed_in
@require_safe
def session_status(request: HttpRequest, session_id: uuid.UUID) -> JsonResponse:
    """What the open page needs to stay current: the clock and what is still missing (names of
    sections, no values)."""
    session = _session(request, session_id)
    return JsonResponse(_status(actions.record_for(session)))


def _done(request: HttpRequest, session: TreatmentSession, success: str) -> HttpResponse:
    messages.success(request, success)
    return redirect("care:session", session_id=session.public_id)


def _refused(
    request: HttpRequest, session: TreatmentSession, exc: actions.RecordError, **bound: Any
) -> HttpResponse:
    """A rule refused the write: nothing changed; the page again with why, as a 409 (a 403 when
    the person's part in the session does not include it)."""
    if isinstance(exc, actions.NotAllowed):
        raise PermissionDenied(exc.message)
    messages.error(request, exc.message)
    for problem in exc.problems:
        messages.error(request, problem)
    return _show(request, session, 409, **bound)


def _invalid(request: HttpRequest, session: TreatmentSession, name: str, form: Any) -> HttpResponse:
    messages.error(request, "Some answers are not valid: see the form below.")
    return _show(request, session, 400, **{name: form})


@signed_in
@require_POST
def record_vitals(request: HttpRequest, session_id: uuid.UUID) -> HttpResponse:
    session = _session(request, session_id)
    form = VitalsForm(request.POST, zone=person(request).time_zone)
    if not form.is_valid():
        return _invalid(request, session, "vitals_form", form)
    data = form.cleaned_data
    try:
        actions.do_record_vitals(
            actor=person(request),
            session=session,
            when=VitalsWhen(data["when"]),
            taken_at=data["taken_at"],
            systolic=data["systolic"],
            diastolic=data["diastolic"],
            heart_rate=data["heart_rate"],
            spo2=data["spo2"],
            via=Via.of(request),
        )
    except actions.RecordError as exc:
        return _refused(request, session, exc, vitals_form=form)
    return _done(request, session, "Vital signs recorded.")


@signed_in
@require_POST
def record_observation(request: HttpRequest, session_id: uuid.UUID) -> HttpResponse:
    session = _session(request, session_id)
    form = ObservationForm(request.POST, zone=person(request).time_zone)
    if not form.is_valid():
        return _invalid(request, session, "observation_form", form)
    data = form.cleaned_data
    try:
        actions.do_record_observation(
            actor=person(request),
            session=session,
            when=ObservedWhen(data["when"]),
            taken_at=data["taken_at"],
            moaas=data["moaas"],
            cadss_form=CadssForm(data["cadss_form"]),
            cadss_score=data["cadss_score"],
            spo2=data["spo2"],
            respiratory_event=data["respiratory_event"],
            respiratory_note=data["respiratory_note"],
            via=Via.of(request),
        )
    except actions.RecordError as exc:
        return _refused(request, session, exc, observation_form=form)
    return _done(request, session, "Sedation and dissociation recorded.")


@signed_in
@require_POST
def record_dose(request: HttpRequest, session_id: uuid.UUID) -> HttpResponse:
    session = _session(request, session_id)
    form = DoseForm(request.POST, zone=person(request).time_zone)
    if not form.is_valid():
        return _invalid(request, session, "dose_form", form)
    data = form.cleaned_data
    try:
        actions.do_record_dose(
            actor=person(request),
            session=session,
            dose_mg=data["dose_mg"],
            lot_number=data.get("lot_number", ""),
            lot=data.get("register_lot"),
            dosed_at=data["taken_at"],
            hold_reason=data["hold_reason"],
            dose_reason=data["dose_reason"],
            sedating_comedications=data["sedating_comedications"],
            via=Via.of(request),
        )
    except actions.RecordError as exc:
        return _refused(request, session, exc, dose_form=form)
    return _done(request, session, "Dose recorded. The observation clock has started.")


@signed_in
@require_POST
def record_adverse_event(request: HttpRequest, session_id: uuid.UUID) -> HttpResponse:
    session = _session(request, session_id)
    form = AdverseEventForm(request.POST, zone=person(request).time_zone)
    if not form.is_valid():
        return _invalid(request, session, "event_form", form)
    data = form.cleaned_data
    try:
        actions.do_record_adverse_event(
            actor=person(request),
            session=session,
            kind=AdverseEventKind(data["kind"]),
            severity=Severity(data["severity"]),
            serious=data["serious"],
            action_taken=data["action_taken"],
            outcome=data["outcome"],
            noted_at=data["taken_at"],
            via=Via.of(request),
        )
    except actions.RecordError as exc:
        return _refused(request, session, exc, event_form=form)
    return _done(request, session, "Adverse event recorded.")


@signed_in
@require_POST
def no_adverse_events(request: HttpRequest, session_id: uuid.UUID) -> HttpResponse:
    session = _session(request, session_id)
    try:
        actions.do_record_no_adverse_events(actor=person(request), session=session, via=Via.of(request))
    except actions.RecordError as exc:
        return _refused(request, session, exc)
    return _done(request, session, "Recorded: no adverse events.")


@signed_in
@require_POST
def discharge(request: HttpRequest, session_id: uuid.UUID) -> HttpResponse:
    session = _session(request, session_id)
    form = DischargeForm(request.POST)
    form.is_valid()
    try:
        actions.do_discharge(
            actor=person(request), session=session, checklist=form.cleaned_data, via=Via.of(request)
        )
    except actions.RecordError as exc:
        return _refused(request, session, exc)
    return _done(request, session, "Patient discharged.")


@signed_in
@require_POST
def sign(request: HttpRequest, session_id: uuid.UUID) -> HttpResponse:
    session = _session(request, session_id)
    try:
        actions.do_sign(actor=person(request), session=session, via=Via.of(request))
    except actions.RecordError as exc:
        return _refused(request, session, exc)
    return _done(
        request, session, "Session record signed. It can no longer be changed; add an addendum to correct it."
    )


@signed_in
@require_POST
def addendum(request: HttpRequest, session_id: uuid.UUID) -> HttpResponse:
    session = _session(request, session_id)
    form = AddendumForm(request.POST)
    if not form.is_valid():
        return _invalid(request, session, "addendum_form", form)
    try:
        actions.do_add_addendum(
            actor=person(request), session=session, text=form.cleaned_data["text"], via=Via.of(request)
        )
    except actions.RecordError as exc:
        return _refused(request, session, exc, addendum_form=form)
    return _done(request, session, "Addendum added.")


# The REMS Patient Monitoring Form ------------------------------------------------------------


def _rems_record(request: HttpRequest, session_id: uuid.UUID) -> SessionRecord:
    """The prescriber of the session, or staff (who send the form); for a signed esketamine
    record only."""
    user = person(request)
    sessions: QuerySet[TreatmentSession] = (
        TreatmentSession.objects.all()
        if user.role == Role.STAFF
        else actions.sessions_for(user).filter(booking__clinician=user)
    )
    session = get_object_or_404(sessions, public_id=session_id)
    record = SessionRecord.objects.filter(session=session).first()
    if record is None or actions.rems_status(record) is None:
        raise Http404
    return record


@signed_in
@require_safe
def rems_form(request: HttpRequest, session_id: uuid.UUID) -> HttpResponse:
    record = _rems_record(request, session_id)
    session = record.session
    user = person(request)
    with transaction.atomic():
        audit_record(
            action=Action.REMS_FORM_VIEWED,
            actor=user,
            subject=record,
            patient=session.plan.patient,
            via=Via.of(request),
        )
    profile = getattr(session.plan.patient, "patient_profile", None)
    return render(
        request,
        "care/rems_form.html",
        {
            "record": record,
            "session": session,
            "plan": session.plan,
            "patient": session.plan.patient,
            "legal_name": getattr(profile, "legal_name", "") if profile else "",
            "born": getattr(profile, "date_of_birth", None) if profile else None,
            "vitals": record.vitals.all(),
            "observations": record.observations.all(),
            "adverse_events": record.adverse_events.all(),
            "serious_events": [e for e in record.adverse_events.all() if e.serious],
            "rems": actions.rems_status(record),
            "zone": user.time_zone,
            "staff": user.role == Role.STAFF,
        },
    )


@role_required(Role.STAFF)
@require_POST
def rems_submitted(request: AuthedRequest, session_id: uuid.UUID) -> HttpResponse:
    record = _rems_record(request, session_id)
    try:
        actions.do_mark_rems_submitted(actor=request.user, record=record, via=Via.of(request))
    except actions.RecordError as exc:
        messages.error(request, exc.message)
        return redirect("care:rems_form", session_id=session_id)
    messages.success(request, "Monitoring form marked as submitted.")
    return redirect("care:rems_form", session_id=session_id)


@dataclass(frozen=True)
class RemsRow:
    record: SessionRecord
    name: str
    status: actions.RemsStatus


@role_required(Role.STAFF)
@require_safe
def rems_due(request: AuthedRequest) -> HttpResponse:
    """Staff: signed esketamine sessions and their monitoring forms, unsent first."""
    records = [
        r
        for r in SessionRecord.objects.filter(signed_at__isnull=False)
        .select_related(
            "session", "session__plan", "session__plan__patient", "session__plan__protocol_version"
        )
        .order_by("dosed_at")
        if actions.is_esketamine(r.session)
    ]
    sent = set(RemsSubmission.objects.filter(record__in=records).values_list("record_id", flat=True))
    rows = [
        RemsRow(r, patient_name(r.session.plan.patient), status)
        for r in records
        if (status := actions.rems_status(r)) is not None
    ]
    rows.sort(key=lambda row: (row.record.pk in sent, row.status.due_by))
    with transaction.atomic():
        audit_record(
            action=Action.REMS_FORM_VIEWED,
            actor=request.user,
            via=Via.of(request),
            reason="list",
            patients=[r.session.plan.patient for r in records],
        )
    return render(request, "care/rems_due.html", {"rows": rows, "zone": request.user.time_zone})
