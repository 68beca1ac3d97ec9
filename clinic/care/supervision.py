"""Sessions at home, supervised over video: the panes the live visit shows beside the call
(``clinic.visits.session_pane``, installed by the project top) and the two writes they carry.

- The clinician watching (the prescriber, or the session's nurse) sees the observation clock,
  the adult the check-in named and the ones confirmed on camera, the readings the patient types
  at home, what the record still needs, and a link to the full record; they confirm the adult
  on camera here (the dose is refused until then).
- The patient sees a form for the readings of their own cuff and the ones they sent. No dose or
  clinical number is shown to them.

The forms work without JavaScript (the page reloads and the call reconnects); with it
(``supervision.js``) they post in place and the clinician's pane is fetched again every
``REFRESH_SECONDS``, so the call is never interrupted. Each showing of the clinician's pane is an
audited read of the record."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import SafeString
from django.views.decorators.http import require_POST, require_safe

from clinic.accounts.decorators import person, signed_in
from clinic.accounts.models import User
from clinic.audit.actions import Via, audit_record
from clinic.audit.models import Action
from clinic.care import session_actions as actions
from clinic.care.models import PreSessionCheckIn, TreatmentSession
from clinic.care.models.sessions import VitalsWhen
from clinic.care.session_forms import HomeReadingForm, SupervisorForm
from clinic.scheduling.models import Booking

REFRESH_SECONDS = 15
PANE_HEADER = "X-Pane"  # sent by supervision.js: answer with the pane, not a redirect


def _session_of(booking: Booking) -> TreatmentSession | None:
    return (
        TreatmentSession.objects.filter(booking=booking)
        .select_related("plan", "plan__patient", "plan__protocol_version", "booking", "nurse")
        .first()
    )


def _checkin(session: TreatmentSession) -> dict[str, Any]:
    found = PreSessionCheckIn.objects.filter(session=session, submitted_at__isnull=False).first()
    return found.answers if found else {}


def clinician_pane(
    request: HttpRequest, session: TreatmentSession, form: SupervisorForm | None = None, problem: str = ""
) -> SafeString:
    user = person(request)
    record = actions.record_for(session)
    answers = _checkin(session)
    context = {
        "session": session,
        "record": record,
        "at_home": actions.version_of(session).at_home,
        "clock": actions.clock_of(record),
        "companion": answers.get("companion", ""),
        "checkin_bp": (answers.get("home_systolic"), answers.get("home_diastolic")),
        "supervisors": list(record.supervisors.select_related("confirmed_by")),
        "readings": list(record.home_readings.all()),
        "missing": actions.missing(record),
        "may_confirm": actions.can_record_vitals(user, session) and not record.is_signed,
        "form": form or SupervisorForm(initial={"name": answers.get("companion", "")}),
        "problem": problem,
        "zone": user.time_zone,
        "refresh_seconds": REFRESH_SECONDS,
    }
    with transaction.atomic():
        audit_record(
            action=Action.SESSION_RECORD_VIEWED,
            actor=user,
            subject=record,
            patient=session.plan.patient,
            via=Via.of(request),
            reason="supervision pane",
        )
    return SafeString(render_to_string("care/_supervision_pane.html", context, request))


def patient_pane(
    request: HttpRequest, session: TreatmentSession, form: HomeReadingForm | None = None, problem: str = ""
) -> SafeString:
    record = actions.record_for(session)
    context = {
        "session": session,
        "readings": list(record.home_readings.all()),
        "may_enter": actions.may_enter_home_readings(person(request), session),
        "form": form or HomeReadingForm(initial={"when": _next_when(record)}),
        "problem": problem,
        "zone": session.booking.patient_time_zone if session.booking else person(request).time_zone,
    }
    return SafeString(render_to_string("care/_home_readings_pane.html", context, request))


def _next_when(record: Any) -> str:
    if record.dosed_at is None:
        return VitalsWhen.PRE_DOSE
    if not record.home_readings.filter(when=VitalsWhen.POST_DOSE).exists():
        return VitalsWhen.POST_DOSE
    return VitalsWhen.DISCHARGE


class SessionSupervision:
    """What ``visits.session_pane`` shows, for a booking that is a treatment session."""

    def clinician(self, request: HttpRequest, booking: Booking) -> SafeString | None:
        session = _session_of(booking)
        if session is None or not actions.can_record_vitals(person(request), session):
            return None
        return clinician_pane(request, session)

    def patient(self, request: HttpRequest, booking: Booking) -> SafeString | None:
        session = _session_of(booking)
        if session is None or session.plan.patient_id != person(request).pk:
            return None
        return patient_pane(request, session)

    def record_url(self, booking: Booking) -> str | None:
        session = TreatmentSession.objects.filter(booking=booking).only("public_id").first()
        return reverse("care:session", args=[session.public_id]) if session else None


def _wants_pane(request: HttpRequest) -> bool:
    return request.headers.get(PANE_HEADER) == "1"


# Views ----------------------------------------------------------------------------------------


def _watched(request: HttpRequest, session_id: uuid.UUID) -> TreatmentSession:
    return get_object_or_404(actions.sessions_for(person(request)), public_id=session_id)


def _own(request: HttpRequest, session_id: uuid.UUID) -> TreatmentSession:
    user: User = person(request)
    return get_object_or_404(
        TreatmentSession.objects.select_related("plan", "plan__protocol_version", "booking"),
        public_id=session_id,
        plan__patient=user,
    )


def _page(request: HttpRequest, session: TreatmentSession, pane: SafeString, status: int) -> HttpResponse:
    """Without JavaScript, a refused form comes back on a page of its own, with the way back."""
    return render(request, "care/pane_page.html", {"pane": pane, "session": session}, status=status)


def _back(request: HttpRequest, session: TreatmentSession) -> HttpResponse:
    if request.POST.get("back") == "record" or session.booking is None:
        return redirect("care:session", session_id=session.public_id)
    return redirect("visits:visit", booking_id=session.booking.public_id)


@signed_in
@require_safe
def supervision_pane(request: HttpRequest, session_id: uuid.UUID) -> HttpResponse:
    """The clinician's pane alone, for the open call page to fetch again."""
    return HttpResponse(clinician_pane(request, _watched(request, session_id)))


