"""The treatment course's pages.

- Clinician: starting a plan from a consultation, the course page per patient (timeline, reviews,
  prescribing record), booking a session, approving protocol versions.
- Staff: protocols and routes, legal-basis rules, plans whose legal basis or PDMP check lapses.
- Patient: their plan in plain words (never a dose), the treatment consent, the check-in before
  each session.

Every page that shows a patient's data writes its read audit row; lookups go through the
permission check, so another person's plan is simply not found (404)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from clinic.accounts.decorators import AuthedRequest, role_required
from clinic.accounts.jurisdictions import jurisdiction_name
from clinic.accounts.models import PatientProfile, Role, User
from clinic.audit.actions import Via, audit_record
from clinic.audit.models import Action
from clinic.care import actions, consent, forms
from clinic.care.lapses import lapsing, plan_lapses
from clinic.care.models import (
    LegalBasisRule,
    PlanStatus,
    PreSessionCheckIn,
    Protocol,
    ProtocolVersion,
    Route,
    RouteSetting,
    SessionRecord,
    SessionStatus,
    TreatmentPlan,
    TreatmentSession,
    VitalsWhen,
    local_date,
    plan_may_schedule,
)
from clinic.care.session_actions import rems_status
from clinic.content.crisis import crisis_lines
from clinic.intake import instruments
from clinic.measures import charts as measures_charts
from clinic.scheduling import availability
from clinic.scheduling.models import AppointmentType, Booking
from clinic.scheduling.slots import group_by_local_day
from clinic.visits.models import ConsultNote, Decision


def _known_as(patient: User) -> str:
    """The name a patient is known by: their preferred name, else their account's; never the
    legal name (that is for the chart and emergencies)."""
    profile = PatientProfile.objects.filter(user=patient).first()
    return (profile.preferred_name if profile else "") or patient.display_name or "Patient"


def _flag_labels() -> dict[str, str]:
    return {flag.key: flag.label for flag in instruments.current_checklist().flags}


def _error(request: HttpRequest, exc: actions.CareError) -> None:
    messages.error(request, exc.message)


# Clinician ---------------------------------------------------------------------------------------


def _course_plan(request: AuthedRequest, plan_id: uuid.UUID) -> TreatmentPlan:
    """A plan the clinician may act on (theirs): anyone else's is not found."""
    return get_object_or_404(TreatmentPlan.objects.for_clinician(request.user), public_id=plan_id)


@role_required(Role.CLINICIAN)
@require_http_methods(["GET", "POST"])
def plan_start(request: AuthedRequest, booking_id: uuid.UUID) -> HttpResponse:
    """Start a plan from a signed consultation whose decision was "suitable"."""
    clinician = request.user
    booking = get_object_or_404(
        Booking.objects.for_clinician(clinician).select_related("patient", "intake"), public_id=booking_id
    )
    note = ConsultNote.objects.filter(booking=booking).first()
    if note is None or not note.is_signed or note.decision != Decision.SUITABLE:
        raise Http404("A plan starts from a signed note that found the patient suitable.")
    existing = TreatmentPlan.objects.filter(patient=booking.patient).open().first()
    enabled = RouteSetting.objects.filter(enabled=True).values_list("route", flat=True)
    versions = (
        ProtocolVersion.objects.filter(approved_at__isnull=False, route__in=list(enabled))
        .select_related("protocol")
        .order_by("protocol__name", "-number")
    )
    current = [v for v in versions if v == v.protocol.current_version()]
    version_qs = ProtocolVersion.objects.filter(pk__in=[v.pk for v in current]).select_related("protocol")
    form = forms.StartPlanForm(
        request.POST or None, versions=version_qs, initial={"baseline_source": "intake"}
    )
    status = 200
    if request.method == "POST" and existing is None:
        if form.is_valid():
            data = form.cleaned_data
            try:
                actions.do_start_plan(
                    actor=clinician, note=note, version=data["version"], indication=data["indication"],
                    baseline_source=data["baseline_source"], baseline_phq9=data["baseline_phq9"],
                    baseline_gad7=data["baseline_gad7"], weight_kg=data["weight_kg"],
                    systolic=data["systolic"], diastolic=data["diastolic"],
                    identity_method=data["identity_method"], pharmacy=data["pharmacy"], via=Via.of(request),
                )  # fmt: skip
            except actions.CareError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(
                    request, "Plan started. The patient can now read and sign the treatment consent."
                )
                return redirect("care:course", patient_id=booking.patient.public_id)
        status = 400
    with transaction.atomic():
        audit_record(
            action=Action.PLAN_VIEWED,
            actor=clinician,
            subject=booking,
            patient=booking.patient,
            via=Via.of(request),
            reason="plan start",
        )
    labels = _flag_labels()
    return render(
        request,
        "care/plan_start.html",
        {
            "booking": booking,
            "patient_name": _known_as(booking.patient),
            "intake": booking.intake,
            "flags": [labels.get(key, key) for key in actions.intake_flags(booking.intake)],
            "form": form,
            "no_protocols": not current,
            "existing": existing,
        },
        status=status,
    )


