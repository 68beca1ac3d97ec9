"""The JSON API under /api/v1/, described at /api/v1/openapi.json. It has no models of its own:
it parses, calls the same actions as the pages, and answers with the same rules and errors."""

from __future__ import annotations

import datetime as dt
import enum
import json
import secrets
import uuid
import zoneinfo
from typing import Annotated, Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Field, NinjaAPI, Query, Schema, Status
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import SessionAuth
from pydantic import AfterValidator

from clinic import dates
from clinic.accounts.jurisdictions import JURISDICTIONS
from clinic.accounts.models import Role, User
from clinic.audit.actions import Via, client_ip
from clinic.ratelimit import hit
from clinic.scheduling import actions, availability
from clinic.scheduling.models import Booking, BookingStatus


def refuse(status: int, code: str, detail: str) -> HttpError:
    error = HttpError(status, detail)
    error.code = code  # type: ignore[attr-defined]
    return error


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
        if user.is_authenticated and user.role == Role.PATIENT:
            return user
        return None


patient_auth = PatientAuth()


def _patient(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined]


class ErrorOut(Schema):
    code: str
    detail: str


class FieldError(Schema):
    loc: list[str | int] = Field(description="Where: body, query or path, then the field")
    msg: str


class InvalidOut(Schema):
    code: str = Field(description="invalid_input")
    detail: str
    errors: list[FieldError]


CODES = {401: "not_signed_in", 403: "forbidden", 413: "too_large", 415: "unsupported_media_type"}


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError):
    code = getattr(exc, "code", None) or CODES.get(exc.status_code, "error")
    detail = str(exc)
    if isinstance(exc, AuthenticationError):
        detail = "Sign in as a patient first."
    elif exc.status_code == 403 and "CSRF" in detail:
        code, detail = "csrf_failed", "Send the CSRF token in the X-CSRFToken header."
    return api.create_response(request, {"code": code, "detail": detail}, status=exc.status_code)


@api.exception_handler(RequestDataTooBig)
def _too_large(request: HttpRequest, exc: RequestDataTooBig):
    return api.create_response(
        request, {"code": "too_large", "detail": "The request body is too large."}, status=413
    )


@api.exception_handler(ValidationError)
def _invalid(request: HttpRequest, exc: ValidationError):
    # Only where and what: pydantic's own details may hold the input or exception objects.
    errors = [{"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", ""))} for e in exc.errors]
    detail = "; ".join(f"{'.'.join(e['loc'][1:]) or e['loc'][0]}: {e['msg']}" for e in errors if e["loc"])
    return api.create_response(
        request, {"code": "invalid_input", "detail": detail or "Invalid input.", "errors": errors}, status=422
    )


# Every date and time the API takes, bounded as the pages bound theirs (``clinic.dates``).
Day = Annotated[dt.date, AfterValidator(dates.check_date)]
Moment = Annotated[dt.datetime, AfterValidator(dates.check_datetime)]
Jurisdiction = enum.Enum("Jurisdiction", {code: code for code in JURISDICTIONS}, type=str)  # type: ignore[misc]
Jurisdiction.__doc__ = "ISO 3166-2 code of a jurisdiction the clinic serves"
TimeZone = enum.Enum("TimeZone", {zone: zone for zone in sorted(zoneinfo.available_timezones())}, type=str)  # type: ignore[misc]
TimeZone.__doc__ = "An IANA time zone name"

# What any call may answer besides its own results.
READ_ERRORS: dict[int, Any] = {422: InvalidOut}
WRITE_ERRORS: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 413: ErrorOut, 415: ErrorOut, 422: InvalidOut}


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
    jurisdiction: Jurisdiction = Field(description="ISO 3166-2 code of where the patient will be, e.g. US-NY")
    start: Day = Field(description=f"First day (UTC date), {dates.EARLIEST} to {dates.LATEST}")
    days: int = Field(7, ge=1, le=MAX_DAYS)
    clinician: uuid.UUID | None = Field(None, description="Only this clinician's slots")


