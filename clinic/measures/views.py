"""Check-in pages: the emailed link, the form, the patient's own page, the clinician's chart."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from clinic.accounts.decorators import AuthedRequest, role_required
from clinic.accounts.models import PatientProfile, Role, User
from clinic.audit.actions import Via
from clinic.content.crisis import crisis_lines
from clinic.intake import scoring
from clinic.measures import actions, charts, forms
from clinic.measures.models import AttentionItem, CheckIn, CheckInStatus, Schedule

# What the patient is told happens with their answers (a promise the clinic keeps: the
# needs-attention list is on every clinician's dashboard).
READ_WITHIN = "2 working days"


def _own_checkin(request: AuthedRequest, checkin_id: uuid.UUID) -> CheckIn:
    return get_object_or_404(
        CheckIn.objects.for_patient(request.user).select_related("schedule"), public_id=checkin_id
    )


@role_required(Role.PATIENT)
@require_safe
def link(request: AuthedRequest, token: str) -> HttpResponse:
    """The emailed link, after sign-in (``role_required`` sends anonymous people to sign in and
    back here). Uses the token up and goes on to the check-in."""
    try:
        checkin = actions.do_open_link(patient=request.user, token=token, via=Via.of(request))
    except actions.LinkProblem as problem:
        return render(
            request, "measures/link_gone.html", {"gone": problem.gone}, status=410 if problem.gone else 404
        )
    return redirect("measures:answer", checkin_id=checkin.public_id)


@role_required(Role.PATIENT)
@require_http_methods(["GET", "POST"])
def answer(request: AuthedRequest, checkin_id: uuid.UUID) -> HttpResponse:
    patient = request.user
    checkin = _own_checkin(request, checkin_id)
    if checkin.status == CheckInStatus.ANSWERED:
        messages.info(request, "This check-in is done. Thank you.")
        return redirect("measures:mine")
    if not actions.answerable(checkin):
        return render(request, "measures/closed.html", {"checkin": checkin}, status=410)
    sections = forms.sections(checkin)
    data = request.POST if request.method == "POST" else None
    bound = [(instrument, form_class(data, prefix=None)) for instrument, form_class in sections]
    error = ""
    if request.method == "POST":
        if all(form.is_valid() for _, form in bound):
            answers: dict[str, Any] = {}
            for _, form in bound:
                answers.update({k: v for k, v in form.cleaned_data.items() if v not in (None, "")})
            try:
                result = actions.do_answer(
                    patient=patient, checkin=checkin, answers=answers, via=Via.of(request)
                )
            except actions.MeasuresError as exc:
                error = exc.message
            else:
                if result.acute:
                    return redirect("measures:help_now", checkin_id=checkin.public_id)
                if result.triage != scoring.Triage.ROUTINE:
                    # INSTRUMENTS.md: crisis resources shown, and a same-day call, not 2 days.
                    return redirect("measures:take_care", checkin_id=checkin.public_id)
                messages.success(
                    request, f"Thank you: your answers are in. A clinician reads them within {READ_WITHIN}."
                )
                return redirect("measures:mine")
        else:
            error = "Please check the answers marked below."
    with_item9 = any(instrument.key == "phq9" for instrument, _ in bound)
    return render(
        request,
        "measures/answer.html",
        {
            "checkin": checkin,
            "sections": bound,
            "error": error,
            "with_item9": with_item9,
            "read_within": READ_WITHIN,
        },
        status=400 if request.method == "POST" else 200,
    )


@role_required(Role.PATIENT)
@require_safe
def help_now(request: AuthedRequest, checkin_id: uuid.UUID) -> HttpResponse:
    checkin = _own_checkin(request, checkin_id)
    if checkin.asq_result != "acute_positive":
        raise Http404("No crisis page for this check-in.")
    profile = PatientProfile.objects.filter(user=request.user).first()
    return render(
        request, "measures/help_now.html", {"lines": crisis_lines(profile.country if profile else None)}
    )


@role_required(Role.PATIENT)
@require_safe
def take_care(request: AuthedRequest, checkin_id: uuid.UUID) -> HttpResponse:
    """After a positive screen that is not acute: a clinician calls today, and the crisis page's
    help is here in case things get worse before then."""
    checkin = _own_checkin(request, checkin_id)
    if checkin.status != CheckInStatus.ANSWERED or checkin.triage in ("", scoring.Triage.ROUTINE):
        raise Http404("Nothing to show for this check-in.")
    if checkin.asq_result == "acute_positive":
        return redirect("measures:help_now", checkin_id=checkin.public_id)
    profile = PatientProfile.objects.filter(user=request.user).first()
    return render(
        request, "measures/take_care.html", {"lines": crisis_lines(profile.country if profile else None)}
    )


@role_required(Role.PATIENT)
@require_safe
def mine(request: AuthedRequest) -> HttpResponse:
    """The patient's own page: their chart, check-ins due and done, what happens with answers."""
    patient = request.user
    schedule = Schedule.objects.filter(patient=patient).order_by("-created_at").first()
    context: dict[str, Any] = {"schedule": schedule, "read_within": READ_WITHIN}
    if schedule is not None:
        now = timezone.now()
        checkins = list(schedule.checkins.exclude(status=CheckInStatus.WITHDRAWN).order_by("due_on"))
        context["open"] = [c for c in checkins if c.is_open and c.send_after <= now < c.closes_at]
        context["upcoming"] = [
            c for c in checkins if c.status == CheckInStatus.SCHEDULED and c.send_after > now
        ][:3]
        context["past"] = [c for c in checkins if c.status in (CheckInStatus.ANSWERED, CheckInStatus.MISSED)][
            ::-1
        ]
        context.update(charts.course_context(schedule))
        context["for_patient"] = True
    actions.record_read(
        reader=patient, patient=patient, subject=schedule, reason="own record", via=Via.of(request)
    )
    return render(request, "measures/mine.html", context)