@role_required(Role.CLINICIAN)
@require_safe
def course(request: AuthedRequest, patient_id: uuid.UUID) -> HttpResponse:
    """A patient's treatment course: the plan, its sessions with what each record holds (the
    pre-dose reading, the dose, adverse events), the REMS forms due, reviews, the prescribing
    record and the measures chart."""
    clinician = request.user
    patient = get_object_or_404(User, public_id=patient_id, role=Role.PATIENT)
    reason = actions.course_access(clinician, patient)
    if reason is None:
        raise Http404("No such course.")
    plans = list(
        TreatmentPlan.objects.for_patient(patient).select_related("protocol_version__protocol", "clinician")
    )
    plan = next((p for p in plans if p.status in (PlanStatus.PREPARING, PlanStatus.ACTIVE)), None) or (
        plans[0] if plans else None
    )
    with transaction.atomic():
        audit_record(
            action=Action.COURSE_VIEWED,
            actor=clinician,
            subject=plan or patient,
            patient=patient,
            via=Via.of(request),
            reason=reason,
        )
    now = timezone.now()
    context: dict[str, Any] = {
        "patient": patient,
        "patient_name": _known_as(patient),
        "plan": plan,
        "plans": plans,
        "zone": clinician.time_zone,
        "reason": reason,
        "suitable_notes": ConsultNote.objects.filter(
            patient=patient, decision=Decision.SUITABLE, signed_at__isnull=False, booking__clinician=clinician
        ).select_related("booking"),
    }
    if plan is not None:
        sessions = list(plan.sessions.select_related("booking", "booking__clinician", "nurse"))
        checkins = {c.session_id: c for c in PreSessionCheckIn.objects.filter(session__in=sessions)}
        records = {
            r.session_id: r
            for r in SessionRecord.objects.filter(session__in=sessions).prefetch_related(
                "vitals", "adverse_events"
            )
        }
        adverse_events, rems_due = [], []
        for session in sessions:
            session.checkin_row = checkins.get(session.pk)  # type: ignore[attr-defined]
            record = session.record_row = records.get(session.pk)  # type: ignore[attr-defined]
            if record is None:
                continue
            vitals = list(record.vitals.all())
            record.pre_dose = next((v for v in vitals if v.when == VitalsWhen.PRE_DOSE), None)  # type: ignore[attr-defined]
            adverse_events += [(session, event) for event in record.adverse_events.all()]
            if (rems := rems_status(record, now)) is not None:
                rems_due.append((session, rems))
        labels = _flag_labels()
        reviews = list(plan.contraindication_reviews.select_related("reviewed_by"))
        for review in reviews:
            review.label = labels.get(review.flag_key, review.flag_key)  # type: ignore[attr-defined]
        today = local_date(now, plan.jurisdiction)
        is_own = plan.clinician_id == clinician.pk
        context.update(
            version=plan.protocol_version,
            done=[s for s in sessions if s.status == SessionStatus.DONE],
            upcoming=[
                s for s in sessions if s.status in (SessionStatus.SCHEDULED, SessionStatus.IN_PROGRESS)
            ],
            missed=[s for s in sessions if s.status in (SessionStatus.MISSED, SessionStatus.CANCELLED)],
            sessions=sessions,
            adverse_events=adverse_events,
            rems_due=rems_due,
            reviews=reviews,
            signature=plan.consent_signature(),
            legal_basis=plan.legal_basis(),
            pdmp=plan.pdmp_check(),
            pdmp_max_age_days=settings.CARE_PDMP_MAX_AGE_DAYS,
            blockers=[r.label for r in plan_may_schedule(plan, today)],
            lapses=plan_lapses(plan, now=now),
            is_own=is_own,
            review_form=forms.ReviewForm(),
            pdmp_form=forms.PdmpForm(initial={"state": plan.jurisdiction}),
            basis_form=forms.LegalBasisForm(),
            jurisdiction_name=jurisdiction_name(plan.jurisdiction),
            # The check-ins' chart, read under this page's one audit row.
            measures_chart=measures_charts.course_chart(patient, plan.public_id, actions.session_dates(plan)),
        )
    return render(request, "care/course.html", context)