@signed_in
@require_POST
def confirm_supervisor(request: HttpRequest, session_id: uuid.UUID) -> HttpResponse:
    session = _watched(request, session_id)
    form = SupervisorForm(request.POST)
    status, problem = 200, ""
    if not form.is_valid():
        status, problem = 400, "Write the name the adult gave on camera."
    else:
        try:
            actions.do_confirm_supervisor(
                actor=person(request), session=session, name=form.cleaned_data["name"], via=Via.of(request)
            )
            form = None  # type: ignore[assignment]
        except actions.NotAllowed as exc:
            raise PermissionDenied(exc.message) from exc
        except actions.RecordError as exc:
            status, problem = 409, exc.message
    if _wants_pane(request):
        return HttpResponse(clinician_pane(request, session, form=form, problem=problem), status=status)
    if status != 200:
        return _page(request, session, clinician_pane(request, session, form=form, problem=problem), status)
    return _back(request, session)


@signed_in
@require_POST
def home_reading(request: HttpRequest, session_id: uuid.UUID) -> HttpResponse:
    session = _own(request, session_id)
    form = HomeReadingForm(request.POST)
    status, problem = 200, ""
    if not form.is_valid():
        status, problem = 400, "Please check the numbers: see below."
    else:
        data = form.cleaned_data
        try:
            actions.do_enter_home_reading(
                patient=person(request),
                session=session,
                when=VitalsWhen(data["when"]),
                systolic=data["systolic"],
                diastolic=data["diastolic"],
                heart_rate=data["heart_rate"],
                spo2=data["spo2"],
                via=Via.of(request),
            )
            form = None  # type: ignore[assignment]
        except actions.NotAllowed as exc:
            raise PermissionDenied(exc.message) from exc
        except actions.RecordError as exc:
            status, problem = 409, exc.message
    if _wants_pane(request):
        return HttpResponse(patient_pane(request, session, form=form, problem=problem), status=status)
    if status != 200:
        return _page(request, session, patient_pane(request, session, form=form, problem=problem), status)
    return _back(request, session)
