"""The JSON API under /api/v1/, described at /api/v1/openapi.json. It has no models of its own:
it parses, calls the same actions as the pages, and answers with the same rules and errors."""

from __future__ import annotations

import datetime as dt
import json
import secrets
import uuid
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Field, NinjaAPI, Query, Schema, Status
from ninja.errors import HttpError
from ninja.security import SessionAuth

from clinic.accounts.models import Role, User
from clinic.scheduling import actions, availability
from clinic.scheduling.forms import valid_zone
from clinic.scheduling.jurisdictions import JURISDICTIONS
from clinic.scheduling.models import Booking, BookingStatus

api = NinjaAPI(
    title="Mendwell API",
    version="1",
    urls_namespace="api",
    docs_url=None,
    description=(
        "Public and patient endpoints of a Mendwell clinic. Times are UTC (ISO 8601). Write calls "
        "need a signed-in patient session and the CSRF token (header X-CSRFToken)."
    ),
)

MAX_DAYS = 31


class PatientAuth(SessionAuth):
    """A signed-in patient (session cookie + CSRF on writes)."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = request.user
        if user.is_authenticated and user.role == Role.PATIENT:  # type: ignore[union-attr]
            return user
        return None


patient_auth = PatientAuth()


def _patient(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined,no-any-return]


class ErrorOut(Schema):
    code: str
    detail: str


def refuse(status: int, code: str, detail: str) -> HttpError:
    error = HttpError(status, detail)
    error.code = code  # type: ignore[attr-defined]
    return error


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError):  # type: ignore[no-untyped-def]
    return api.create_response(
        request, {"code": getattr(exc, "code", "error"), "detail": str(exc)}, status=exc.status_code
    )


class Health(Schema):
    status: str


@api.get("/health", response=Health, auth=None, tags=["meta"])
def health(request: HttpRequest) -> dict:
    return {"status": "ok"}


class ClinicianOut(Schema):
    id: uuid.UUID = Field(description="The clinician's public id")
    name: str


class SlotOut(Schema):
    start: dt.datetime
    end: dt.datetime
    clinician: ClinicianOut


class SlotQuery(Schema):
    jurisdiction: str = Field(description="ISO 3166-2 code of where the patient will be, e.g. US-NY")
    start: dt.date = Field(description="First day (UTC date)")
    days: int = Field(7, ge=1, le=MAX_DAYS)
    clinician: uuid.UUID | None = Field(None, description="Only this clinician's slots")


def _check_jurisdiction(code: str) -> str:
    if code not in JURISDICTIONS:
        raise refuse(400, "unknown_jurisdiction", f"Unknown jurisdiction {code!r}; use a code such as US-NY.")
    return code


@api.get(
    "/slots",
    response={200: list[SlotOut], 400: ErrorOut},
    auth=None,
    tags=["booking"],
    summary="Free consultation slots",
)
def list_slots(request: HttpRequest, query: Query[SlotQuery]) -> HttpResponse:
    """Free slots of the free consultation for clinicians licensed in ``jurisdiction``, from
    ``start`` (00:00 UTC) for ``days`` days. No personal data."""
    jurisdiction = _check_jurisdiction(query.jurisdiction)
    start = dt.datetime.combine(query.start, dt.time.min, tzinfo=dt.UTC)
    end = start + dt.timedelta(days=query.days)
    appointment_type = actions.consultation_type()
    clinician_ids = [str(query.clinician)] if query.clinician else None
    key = "api-slots:" + availability.cache_key(
        jurisdiction=jurisdiction,
        appointment_type=appointment_type,
        start=start,
        end=end,
        clinician_ids=clinician_ids,
    )
    body = cache.get(key)
    if body is not None:
        return HttpResponse(body, content_type="application/json")
    found, names = availability.cached_free_slots(
        jurisdiction=jurisdiction,
        appointment_type=appointment_type,
        start=start,
        end=end,
        clinician_ids=clinician_ids,
    )
    # Serialised by hand: a month of slots for a large clinic is tens of thousands of items, and
    # per-item schema validation cost ten times the computation. The shape is SlotOut's.
    who = {public_id: json.dumps({"id": public_id, "name": name}) for public_id, name in names.items()}
    stamps: dict[dt.datetime, str] = {}

    def stamp(moment: dt.datetime) -> str:
        text = stamps.get(moment)
        if text is None:
            text = stamps[moment] = '"' + moment.strftime("%Y-%m-%dT%H:%M:%SZ") + '"'
        return text

    items = ",".join(
        f'{{"start":{stamp(slot.start)},"end":{stamp(slot.end)},"clinician":{who[slot.clinician_id]}}}'
        for slot in found
    )
    body = f"[{items}]"
    cache.set(key, body, availability.CACHE_SECONDS)
    return HttpResponse(body, content_type="application/json")


class BookingIn(Schema):
    jurisdiction: str
    start: dt.datetime = Field(description="Slot start with its UTC offset, exactly as /slots gave it")
    time_zone: str = Field(description="The patient's IANA zone, for emails")
    clinician: uuid.UUID | None = None
    idempotency_key: uuid.UUID = Field(description="Repeat the same key to retry safely")
    date_of_birth: dt.date | None = Field(None, description="Needed once, if not already on file")


class BookingOut(Schema):
    id: uuid.UUID
    start: dt.datetime
    end: dt.datetime
    status: str
    jurisdiction: str
    clinician: ClinicianOut


def _out(booking: Booking) -> dict:
    return {
        "id": booking.public_id,
        "start": booking.start,
        "end": booking.end,
        "status": booking.status,
        "jurisdiction": booking.jurisdiction,
        "clinician": {"id": booking.clinician.public_id, "name": booking.clinician.display_name},
    }


ERROR_STATUS = {
    "slot_taken": 409,
    "already_booked": 409,
    "under_18": 403,
    "hold_expired": 409,
    "past_cutoff": 409,
}


def _refusal(exc: actions.BookingError) -> HttpError:
    return refuse(ERROR_STATUS.get(exc.code, 400), exc.code, exc.message)


@api.post(
    "/bookings",
    response={201: BookingOut, 200: BookingOut, 400: ErrorOut, 403: ErrorOut, 409: ErrorOut},
    auth=patient_auth,
    tags=["booking"],
    summary="Book a free consultation",
)
def create_booking(request: HttpRequest, payload: BookingIn) -> Status:
    jurisdiction = _check_jurisdiction(payload.jurisdiction)
    try:
        zone = valid_zone(payload.time_zone)
    except Exception:
        raise refuse(400, "unknown_time_zone", f"Unknown time zone {payload.time_zone!r}.") from None
    if payload.start.tzinfo is None:
        raise refuse(400, "naive_time", "start must carry its UTC offset, e.g. 2026-12-01T15:00:00Z.")
    if payload.start <= timezone.now():
        raise refuse(400, "in_the_past", "That time has passed.")
    start = payload.start.astimezone(dt.UTC)
    existing = Booking.objects.filter(
        idempotency_key=str(payload.idempotency_key), patient=_patient(request)
    ).first()
    if existing is not None:
        return Status(200, _out(existing))
    holder = secrets.token_urlsafe(16)
    try:
        with transaction.atomic():
            held = actions.do_hold(
                holder=holder,
                jurisdiction=jurisdiction,
                start=start,
                patient_time_zone=zone,
                clinician_id=str(payload.clinician) if payload.clinician else None,
            )
            booking, _ = actions.do_book(
                patient=_patient(request),
                hold=held,
                holder=holder,
                idempotency_key=str(payload.idempotency_key),
                date_of_birth=payload.date_of_birth,
                request=request,
            )
    except actions.BookingError as exc:
        raise _refusal(exc) from None
    return Status(201, _out(booking))


@api.get("/bookings", response=list[BookingOut], auth=patient_auth, tags=["booking"], summary="My bookings")
def my_bookings(request: HttpRequest) -> list[dict]:
    rows = Booking.objects.filter(patient=_patient(request)).select_related("clinician").order_by("start")
    return [_out(b) for b in rows]


class CancelIn(Schema):
    reason: str = Field("", max_length=300)


@api.post(
    "/bookings/{booking_id}/cancel",
    response={200: BookingOut, 404: ErrorOut, 409: ErrorOut, 400: ErrorOut},
    auth=patient_auth,
    tags=["booking"],
    summary="Cancel my booking",
)
def cancel_booking(request: HttpRequest, booking_id: uuid.UUID, payload: CancelIn | None = None) -> dict:
    booking = (
        Booking.objects.select_related("clinician", "appointment_type", "patient")
        .filter(public_id=booking_id, patient=_patient(request))
        .first()
    )
    if booking is None:
        raise refuse(404, "not_found", "No such booking.")
    if booking.status != BookingStatus.CONFIRMED:
        raise refuse(409, "not_active", "This appointment is not active any more.")
    try:
        booking = actions.do_cancel(
            actor=_patient(request),
            booking=booking,
            reason=payload.reason if payload else "",
            request=request,
        )
    except actions.BookingError as exc:
        raise _refusal(exc) from None
    return _out(booking)