@role_required(Role.CLINICIAN)
@require_POST
def plan_review(request: AuthedRequest, plan_id: uuid.UUID) -> HttpResponse:
    plan = _course_plan(request, plan_id)
    form = forms.ReviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Write a review note.")
    else:
        try:
            actions.do_review_contraindication(
                actor=request.user, plan=plan, flag_key=form.cleaned_data["flag_key"],
                note=form.cleaned_data["note"], via=Via.of(request),
            )  # fmt: skip
            messages.success(request, "Review saved.")
        except actions.CareError as exc:
            _error(request, exc)
    return redirect("care:course", patient_id=plan.patient.public_id)


@role_required(Role.CLINICIAN)
@require_POST
def plan_pdmp(request: AuthedRequest, plan_id: uuid.UUID) -> HttpResponse:
    plan = _course_plan(request, plan_id)
    form = forms.PdmpForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Fill in the state, the time, what it showed and the attestation.")
    else:
        data = form.cleaned_data
        checked_at = data["checked_at"]
        if timezone.is_naive(checked_at):
            checked_at = timezone.make_aware(checked_at, request.user.zone)
        try:
            actions.do_record_pdmp_check(
                actor=request.user, plan=plan, state=data["state"], checked_at=checked_at,
                result_summary=data["result_summary"], attested=data["attested"], via=Via.of(request),
            )  # fmt: skip
            messages.success(request, "PDMP check recorded.")
        except actions.CareError as exc:
            _error(request, exc)
    return redirect("care:course", patient_id=plan.patient.public_id)


@role_required(Role.CLINICIAN)
@require_POST
def plan_legal_basis(request: AuthedRequest, plan_id: uuid.UUID) -> HttpResponse:
    plan = _course_plan(request, plan_id)
    form = forms.LegalBasisForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose the legal basis.")
    else:
        data = form.cleaned_data
        evaluated_by = None
        if data["evaluated_by_email"]:
            evaluated_by = User.objects.filter(
                email=data["evaluated_by_email"].lower(), role=Role.CLINICIAN
            ).first()
            if evaluated_by is None:
                messages.error(request, "No clinician has that email address.")
                return redirect("care:course", patient_id=plan.patient.public_id)
        try:
            actions.do_record_legal_basis(
                actor=request.user, plan=plan, rule=data["rule"], evaluated_on=data["evaluated_on"],
                evaluated_by=evaluated_by, via=Via.of(request),
            )  # fmt: skip
            messages.success(request, "Legal basis recorded.")
        except actions.CareError as exc:
            _error(request, exc)
    return redirect("care:course", patient_id=plan.patient.public_id)


