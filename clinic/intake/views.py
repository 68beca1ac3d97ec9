"""The intake questionnaire (patients) and the intake as clinicians see it."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from clinic.accounts.decorators import person, role_required
from clinic.accounts.models import PatientProfile, Role, User, age_on
from clinic.audit.actions import audit_record
from clinic.audit.models import Action
from clinic.content.crisis import crisis_lines
from clinic.intake import actions, instruments, scoring
from clinic.intake.forms import STEP_KEYS, STEPS, BreakGlassForm, CallbackForm, ConsentForm, form_for
from clinic.intake.models import BreakGlass, IntakeResponse, IntakeStatus, TriageLevel, UrgentItem
from clinic.scheduling.models import Booking, Hold

HOLD_EXTENSION = dt.timedelta(minutes=15)
HOLD_LONGEST = dt.timedelta(minutes=60)
PROFILE_FIELDS = [
    "legal_name", "preferred_name", "phone", "emergency_contact_name", "emergency_contact_phone",
    "home_address",
]  # fmt: skip


def _own_intake(request: HttpRequest, intake_id: uuid.UUID) -> IntakeResponse:
    # Another patient's draft id is simply not found.
    return get_object_or_404(IntakeResponse, public_id=intake_id, patient=request.user)


def _profile(user: User) -> PatientProfile:
    profile, _ = PatientProfile.objects.get_or_create(user=user)
    return profile


def _keep_hold(request: HttpRequest) -> None:
    """While the patient works through the questionnaire, their held time waits for them (up to
    an hour from when it was taken)."""
    from clinic.scheduling.actions import session_hash

    hold_id = request.session.get("intake_hold")
    holder = request.session.get("hold_holder")
    if not hold_id or not holder:
        return
    now = timezone.now()
    with transaction.atomic():
        held = (
            Hold.objects.select_for_update()
            .filter(public_id=hold_id, session_key_hash=session_hash(holder))
            .first()
        )
        if held is None or held.expires_at <= now:
            return
        held.expires_at = min(max(held.expires_at, now + HOLD_EXTENSION), held.created_at + HOLD_LONGEST)
        held.save(update_fields=["expires_at"])


def _next_step(step: str, answers: dict[str, Any]) -> str:
    index = STEP_KEYS.index(step) + 1
    following = STEP_KEYS[index]
    if following == "asq5" and not scoring.needs_asq5(answers):
        following = STEP_KEYS[index + 1]
    return following


def _previous_step(step: str, answers: dict[str, Any]) -> str | None:
    index = STEP_KEYS.index(step)
    if index == 0:
        return None
    previous = STEP_KEYS[index - 1]
    if previous == "asq5" and not scoring.needs_asq5(answers):
        previous = STEP_KEYS[index - 2]
    return previous


@role_required(Role.PATIENT)
@require_safe
def start(request: HttpRequest) -> HttpResponse:
    hold_id = request.GET.get("hold", "")
    try:
        request.session["intake_hold"] = (
            str(uuid.UUID(hold_id)) if hold_id else request.session.get("intake_hold", "")
        )
    except ValueError:
        pass
    patient = person(request)
    waiting = actions.open_acute_intake(patient)
    if waiting is not None:
        # After an acute screen, the on-call clinician speaks with the patient before booking
        # is offered again: the crisis page, not a new questionnaire.
        return redirect("intake:crisis", intake_id=waiting.public_id)
    intake = actions.do_start(patient=patient, request=request)
    return redirect("intake:step", intake_id=intake.public_id, step=intake.step)


@role_required(Role.PATIENT)
@require_http_methods(["GET", "POST"])
def step(request: HttpRequest, intake_id: uuid.UUID, step: str) -> HttpResponse:
    patient = person(request)
    intake = _own_intake(request, intake_id)
    if step not in STEP_KEYS:
        raise Http404("No such step.")
    if intake.status == IntakeStatus.STOPPED_ACUTE:
        return redirect("intake:crisis", intake_id=intake.public_id)
    if intake.status == IntakeStatus.SUBMITTED:
        messages.info(request, "This questionnaire has already been sent. Thank you.")
        return redirect("intake:done", intake_id=intake.public_id)
    answers = intake.answers
    if step == "asq5" and not scoring.needs_asq5(answers):
        return redirect("intake:step", intake_id=intake.public_id, step="conditions")
    # The steps are taken in order: a later step opens only once the ones before it are done.
    if STEP_KEYS.index(step) > STEP_KEYS.index(intake.step):
        return redirect("intake:step", intake_id=intake.public_id, step=intake.step)
    form_class = form_for(step)
    profile = _profile(patient)
    kwargs: dict[str, Any] = {}
    if step == "consent":
        kwargs["legal_name"] = profile.legal_name
    if step == "about":
        initial = {field: getattr(profile, field) for field in PROFILE_FIELDS}
        initial.update(date_of_birth=profile.date_of_birth or None, country=profile.country)
    else:
        initial = {k: v for k, v in answers.items()}
    form = form_class(request.POST or None, initial=initial, **kwargs)
    if request.method == "POST" and form.is_valid():
        return _save(request, patient, intake, step, form.cleaned_data, profile)
    return _render_step(request, intake, step, form, status=400 if request.method == "POST" else 200)


def _render_step(
    request: HttpRequest, intake: IntakeResponse, step: str, form: Any, *, status: int = 200, error: str = ""
) -> HttpResponse:
    answers = intake.answers
    info = STEPS[STEP_KEYS.index(step)]
    visible = [s for s in STEP_KEYS if s != "asq5"]
    number = visible.index(step) + 1 if step in visible else visible.index("asq") + 1
    previous = _previous_step(step, answers)
    context = {
        "intake": intake,
        "form": form,
        "step": step,
        "step_title": info.title,
        "intro": info.intro,
        "step_number": number,
        "step_total": len(visible),
        "step_percent": round(100 * number / len(visible) / 10) * 10,
        "previous_url": reverse("intake:step", args=[intake.public_id, previous]) if previous else "",
        "copyright": instruments.current(step).copyright if step in ("phq9", "gad7") else "",
        "submit_label": "Send my answers" if step == "consent" else "",
        "error": error,
    }
    if step == "consent":
        context["consent_text"] = _consent_text()
    return render(request, "intake/step.html", context, status=status)


def _consent_text() -> str:
    from django.template.loader import render_to_string

    return render_to_string(f"intake/consent_{actions.CONSENT_VERSION}.html")


def _save(
    request: HttpRequest,
    patient: User,
    intake: IntakeResponse,
    step: str,
    data: dict[str, Any],
    profile: PatientProfile,
) -> HttpResponse:
    if step == "about":
        born = data["date_of_birth"]
        if age_on(born, timezone.now().date()) < 18:
            # Adults only: the same rule as booking (scheduling.actions.check_adult), asked early.
            # The held time goes back to others at once.
            from clinic.scheduling.actions import session_hash

            hold_id = request.session.pop("intake_hold", "")
            holder = request.session.get("hold_holder", "")
            if hold_id and holder:
                Hold.objects.filter(public_id=hold_id, session_key_hash=session_hash(holder)).delete()
                from clinic.scheduling.availability import schedule_changed

                schedule_changed()
            return render(
                request,
                "scheduling/not_adult.html",
                {
                    "message": "Our consultations are for adults aged 18 and over.",
                    "lines": crisis_lines(data["country"]),
                },
                status=403,
            )
        _keep_hold(request)
        with transaction.atomic():
            for field in PROFILE_FIELDS:
                setattr(profile, field, data[field])
            profile.date_of_birth = born.isoformat()
            profile.country = data["country"]
            profile.save()
            audit_record(
                action=Action.PROFILE_UPDATED,
                actor=patient,
                subject=patient,
                patient=patient,
                request=request,
            )
            actions.do_save_step(
                patient=patient, intake=intake, step=_next_step(step, intake.answers), values={}
            )
        return redirect("intake:step", intake_id=intake.public_id, step="phq9")
    _keep_hold(request)
    if step == "consent":
        return _submit(request, patient, intake, data["typed_name"])
    values = {k: v for k, v in data.items() if v not in (None, "")}
    merged = {**intake.answers, **values}
    if step == "asq":
        merged.pop("asq5", None)  # a changed ASQ answer asks question 5 afresh
    following = _next_step(step, merged)
    try:
        with transaction.atomic():
            intake = actions.do_save_step(patient=patient, intake=intake, step=following, values=values)
            if step == "asq":
                stale = intake.answers
                stale.pop("asq5", None)
                intake.set_answers(stale)
                intake.save(update_fields=["answers_json"])
    except actions.IntakeError as exc:
        messages.error(request, exc.message)
        return redirect("accounts:patient_home")
    # Only question 5 can make the screen acute, so it is checked once that answer is in.
    if step == "asq5" and scoring.score_asq(intake.answers).result == scoring.AsqOutcome.ACUTE:
        actions.do_stop_acute(patient=patient, intake=intake, request=request)
        return redirect("intake:crisis", intake_id=intake.public_id)
    return redirect("intake:step", intake_id=intake.public_id, step=following)


def _submit(request: HttpRequest, patient: User, intake: IntakeResponse, typed_name: str) -> HttpResponse:
    try:
        intake = actions.do_submit(patient=patient, intake=intake, consent_name=typed_name, request=request)
    except actions.IntakeError as exc:
        form = ConsentForm(legal_name=_profile(patient).legal_name)
        return _render_step(request, intake, "consent", form, status=400, error=exc.message)
    hold_id = request.session.pop("intake_hold", "")
    if hold_id and Hold.objects.filter(public_id=hold_id, expires_at__gt=timezone.now()).exists():
        return redirect("scheduling:confirm", hold_id=hold_id)
    return redirect("intake:done", intake_id=intake.public_id)


@role_required(Role.PATIENT)
@require_safe
def done(request: HttpRequest, intake_id: uuid.UUID) -> HttpResponse:
    intake = _own_intake(request, intake_id)
    if intake.status == IntakeStatus.DRAFT:
        return redirect("intake:step", intake_id=intake.public_id, step=intake.step)
    return render(
        request,
        "intake/done.html",
        {
            "safety_first": intake.triage == TriageLevel.SAFETY_FIRST,
            "lines": crisis_lines(_profile(person(request)).country),
        },
    )


@role_required(Role.PATIENT)
@require_http_methods(["GET", "POST"])
def crisis(request: HttpRequest, intake_id: uuid.UUID) -> HttpResponse:
    patient = person(request)
    intake = _own_intake(request, intake_id)
    if intake.status != IntakeStatus.STOPPED_ACUTE:
        raise Http404("No crisis page for this questionnaire.")
    profile = _profile(patient)
    form = CallbackForm(request.POST or None, initial={"phone": profile.phone, "phone_again": ""})
    callback = UrgentItem.objects.filter(intake=intake, kind="callback").first()
    status = 200
    if request.method == "POST" and callback is None:
        if form.is_valid():
            actions.do_request_callback(
                patient=patient, intake=intake, phone=form.cleaned_data["phone"], request=request
            )
            return redirect("intake:crisis", intake_id=intake.public_id)
        status = 400
    return render(
        request,
        "intake/crisis.html",
        {"lines": crisis_lines(profile.country), "form": form, "callback": callback},
        status=status,
    )


@role_required(Role.PATIENT)
@require_safe
def mine(request: HttpRequest) -> HttpResponse:
    patient = person(request)
    intake = (
        IntakeResponse.objects.filter(patient=patient, status=IntakeStatus.SUBMITTED)
        .order_by("-submitted_at")
        .first()
    )
    context: dict[str, Any] = {"intake": intake}
    if intake is not None:
        answers = actions.read_intake(user=patient, intake=intake, request=request) or {}
        context.update(summary(intake, answers, for_patient=True))
    return render(request, "intake/mine.html", context)


def summary(intake: IntakeResponse, answers: dict[str, Any], *, for_patient: bool = False) -> dict[str, Any]:
    """Everything a summary page shows, from the versions the answers were given on."""
    versions = intake.versions or {}

    def answered(key: str) -> list[dict[str, Any]]:
        instrument = instruments.get(key, versions.get(key, instruments.current(key).version))
        rows = []
        for item in instrument.items:
            value = answers.get(item.key)
            label = next((c.label for c in item.choices if c.value == value), value or "")
            if item.key == "asq5" and value is None:
                continue
            rows.append({"key": item.key, "text": item.text, "answer": label})
        return rows

    checklist = instruments.get_checklist("history", versions.get("history", 1))
    flags = [
        {
            "label": flag.label,
            "kind": str(flag.kind),
            "answer": next((c.label for c in flag.choices if c.value == answers.get(flag.key)), ""),
        }
        for flag in checklist.flags
    ]
    raised = [
        f for f in flags if f["answer"] == "Yes" and f["kind"] in ("label_contraindication", "precaution")
    ]
    medicines = [f for f in flags if f["answer"] == "Yes" and f["kind"] == "medication"]
    history = [f for f in flags if f["kind"] == "treatment_history"]
    return {
        "phq9_rows": answered("phq9"),
        "gad7_rows": answered("gad7"),
        "asq_rows": answered("asq"),
        "raised_flags": raised,
        "medicines": medicines,
        "medicines_list": answers.get("medicines_list", ""),
        "conditions_other": answers.get("conditions_other", ""),
        "substances_other": answers.get("substances_other", ""),
        "history": history,
        "phq9_meaning": scoring.band_meaning("phq9", intake.phq9_band) if intake.phq9_band else "",
        "gad7_meaning": scoring.band_meaning("gad7", intake.gad7_band) if intake.gad7_band else "",
        "for_patient": for_patient,
    }


# Clinicians ------------------------------------------------------------------------------------


@role_required(Role.CLINICIAN)
@require_safe
def appointment(request: HttpRequest, booking_id: uuid.UUID) -> HttpResponse:
    """An appointment as its clinician prepares for it: who, when, triage and the intake."""
    clinician = person(request)
    booking = get_object_or_404(
        Booking.objects.select_related("patient", "appointment_type", "intake"),
        public_id=booking_id,
        clinician=clinician,
    )
    from clinic.visits.actions import note_for, sign_problems
    from clinic.visits.models import Attendance, Visit
    from clinic.visits.workspace import NoteForm

    note = note_for(booking)
    note_form = NoteForm(instance=note)
    checklist = ("identity_method", "location_confirmed", "others_present")
    context: dict[str, Any] = {
        "booking": booking,
        "zone": clinician.time_zone,
        "profile": _profile(booking.patient),
        "note": note,
        "checklist_fields": [note_form[name] for name in checklist],
        "note_fields": [note_form[name] for name in NoteForm.Meta.fields if name not in checklist],
        "sign_problems": sign_problems(note, booking),
        "addenda": note.addenda.select_related("author"),
        "visit": Visit.objects.filter(booking=booking).first(),
        "attendance": Attendance.objects.filter(visit__booking=booking).select_related("user"),
        "started": booking.start <= timezone.now(),
    }
    if note.is_signed or note.reason:
        with transaction.atomic():
            audit_record(
                action=Action.NOTE_VIEWED,
                actor=clinician,
                subject=note,
                patient=booking.patient,
                request=request,
            )
    intake = booking.intake
    if intake is not None:
        answers = actions.read_intake(user=clinician, intake=intake, request=request)
        if answers is not None:
            context.update(summary(intake, answers), intake=intake)
    return render(request, "intake/appointment.html", context)


@role_required(Role.CLINICIAN)
@require_http_methods(["GET", "POST"])
def patient_intake(request: HttpRequest, patient_id: uuid.UUID) -> HttpResponse:
    """A patient's latest intake. Without a relationship a clinician may break the glass: with a
    reason, for an hour, audited and reviewed by staff."""
    clinician = person(request)
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
                clinician=clinician, patient=patient, reason=form.cleaned_data["reason"], request=request
            )
            return redirect("intake:patient_intake", patient_id=patient.public_id)
        return render(request, "intake/break_glass.html", {"form": form, "patient": patient}, status=400)
    answers = actions.read_intake(user=clinician, intake=intake, request=request)
    if answers is None:
        return render(request, "intake/break_glass.html", {"form": form, "patient": patient}, status=403)
    urgent_items = UrgentItem.objects.filter(patient=patient).select_related("acknowledged_by")[:10]
    context = {
        "intake": intake,
        "patient": patient,
        "profile": _profile(patient),
        "zone": clinician.time_zone,
        "urgent_items": urgent_items,
        **summary(intake, answers),
    }
    return render(request, "intake/patient_intake.html", context)


@role_required(Role.CLINICIAN)
@require_POST
def acknowledge(request: HttpRequest, item_id: uuid.UUID) -> HttpResponse:
    clinician = person(request)
    if clinician not in actions.on_call_clinicians():
        raise Http404
    item = get_object_or_404(UrgentItem, public_id=item_id)
    actions.do_acknowledge(clinician=clinician, item=item, request=request)
    messages.success(request, "Acknowledged. Thank you.")
    return redirect("accounts:clinician_home")


# Staff -----------------------------------------------------------------------------------------


@role_required(Role.STAFF)
@require_safe
def break_glass_review(request: HttpRequest) -> HttpResponse:
    grants = BreakGlass.objects.select_related("clinician", "patient", "reviewed_by")[:200]
    return render(request, "intake/break_glass_review.html", {"grants": grants})


@role_required(Role.STAFF)
@require_POST
def break_glass_reviewed(request: HttpRequest, grant_id: uuid.UUID) -> HttpResponse:
    grant = get_object_or_404(BreakGlass, public_id=grant_id)
    actions.do_review_break_glass(staff=person(request), grant=grant, request=request)
    return redirect("intake:break_glass_review")


@role_required(Role.STAFF)
@require_POST
def toggle_on_call(request: HttpRequest, user_id: uuid.UUID) -> HttpResponse:
    clinician = get_object_or_404(User, public_id=user_id, role=Role.CLINICIAN)
    with transaction.atomic():
        clinician.on_call = not clinician.on_call
        clinician.save(update_fields=["on_call"])
        audit_record(
            action=Action.ON_CALL_CHANGED,
            actor=person(request),
            subject=clinician,
            request=request,
            reason="on" if clinician.on_call else "off",
        )
    return redirect("accounts:people")
