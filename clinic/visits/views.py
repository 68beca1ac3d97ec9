"""The visit page: device check, where-are-you, waiting room, and the call."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.conf import settings
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from clinic.accounts.decorators import person
from clinic.accounts.models import User
from clinic.audit.actions import audit_record
from clinic.audit.models import Action
from clinic.content.crisis import crisis_lines
from clinic.intake.forms import clean_phone
from clinic.scheduling.jurisdictions import JURISDICTIONS, country_of, jurisdiction_name
from clinic.scheduling.models import Booking
from clinic.visits import ice
from clinic.visits.access import clinician_licensed_for, participant_booking, visit_for, window_state
from clinic.visits.models import Visit, window


class AttestForm(forms.Form):
    jurisdiction = forms.ChoiceField(
        label="Where are you right now?", choices=[("", "Choose a state"), *JURISDICTIONS.items()]
    )
    address = forms.CharField(
        max_length=300,
        label="The address where you are",
        help_text="Only your doctor sees it, and only to send help if you were in danger during the call.",
        widget=forms.Textarea(attrs={"rows": 2, "autocomplete": "street-address"}),
    )
    phone = forms.CharField(
        max_length=30,
        label="A phone number to call you back if the video drops",
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )

    def clean_phone(self) -> str:
        return clean_phone(self.cleaned_data["phone"])


def _participant(request: HttpRequest, booking_id: uuid.UUID) -> tuple[Booking, str]:
    found = participant_booking(request.user, booking_id) if request.user.is_authenticated else None  # type: ignore[arg-type]
    if found is None:
        raise Http404("No such visit.")
    return found


def _login_or_404(view: Any) -> Any:
    from functools import wraps

    from django.contrib.auth.views import redirect_to_login

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        user: User = request.user  # type: ignore[assignment]
        if user.needs_mfa and not user.has_mfa():
            return redirect("accounts:mfa_required")
        return view(request, *args, **kwargs)

    return wrapper


@_login_or_404
@require_safe
def visit_page(request: HttpRequest, booking_id: uuid.UUID) -> HttpResponse:
    booking, role = _participant(request, booking_id)
    user = person(request)
    state = window_state(booking)
    opens, closes = window(booking)
    context: dict[str, Any] = {
        "booking": booking,
        "role": role,
        "zone": user.time_zone if role == "clinician" else booking.patient_time_zone,
        "state": state,
        "opens": opens,
        "closes": closes,
        "lines": crisis_lines(country_of(booking.jurisdiction)),
    }
    if state != "open":
        return render(request, "visits/closed.html", context)
    visit = visit_for(booking)
    licensed = bool(visit.attested_jurisdiction) and clinician_licensed_for(
        booking, visit.attested_jurisdiction
    )
    context.update(
        visit=visit,
        licensed=licensed,
        place=jurisdiction_name(visit.attested_jurisdiction) if visit.attested_jurisdiction else "",
        form=AttestForm(initial={"jurisdiction": booking.jurisdiction}),
        provider=settings.VIDEO_PROVIDER,
        duration_seconds=int(booking.appointment_type.duration.total_seconds()),
    )
    if settings.VIDEO_PROVIDER == "jitsi":
        from clinic.visits.jitsi import room_token

        context.update(
            jitsi_domain=settings.JITSI_DOMAIN,
            jitsi_jwt=room_token(visit, user, moderator=role == "clinician"),
        )
    return render(request, "visits/visit.html", context)


@_login_or_404
@require_POST
def attest(request: HttpRequest, booking_id: uuid.UUID) -> HttpResponse:
    """The patient says where they are now. A clinician without a licence there cannot start."""
    booking, role = _participant(request, booking_id)
    if role != "patient" or window_state(booking) != "open":
        raise Http404("No such visit.")
    form = AttestForm(request.POST)
    if not form.is_valid():
        visit = visit_for(booking)
        context = {
            "booking": booking, "role": role, "zone": booking.patient_time_zone, "state": "open",
            "visit": visit, "form": form, "licensed": False, "provider": settings.VIDEO_PROVIDER,
            "lines": crisis_lines(country_of(booking.jurisdiction)),
        }  # fmt: skip
        return render(request, "visits/visit.html", context, status=400)
    data = form.cleaned_data
    with transaction.atomic():
        visit = Visit.objects.select_for_update().get(pk=visit_for(booking).pk)
        visit.attested_jurisdiction = data["jurisdiction"]
        visit.attested_address = data["address"]
        visit.callback_phone = data["phone"]
        visit.attested_at = timezone.now()
        licensed = clinician_licensed_for(booking, data["jurisdiction"])
        # Changing where you are after being let in means being let in again.
        visit.admitted_at = None
        visit.waiting_since = timezone.now() if licensed else None
        visit.save()
        audit_record(
            action=Action.VISIT_ATTESTED if licensed else Action.VISIT_BLOCKED,
            actor=person(request),
            subject=visit,
            patient=booking.patient,
            request=request,
            reason=data["jurisdiction"],
        )
    return redirect("visits:visit", booking_id=booking.public_id)


@_login_or_404
@require_POST
def admit(request: HttpRequest, booking_id: uuid.UUID) -> HttpResponse:
    booking, role = _participant(request, booking_id)
    if role != "clinician" or window_state(booking) != "open":
        raise Http404("No such visit.")
    with transaction.atomic():
        visit = Visit.objects.select_for_update().get(pk=visit_for(booking).pk)
        if visit.waiting_since is None or not clinician_licensed_for(booking, visit.attested_jurisdiction):
            return JsonResponse(
                {"detail": "The patient is not waiting, or you hold no licence where they are."}, status=409
            )
        if visit.admitted_at is None:
            visit.admitted_at = timezone.now()
            visit.save(update_fields=["admitted_at"])
            audit_record(
                action=Action.VISIT_ADMITTED,
                actor=person(request),
                subject=visit,
                patient=booking.patient,
                request=request,
            )
    if request.headers.get("Accept", "").startswith("application/json"):
        return JsonResponse({"admitted": True})
    return redirect("visits:visit", booking_id=booking.public_id)


@_login_or_404
@require_safe
def status(request: HttpRequest, booking_id: uuid.UUID) -> JsonResponse:
    """Polled by the waiting room (patient) and by the clinician's page."""
    booking, role = _participant(request, booking_id)
    visit = visit_for(booking)
    present = {a.role for a in visit.attendance.filter(left_at__isnull=True)}
    return JsonResponse(
        {
            "window": window_state(booking),
            "waiting": visit.waiting_since is not None and visit.admitted_at is None,
            "admitted": visit.admitted_at is not None,
            "admitted_at": visit.admitted_at.isoformat() if visit.admitted_at else None,
            "clinician_in_call": "clinician" in present,
            "patient_in_call": "patient" in present,
        }
    )


@_login_or_404
@require_safe
def ice_servers(request: HttpRequest, booking_id: uuid.UUID) -> JsonResponse:
    booking, _ = _participant(request, booking_id)
    return JsonResponse({"iceServers": ice.servers_for(person(request))})