@role_required(Role.CLINICIAN)
@require_http_methods(["GET", "POST"])
def session_book(request: AuthedRequest, session_id: uuid.UUID) -> HttpResponse:
    """Book one planned session in the clinician's own free times of the session type."""
    clinician = request.user
    session = get_object_or_404(
        TreatmentSession.objects.filter(plan__clinician=clinician).select_related("plan", "plan__patient"),
        public_id=session_id,
    )
    plan = session.plan
    if request.method == "POST":
        try:
            start = dt.datetime.fromisoformat(request.POST.get("start", ""))
            if start.tzinfo is None:
                raise ValueError
        except ValueError:
            messages.error(request, "Choose one of the times shown.")
            return redirect("care:session_book", session_id=session.public_id)
        try:
            actions.do_book_session(actor=clinician, session=session, start=start, via=Via.of(request))
        except actions.CareError as exc:
            _error(request, exc)
            return redirect("care:session_book", session_id=session.public_id)
        messages.success(request, "Session booked. The patient has been emailed an invitation.")
        return redirect("care:course", patient_id=plan.patient.public_id)
    with transaction.atomic():
        audit_record(
            action=Action.PLAN_VIEWED,
            actor=clinician,
            subject=plan,
            patient=plan.patient,
            via=Via.of(request),
            reason="session booking",
        )
    kind = AppointmentType.objects.get(kind=actions.session_kind(plan))
    now = timezone.now()
    found, _ = availability.free_slots(
        jurisdiction=plan.jurisdiction,
        appointment_type=kind,
        start=now,
        end=now + dt.timedelta(days=21),
        clinician_ids=[str(clinician.public_id)],
    )
    return render(
        request,
        "care/session_book.html",
        {
            "session": session,
            "plan": plan,
            "patient_name": _known_as(plan.patient),
            "kind": kind,
            "days": group_by_local_day(found, clinician.time_zone),
            "zone": clinician.time_zone,
            "blockers": [r.label for r in plan_may_schedule(plan, local_date(now, plan.jurisdiction))],
            "booked": session.booking is not None or session.status != SessionStatus.SCHEDULED,
        },
    )


# Protocols (staff write, clinicians approve) -----------------------------------------------------


def _version_kwargs(data: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "induction_sessions", "induction_weeks", "induction_min_days_between", "maintenance_sessions",
        "maintenance_interval_days", "dose_unit", "dose_min", "dose_max", "observation_minutes",
        "hold_systolic_above", "hold_diastolic_above", "hold_heart_rate_above", "hold_spo2_below", "checkins",
    )  # fmt: skip
    return {key: data[key] for key in keys}


@role_required(Role.STAFF, Role.CLINICIAN)
@require_safe
def protocols(request: AuthedRequest) -> HttpResponse:
    """The clinic's protocols and their versions, the routes on and off, the legal-basis rules."""
    settings_by_route = {s.route: s for s in RouteSetting.objects.all()}
    return render(
        request,
        "care/protocols.html",
        {
            "protocols": Protocol.objects.prefetch_related("versions").order_by("route", "name"),
            "routes": [(route, settings_by_route.get(route)) for route in Route],
            "rules": LegalBasisRule.objects.all(),
            "rule_form": forms.LegalBasisRuleForm(),
            "is_staff": request.user.role == Role.STAFF,
            "is_clinician": request.user.role == Role.CLINICIAN,
        },
    )


