"""The intake questionnaire, as the patient fills it in, and the patient's own view of it.

Clinicians read intakes on their appointment and chart pages (``clinic.visits``), through the
access rules there.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from clinic.accounts.decorators import AuthedRequest, person, role_required
from clinic.accounts.models import PatientProfile, Role, User
from clinic.accounts.validators import is_adult
from clinic.audit.actions import Via
from clinic.content.crisis import crisis_lines
from clinic.intake import actions, instruments, journey, scoring
from clinic.intake.forms import STEP_KEYS, STEPS, CallbackForm, ConsentForm, form_for
from clinic.intake.models import IntakeResponse, IntakeStatus, TriageLevel, UrgentItem
from clinic.intake.summary import summary

NEXT_KEY = "intake_next"


def _own_intake(request: HttpRequest, intake_id: uuid.UUID) -> IntakeResponse:
    # Another patient's draft id is simply not found.
    return get_object_or_404(IntakeResponse.objects.for_patient(person(request)), public_id=intake_id)


def _profile(user: User) -> PatientProfile:
    return PatientProfile.objects.filter(user=user).first() or PatientProfile(user=user)


def _safe_next(request: HttpRequest, target: str) -> str:
    """A path on this site to return to, or "" (never another site: an open redirect)."""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts=None) and target.startswith("/"):
        return target
    return ""


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
def start(request: AuthedRequest) -> HttpResponse:
    """Start or resume the questionnaire. ``?next=`` is where to go once it is sent (the page
    that asked for it, e.g. confirming a held time)."""
    if "next" in request.GET:
        request.session[NEXT_KEY] = _safe_next(request, request.GET["next"])
    patient = request.user
    waiting = actions.open_acute_intake(patient)
    if waiting is not None:
        # After an acute screen, the on-call clinician speaks with the patient before booking
        # is offered again: the crisis page, not a new questionnaire.
        return redirect("intake:crisis", intake_id=waiting.public_id)
    intake = actions.do_start(patient=patient, via=Via.of(request))
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
        initial = {field: getattr(profile, field) for field in actions.PROFILE_FIELDS}
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
        **journey.current().banner(request),
    }
    if step == "consent":
        context["consent_text"] = render_to_string(f"intake/consent_{actions.CONSENT_VERSION}.html")
    return render(request, "intake/step.html", context, status=status)


def _save(
    request: HttpRequest,
    patient: User,
    intake: IntakeResponse,
    step: str,
    data: dict[str, Any],
    profile: PatientProfile,
) -> HttpResponse:
    if step == "about":
        if not is_adult(data["date_of_birth"], timezone.now().date()):
            # Adults only: the same rule as booking, asked early. Whatever was kept for the
            # patient (a held time) goes back to others at once.
            journey.current().stop(request)
            return render(
                request,
                "content/not_adult.html",
                {
                    "message": "Our consultations are for adults aged 18 and over.",
                    "lines": crisis_lines(data["country"]),
                },
                status=403,
            )
        journey.current().keep(request)
        actions.do_save_about(
            patient=patient,
            intake=intake,
            values=data,
            next_step=_next_step(step, intake.answers),
            via=Via.of(request),
        )
        return redirect("intake:step", intake_id=intake.public_id, step="phq9")
    journey.current().keep(request)
    if step == "consent":
        return _submit(request, patient, intake, data["typed_name"])
    values = {k: v for k, v in data.items() if v not in (None, "")}
    merged = {**intake.answers, **values}
    if step == "asq":
        merged.pop("asq5", None)  # a changed ASQ answer asks question 5 afresh
    following = _next_step(step, merged)
    try:
        intake = actions.do_save_step(
            patient=patient,
            intake=intake,
            step=following,
            values=values,
            forget=["asq5"] if step == "asq" else [],
        )
    except actions.IntakeError as exc:
        messages.error(request, exc.message)
        return redirect("accounts:home")
    # Only question 5 can make the screen acute, so it is checked once that answer is in.
    if step == "asq5" and scoring.score_asq(intake.answers).result == scoring.AsqOutcome.ACUTE:
        actions.do_stop_acute(patient=patient, intake=intake, via=Via.of(request))
        journey.current().stop(request)
        return redirect("intake:crisis", intake_id=intake.public_id)
    return redirect("intake:step", intake_id=intake.public_id, step=following)


def _submit(request: HttpRequest, patient: User, intake: IntakeResponse, typed_name: str) -> HttpResponse:
    try:
        intake = actions.do_submit(
            patient=patient, intake=intake, consent_name=typed_name, via=Via.of(request)
        )
    except actions.IntakeError as exc:
        form = ConsentForm(legal_name=_profile(patient).legal_name)
        return _render_step(request, intake, "consent", form, status=400, error=exc.message)
    following = request.session.pop(NEXT_KEY, "")
    return redirect(following or reverse("intake:done", args=[intake.public_id]))


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
                patient=patient, intake=intake, phone=form.cleaned_data["phone"], via=Via.of(request)
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
        answers = actions.read_own_intake(patient=patient, intake=intake, via=Via.of(request)) or {}
        context.update(summary(intake, answers, for_patient=True))
    return render(request, "intake/mine.html", context)


# Clinicians ------------------------------------------------------------------------------------


@role_required(Role.CLINICIAN)
@require_POST
def acknowledge(request: AuthedRequest, item_id: uuid.UUID) -> HttpResponse:
    clinician = request.user
    if clinician not in User.objects.on_call():
        raise Http404
    item = get_object_or_404(UrgentItem, public_id=item_id)
    try:
        actions.do_acknowledge(
            clinician=clinician,
            item=item,
            outcome=request.POST.get("outcome", "")[:2000],
            via=Via.of(request),
        )
    except actions.IntakeError as exc:
        messages.error(request, exc.message)
        return redirect(f"{reverse('portal:clinician_home')}#urgent-{item.public_id}")
    messages.success(request, "Acknowledged, with your outcome. Thank you.")
    return redirect("portal:clinician_home")
