"""The registry's pages: the staff and clinicians' report (tables, curve, CSV; audited), the
button that asks the worker for a fresh snapshot, and the public "Our outcomes" page.

Every page reads the latest stored snapshot (one row): nothing is computed on a request."""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST, require_safe

from clinic.accounts.decorators import AuthedRequest, role_required
from clinic.accounts.models import Role, User
from clinic.audit.actions import Via, audit_record
from clinic.audit.models import Action
from clinic.care.outcomes import too_few
from clinic.outcomes import actions, public, report
from clinic.outcomes.fhir_export import export_bundle
from clinic.outcomes.models import RegistrySnapshot, Trigger
from clinic.views import public_page


def latest() -> RegistrySnapshot | None:
    return RegistrySnapshot.objects.latest_first().first()


@role_required(Role.STAFF, Role.CLINICIAN)
@require_safe
def report_page(request: AuthedRequest) -> HttpResponse:
    """The whole snapshot: overall, each route and age band; ``?format=csv`` downloads it."""
    fmt = request.GET.get("format", "html")
    if fmt not in ("html", "csv"):
        raise Http404
    snapshot = latest()
    with transaction.atomic():
        audit_record(
            action=Action.REGISTRY_VIEWED,
            actor=request.user,
            via=Via.of(request),
            subject=snapshot,
            subject_type="outcomes.registrysnapshot",
            reason=fmt,
        )
    if fmt == "csv":
        if snapshot is None:
            raise Http404("No snapshot yet.")
        response = HttpResponse(report.to_csv(snapshot.data), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="outcomes-{snapshot.as_of_month}.csv"'
        return response
    context: dict[str, Any] = {"snapshot": snapshot, "zone": request.user.zone}
    if snapshot is not None:
        context |= {
            "strata": report.strata(snapshot.data),
            "too_few": too_few(snapshot.data),
            "definitions": snapshot.data["definitions"],
            "demo": snapshot.trigger == Trigger.DEMO,
        }
    return render(request, "outcomes/report.html", context)


@role_required(Role.STAFF)
@require_POST
def request_snapshot(request: AuthedRequest) -> HttpResponse:
    actions.do_request_snapshot(actor=request.user, via=Via.of(request))
    messages.success(request, "A new snapshot is being computed. Reload this page in a minute to see it.")
    return redirect("outcomes:report")


@public_page
@require_safe
def public_outcomes(request: HttpRequest) -> HttpResponse:
    """The clinic's latest snapshot beside the published trials; off when the clinic says so."""
    if not settings.OUTCOMES_PUBLIC:
        return render(request, "outcomes/public_off.html")
    snapshot = latest()
    return render(request, "outcomes/public.html", public.context(snapshot))


def _fhir_response(bundle: dict[str, Any], filename: str) -> HttpResponse:
    response = HttpResponse(json.dumps(bundle, indent=2), content_type="application/fhir+json")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@role_required(Role.PATIENT)
@require_safe
def my_fhir(request: AuthedRequest) -> HttpResponse:
    """The patient's own record as FHIR R4 JSON, offered beside "download all your data"."""
    patient = request.user
    bundle = export_bundle(patient)
    with transaction.atomic():
        audit_record(
            action=Action.DATA_EXPORTED,
            actor=patient,
            subject=patient,
            patient=patient,
            via=Via.of(request),
            reason="fhir",
        )
    return _fhir_response(bundle, "my-mendwell-record.fhir.json")


@role_required(Role.STAFF)
@require_safe
def staff_fhir(request: AuthedRequest, patient_id: uuid.UUID) -> HttpResponse:
    """Any patient's record as FHIR R4 JSON, for staff (a transfer, a request for records)."""
    patient = get_object_or_404(User, public_id=patient_id, role=Role.PATIENT)
    bundle = export_bundle(patient)
    with transaction.atomic():
        audit_record(
            action=Action.DATA_EXPORTED,
            actor=request.user,
            subject=patient,
            patient=patient,
            via=Via.of(request),
            reason="fhir",
        )
    return _fhir_response(bundle, f"patient-{patient.public_id}.fhir.json")