@role_required(Role.STAFF)
@require_http_methods(["GET", "POST"])
def protocol_new(request: AuthedRequest, protocol_id: uuid.UUID | None = None) -> HttpResponse:
    """A new protocol, or a new version of one (the form starts from its newest version)."""
    protocol = get_object_or_404(Protocol, public_id=protocol_id) if protocol_id else None
    initial: dict[str, Any] = {}
    latest = protocol.versions.order_by("-number").first() if protocol else None
    if latest is not None:
        initial = {
            field: getattr(latest, field)
            for field in forms.ProtocolVersionForm.base_fields
            if hasattr(latest, field)
        }
    form_class = forms.ProtocolVersionForm if protocol else forms.NewProtocolForm
    form = form_class(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                actions.do_create_protocol_version(
                    actor=request.user, protocol=protocol, name=data.get("name", ""),
                    route=data.get("route", ""), via=Via.of(request), **_version_kwargs(data),
                )  # fmt: skip
            except actions.CareError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(
                    request, "Version saved. A clinician must approve it before plans can use it."
                )
                return redirect("care:protocols")
        status = 400
    return render(request, "care/protocol_form.html", {"form": form, "protocol": protocol}, status=status)


@role_required(Role.CLINICIAN)
@require_POST
def protocol_approve(request: AuthedRequest, version_id: uuid.UUID) -> HttpResponse:
    version = get_object_or_404(ProtocolVersion, public_id=version_id)
    try:
        actions.do_approve_protocol(actor=request.user, version=version, via=Via.of(request))
        messages.success(request, f"{version} approved.")
    except actions.CareError as exc:
        _error(request, exc)
    return redirect("care:protocols")


@role_required(Role.STAFF)
@require_POST
def route_toggle(request: AuthedRequest, route: str) -> HttpResponse:
    if route not in Route.values:
        raise Http404("No such route.")
    actions.do_set_route_enabled(
        actor=request.user, route=route, enabled=request.POST.get("enabled") == "1", via=Via.of(request)
    )
    messages.success(request, "Route updated.")
    return redirect("care:protocols")


@role_required(Role.STAFF)
@require_POST
def legal_basis_rule_new(request: AuthedRequest) -> HttpResponse:
    form = forms.LegalBasisRuleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the rule a name, a kind and valid dates.")
        return redirect("care:protocols")
    try:
        actions.do_create_legal_basis_rule(actor=request.user, via=Via.of(request), **form.cleaned_data)
        messages.success(request, "Legal basis saved.")
    except actions.CareError as exc:
        _error(request, exc)
    return redirect("care:protocols")


@role_required(Role.STAFF)
@require_safe
def lapsing_plans(request: AuthedRequest) -> HttpResponse:
    """Plans whose legal basis or PDMP check has lapsed or lapses soon: who to chase. Names and
    dates only, never clinical detail."""
    found = lapsing()
    for lapse in found:
        lapse.plan.known_as = _known_as(lapse.plan.patient)  # type: ignore[attr-defined]
    with transaction.atomic():
        audit_record(
            action=Action.LAPSING_VIEWED,
            actor=request.user,
            via=Via.of(request),
            patients=[lapse.plan.patient for lapse in found],
        )
    return render(
        request, "care/lapsing.html", {"lapses": found, "warning_days": settings.CARE_LAPSE_WARNING_DAYS}
    )


# Patient -----------------------------------------------------------------------------------------


def _own_open_plan(request: AuthedRequest) -> TreatmentPlan | None:
    return (
        TreatmentPlan.objects.for_patient(request.user)
        .open()
        .select_related("protocol_version", "clinician")
        .first()
    )


@role_required(Role.PATIENT)
@require_safe
def my_plan(request: AuthedRequest) -> HttpResponse:
    """The patient's plan in plain words: how many sessions, where, how to prepare, the check-ins,
    who to contact. No dose and no clinical number."""
    patient = request.user
    plan = _own_open_plan(request)
    if plan is None:
        return render(request, "care/my_plan.html", {"plan": None})
    with transaction.atomic():
        audit_record(
            action=Action.PLAN_VIEWED,
            actor=patient,
            subject=plan,
            patient=patient,
            via=Via.of(request),
            reason="own plan",
        )
    now = timezone.now()
    sessions = list(plan.sessions.select_related("booking"))
    upcoming = [
        s for s in sessions if s.status == SessionStatus.SCHEDULED and s.booking and s.booking.start > now
    ]
    version = plan.protocol_version
    profile = PatientProfile.objects.filter(user=patient).first()
    return render(
        request,
        "care/my_plan.html",
        {
            "plan": plan,
            "version": version,
            "at_home": plan.at_home,
            "upcoming": upcoming,
            "done_count": sum(1 for s in sessions if s.status == SessionStatus.DONE),
            "due": actions.due_checkins(patient, now),
            "signed": plan.consent_signature() is not None,
            "zone": patient.time_zone,
            "checkin_items": version.checkins,
            "lines": crisis_lines(profile.country if profile else settings.DEFAULT_COUNTRY),
        },
    )


@role_required(Role.PATIENT)
@require_http_methods(["GET", "POST"])
def my_consent(request: AuthedRequest) -> HttpResponse:
    patient = request.user
    plan = _own_open_plan(request)
    if plan is None:
        raise Http404("No plan to consent to.")
    signature = plan.consent_signature()
    if request.method == "GET":
        with transaction.atomic():
            audit_record(
                action=Action.PLAN_VIEWED,
                actor=patient,
                subject=plan,
                patient=patient,
                via=Via.of(request),
                reason="own consent",
            )
    form = forms.ConsentSignForm(request.POST or None, initial={"version": plan.consent_version})
    status = 200
    if request.method == "POST" and signature is None:
        if form.is_valid():
            try:
                actions.do_sign_treatment_consent(
                    patient=patient, plan=plan, typed_name=form.cleaned_data["typed_name"],
                    version=form.cleaned_data["version"], via=Via.of(request),
                )  # fmt: skip
            except actions.CareError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, "Thank you. Your consent is signed.")
                return redirect("care:my_plan")
        status = 400
    return render(
        request,
        "care/consent.html",
        {
            "plan": plan,
            "paragraphs": consent.consent_text(plan.consent_version),
            "version": plan.consent_version,
            "signature": signature,
            "form": form,
            "zone": patient.time_zone,
        },
        status=status,
    )