@api.get(
    "/slots",
    response={200: list[SlotOut], **READ_ERRORS},
    auth=None,
    tags=["booking"],
    summary="Free consultation slots",
)
def list_slots(request: HttpRequest, query: Query[SlotQuery]) -> HttpResponse:
    """Free slots of the free consultation for clinicians licensed in ``jurisdiction``, from
    ``start`` (00:00 UTC) for ``days`` days. No personal data."""
    jurisdiction = query.jurisdiction.value
    start = dt.datetime.combine(query.start, dt.time.min, tzinfo=dt.UTC)
    end = start + dt.timedelta(days=query.days)
    appointment_type = actions.consultation_type()
    clinician_ids = [str(query.clinician)] if query.clinician else None
    found = availability.free_starts(
        jurisdiction=jurisdiction,
        appointment_type=appointment_type,
        start=start,
        end=end,
        clinician_ids=clinician_ids,
        may_compute=lambda: not cold_limited(request),
    )
    if found is None:
        raise refuse(429, "too_many_requests", "Too many requests for free times; try again in a minute.")
    return HttpResponse(slots_json(found), content_type="application/json")


def cold_limited(request: HttpRequest) -> bool:
    """Count a request that has to compute free starts; True when this address is over
    ``SLOT_COMPUTE_RATE``. Answers from the precomputed starts are never counted."""
    return hit(group="slots-cold", key=client_ip(request) or "unknown", rate=settings.SLOT_COMPUTE_RATE)


def slots_json(found: availability.FreeStarts) -> str:
    """Serialised by hand: a month of slots for a large clinic is tens of thousands of items, and
    per-item schema validation cost ten times the computation. The shape is SlotOut's."""
    duration_us = found.duration // dt.timedelta(microseconds=1)
    width = len(found.ids)
    who = [json.dumps({"id": public_id, "name": found.names[public_id]}) + "}" for public_id in found.ids]
    heads: dict[int, str] = {}

    def head(us: int) -> str:
        start = _EPOCH + dt.timedelta(microseconds=us)
        end = start + dt.timedelta(microseconds=duration_us)
        text = heads[us] = f'{{"start":"{_stamp(start)}","end":"{_stamp(end)}","clinician":'
        return text

    items = []
    for key in found.keys:
        us, rank = divmod(key, width)
        items.append((heads.get(us) or head(us)) + who[rank])
    return "[" + ",".join(items) + "]"


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _stamp(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ" if moment.microsecond else "%Y-%m-%dT%H:%M:%SZ")


class BookingIn(Schema):
    jurisdiction: Jurisdiction
    start: Moment = Field(description="Slot start with its UTC offset, exactly as /slots gave it")
    time_zone: TimeZone = Field(description="The patient's IANA zone, for emails")
    clinician: uuid.UUID | None = None
    idempotency_key: uuid.UUID = Field(description="Repeat the same key to retry safely")
    date_of_birth: Day | None = Field(None, description="Needed once, if not already on file")


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
    "safety_hold": 403,
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
    response={201: BookingOut, 200: BookingOut, 400: ErrorOut, 409: ErrorOut, **WRITE_ERRORS},
    auth=patient_auth,
    tags=["booking"],
    summary="Book a free consultation",
)
def create_booking(request: HttpRequest, payload: BookingIn) -> Status:
    jurisdiction = payload.jurisdiction.value
    zone = payload.time_zone.value
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
                via=Via.of(request),
            )
    except actions.BookingError as exc:
        # A repeat of the same request that raced the first one answers with its booking.
        twin = actions.booking_for_key(_patient(request), str(payload.idempotency_key))
        if twin is not None:
            return Status(200, _out(twin))
        raise _refusal(exc) from None
    return Status(201, _out(booking))


@api.get(
    "/bookings",
    response={200: list[BookingOut], 401: ErrorOut},
    auth=patient_auth,
    tags=["booking"],
    summary="My bookings",
)
def my_bookings(request: HttpRequest) -> list[dict]:
    rows = Booking.objects.filter(patient=_patient(request)).select_related("clinician").order_by("start")
    return [_out(b) for b in rows]


class CancelIn(Schema):
    reason: str = Field("", max_length=300)


@api.post(
    "/bookings/{booking_id}/cancel",
    response={200: BookingOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut, **WRITE_ERRORS},
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
            via=Via.of(request),
        )
    except actions.BookingError as exc:
        raise _refusal(exc) from None
    return _out(booking)