def _readable_patient(request: AuthedRequest, patient_id: uuid.UUID) -> tuple[User, str]:
    patient = get_object_or_404(User, public_id=patient_id, role=Role.PATIENT)
    reason = actions.read_reason(request.user, patient)
    if reason is None:
        raise Http404("No such patient.")
    return patient, reason


@role_required(Role.CLINICIAN)
@require_safe
def patient_chart(request: AuthedRequest, patient_id: uuid.UUID) -> HttpResponse:
    patient, reason = _readable_patient(request, patient_id)
    courses = []
    for schedule in Schedule.objects.filter(patient=patient).order_by("-created_at"):
        courses.append(
            {
                "schedule": schedule,
                "chart": charts.course_context(schedule),
                "checkins": list(schedule.checkins.order_by("-due_on")[:60]),
                # The side-effect form's own words are shown here only (this page's read is audited).
                "attention": [
                    (item, actions.explain(item), item.checkin.answers.get("se_detail", ""))
                    for item in schedule.attention.filter(acknowledged_at__isnull=True).select_related(
                        "checkin"
                    )
                ],
            }
        )
    actions.record_read(reader=request.user, patient=patient, reason=reason, via=Via.of(request))
    profile = PatientProfile.objects.filter(user=patient).first()
    name = (profile.preferred_name or profile.legal_name) if profile else ""
    return render(
        request,
        "measures/patient_chart.html",
        {
            "patient": patient,
            "name": name or patient.display_name or "Patient",
            "courses": courses,
            "add_form": forms.AddCheckInForm(),
            "ack_form": forms.AcknowledgeForm(),
        },
    )


@role_required(Role.CLINICIAN)
@require_POST
def acknowledge(request: AuthedRequest, item_id: uuid.UUID) -> HttpResponse:
    item = get_object_or_404(AttentionItem.objects.select_related("patient"), public_id=item_id)
    if actions.read_reason(request.user, item.patient) is None:
        raise Http404("No such item.")
    form = forms.AcknowledgeForm(request.POST)
    if not form.is_valid():
        return render(request, "measures/bad_request.html", {"form": form}, status=400)
    try:
        actions.do_acknowledge(
            clinician=request.user, item=item, note=form.cleaned_data["note"], via=Via.of(request)
        )
    except actions.MeasuresError as exc:
        return render(request, "measures/bad_request.html", {"message": exc.message}, status=400)
    messages.success(request, "Acknowledged.")
    return redirect("measures:patient_chart", patient_id=item.patient.public_id)


@role_required(Role.CLINICIAN)
@require_POST
def add_checkin(request: AuthedRequest, schedule_id: uuid.UUID) -> HttpResponse:
    schedule = get_object_or_404(Schedule.objects.select_related("patient"), public_id=schedule_id)
    if actions.read_reason(request.user, schedule.patient) is None:
        raise Http404("No such course.")
    form = forms.AddCheckInForm(request.POST)
    if not form.is_valid():
        return render(request, "measures/bad_request.html", {"form": form}, status=400)
    try:
        actions.do_add_checkin(
            clinician=request.user,
            schedule=schedule,
            due_on=form.cleaned_data["due_on"],
            what=form.cleaned_data["what"],
            via=Via.of(request),
        )
    except actions.MeasuresError as exc:
        return render(request, "measures/bad_request.html", {"message": exc.message}, status=400)
    messages.success(request, "Check-in added.")
    return redirect("measures:patient_chart", patient_id=schedule.patient.public_id)


@role_required(Role.CLINICIAN)
@require_POST
def withdraw_checkin(request: AuthedRequest, checkin_id: uuid.UUID) -> HttpResponse:
    checkin = get_object_or_404(CheckIn.objects.select_related("patient"), public_id=checkin_id)
    if actions.read_reason(request.user, checkin.patient) is None:
        raise Http404("No such check-in.")
    try:
        actions.do_withdraw_checkin(clinician=request.user, checkin=checkin, via=Via.of(request))
    except actions.MeasuresError as exc:
        return render(request, "measures/bad_request.html", {"message": exc.message}, status=400)
    messages.success(request, "Check-in paused.")
    return redirect("measures:patient_chart", patient_id=checkin.patient.public_id)


@role_required(Role.CLINICIAN)
@require_POST
def pause_course(request: AuthedRequest, schedule_id: uuid.UUID) -> HttpResponse:
    """Pause every unsent check-in of the course, or resume them (``resume=1``)."""
    schedule = get_object_or_404(Schedule.objects.select_related("patient"), public_id=schedule_id)
    if actions.read_reason(request.user, schedule.patient) is None:
        raise Http404("No such course.")
    resume = request.POST.get("resume") == "1"
    actions.do_pause(
        course_ref=schedule.course_ref, paused=not resume, actor=request.user, via=Via.of(request)
    )
    messages.success(request, "Check-ins resumed." if resume else "Check-ins paused.")
    return redirect("measures:patient_chart", patient_id=schedule.patient.public_id)