def _own_session(request: AuthedRequest, session_id: uuid.UUID) -> TreatmentSession:
    return get_object_or_404(
        TreatmentSession.objects.for_patient(request.user).select_related(
            "plan__protocol_version", "booking"
        ),
        public_id=session_id,
    )


@role_required(Role.PATIENT)
@require_http_methods(["GET", "POST"])
def checkin(request: AuthedRequest, session_id: uuid.UUID) -> HttpResponse:
    """The check-in before a session: the intake's ASQ and the protocol's questions."""
    session = _own_session(request, session_id)
    existing = PreSessionCheckIn.objects.filter(session=session).first()
    if existing is not None and existing.status == "stopped_acute":
        return redirect("care:checkin_crisis", session_id=session.public_id)
    form_class = forms.checkin_form(session.plan.protocol_version.checkins)
    form = form_class(request.POST or None)
    status = 200
    if request.method == "POST" and existing is None:
        if form.is_valid():
            try:
                done = actions.do_submit_checkin(
                    patient=request.user, session=session, answers=form.cleaned_data, via=Via.of(request)
                )
            except actions.CareError as exc:
                form.add_error(None, exc.message)
            else:
                if done.status == "stopped_acute":
                    return redirect("care:checkin_crisis", session_id=session.public_id)
                if done.triage not in ("", "routine"):
                    # INSTRUMENTS.md: a positive screen that is not acute means a same-day call
                    # and the crisis resources in view (the plan page lists them).
                    messages.warning(
                        request,
                        "Thank you. Some of your answers matter a lot to us: a clinician will contact "
                        "you today, before the session. If things get worse before then, don't wait: "
                        "call your emergency number or a crisis line (below, under “Who to contact”).",
                    )
                else:
                    messages.success(
                        request, "Thank you. Your care team will see your answers before the session."
                    )
                return redirect("care:my_plan")
        status = 400
    return render(
        request,
        "care/checkin.html",
        {
            "session": session,
            "form": form,
            "existing": existing,
            "open": actions.checkin_open(session),
            "zone": request.user.time_zone,
        },
        status=status,
    )


@role_required(Role.PATIENT)
@require_safe
def checkin_crisis(request: AuthedRequest, session_id: uuid.UUID) -> HttpResponse:
    """Shown at once after an acute answer: crisis numbers; the session is off."""
    session = _own_session(request, session_id)
    if not PreSessionCheckIn.objects.filter(session=session, status="stopped_acute").exists():
        raise Http404("No crisis page for this check-in.")
    profile = PatientProfile.objects.filter(user=request.user).first()
    return render(
        request,
        "care/checkin_crisis.html",
        {"lines": crisis_lines(profile.country if profile else settings.DEFAULT_COUNTRY)},
    )
