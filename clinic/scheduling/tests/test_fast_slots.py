"""The fast path (free starts precomputed per clinician, ``availability.free_starts``) against the
oracle (the pure module through ``availability.free_slots``) on randomised clinics: zones with
and without clock changes, weekly hours, overrides, time off, bookings, live and expired holds,
licences ending inside the range, buffers and daily caps; and again after each kind of change
that must drop the precomputed starts."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinic.accounts.models import Licence, Role, User
from clinic.scheduling import availability
from clinic.scheduling.actions import consultation_type
from clinic.scheduling.models import Booking, BookingStatus, DateOverride, Hold, TimeOff, WeeklyHours
from tests.support.personas import make_user

ZONES = ["America/New_York", "America/Los_Angeles", "Europe/London", "Asia/Kolkata", "Australia/Lord_Howe"]
# Three days around New York's clock change (November 1, 2026) and an ordinary stretch.
FIRST_DAYS = [dt.date(2026, 10, 31), dt.date(2026, 11, 1), dt.date(2026, 11, 20)]


def _half_hour(n: int) -> dt.time:
    return dt.time(n // 2, 30 * (n % 2))


# Two different half hours of the day, in order: a window that starts before it ends.
window = st.lists(st.integers(0, 47), min_size=2, max_size=2, unique=True).map(
    lambda pair: (_half_hour(min(pair)), _half_hour(max(pair)))
)
offset_minutes = st.integers(min_value=0, max_value=10 * 24 * 4).map(lambda n: dt.timedelta(minutes=15 * n))

clinician_spec = st.fixed_dictionaries(
    {
        "zone": st.sampled_from(ZONES),
        "weekly": st.lists(st.tuples(st.integers(0, 6), window), min_size=2, max_size=10),
        "every_day": st.one_of(st.none(), window),
        "overrides": st.lists(st.tuples(st.integers(0, 9), st.one_of(st.none(), window)), max_size=3),
        "time_off": st.lists(st.tuples(offset_minutes, st.integers(1, 48)), max_size=2),
        "bookings": st.lists(
            st.tuples(offset_minutes, st.sampled_from(["confirmed", "completed", "cancelled"]))
        ),
        "holds": st.lists(st.tuples(offset_minutes, st.booleans()), max_size=6),
        "licence_days": st.integers(min_value=-1, max_value=12),
        "verified": st.sampled_from([True, True, True, False]),
    }
)
rules_spec = st.fixed_dictionaries(
    {
        "duration": st.sampled_from([15, 20, 30, 45]),
        "before": st.sampled_from([0, 5, 10]),
        "after": st.sampled_from([0, 10, 15]),
        "notice": st.sampled_from([0, 120, 60 * 30]),
        "horizon": st.integers(1, 12),
        "max_per_day": st.one_of(st.none(), st.integers(0, 3)),
    }
)


def _build(spec: dict, n: int, staff: User, first_day: dt.date) -> User:
    doc = make_user(f"fast{n}@example.org", Role.CLINICIAN, zone=spec["zone"], name=f"Dr {n}")
    Licence.objects.create(
        clinician=doc,
        jurisdiction="US-NY",
        number=f"NY-{n}",
        expires_on=first_day + dt.timedelta(days=spec["licence_days"]),
        verified_by=staff if spec["verified"] else None,
        verified_at=timezone.now() if spec["verified"] else None,
    )
    weekly = spec["weekly"] + ([(day, spec["every_day"]) for day in range(7)] if spec["every_day"] else [])
    WeeklyHours.objects.bulk_create(
        WeeklyHours(clinician=doc, weekday=day, start=a, end=b) for day, (a, b) in weekly
    )
    for offset, hours in spec["overrides"]:
        DateOverride.objects.create(
            clinician=doc,
            date=first_day + dt.timedelta(days=offset),
            start=hours[0] if hours else None,
            end=hours[1] if hours else None,
        )
    origin = dt.datetime.combine(first_day, dt.time(0), tzinfo=dt.UTC) - dt.timedelta(days=1)
    for offset, quarters in spec["time_off"]:
        start = origin + offset
        TimeOff.objects.create(clinician=doc, start=start, end=start + dt.timedelta(minutes=15 * quarters))
    kind = consultation_type()
    confirmed: list[tuple[dt.datetime, dt.datetime]] = []
    for offset, status in spec["bookings"]:
        start = origin + offset
        end = start + dt.timedelta(minutes=kind.duration_minutes)
        blocked = (start - kind_before(kind), end + kind_after(kind))
        if status == "confirmed":
            # Two confirmed bookings of one clinician never overlap (PostgreSQL's exclusion
            # constraint refuses it; SQLite's booking transaction re-checks): a clinic as the
            # database allows it, on both.
            if any(blocked[0] < b and a < blocked[1] for a, b in confirmed):
                continue
            confirmed.append(blocked)
        _book(doc, kind, start, status)
    for offset, live in spec["holds"]:
        start = origin + offset
        Hold.objects.create(
            clinician=doc,
            appointment_type=kind,
            start=start,
            blocked_start=start - kind_before(kind),
            blocked_end=start + dt.timedelta(minutes=kind.duration_minutes) + kind_after(kind),
            jurisdiction="US-NY",
            patient_time_zone="America/New_York",
            session_key_hash=uuid.uuid4().hex,
            expires_at=timezone.now() + dt.timedelta(minutes=10 if live else -1),
            created_at=timezone.now(),
        )
    return doc


def kind_before(kind) -> dt.timedelta:  # noqa: ANN001
    return dt.timedelta(minutes=kind.buffer_before_minutes)


def kind_after(kind) -> dt.timedelta:  # noqa: ANN001
    return dt.timedelta(minutes=kind.buffer_after_minutes)


def _book(doc: User, kind, start: dt.datetime, status: str) -> Booking:  # noqa: ANN001
    owner = User.objects.filter(role=Role.PATIENT).first() or make_user("owner@example.org", Role.PATIENT)
    end = start + dt.timedelta(minutes=kind.duration_minutes)
    return Booking.objects.create(
        patient=owner,
        clinician=doc,
        appointment_type=kind,
        start=start,
        end=end,
        blocked_start=start - kind_before(kind),
        blocked_end=end + kind_after(kind),
        jurisdiction="US-NY",
        patient_time_zone="America/New_York",
        status=status,
        created_at=timezone.now(),
        idempotency_key=uuid.uuid4().hex,
        manage_token_hash=uuid.uuid4().hex,
        ics_uid=uuid.uuid4().hex,
    )


def _agree(first_day: dt.date, days: int, clinician_ids: list[str] | None = None) -> list:
    kind = consultation_type()
    start = dt.datetime.combine(first_day, dt.time(0), tzinfo=dt.UTC)
    end = start + dt.timedelta(days=days)
    args = {"jurisdiction": "US-NY", "appointment_type": kind, "start": start, "end": end}
    oracle, clinicians = availability.free_slots(**args, clinician_ids=clinician_ids)
    fast = availability.free_starts(**args, clinician_ids=clinician_ids)
    assert fast is not None
    assert fast.slots() == oracle
    assert set(fast.names) == set(clinicians)
    # The same from licences a page read once, from an earlier instant (a superset).
    read = availability.usable_licences("US-NY", from_=start - dt.timedelta(days=3))
    given = availability.free_starts(**args, clinician_ids=clinician_ids, licences=read)
    assert given is not None
    assert given.slots() == oracle
    assert set(given.names) == set(clinicians)
    return oracle


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    specs=st.lists(clinician_spec, min_size=1, max_size=3),
    rules=rules_spec,
    first_day=st.sampled_from(FIRST_DAYS),
    days=st.integers(1, 9),
    later=st.integers(0, 3),
    change=st.sampled_from(["book", "cancel", "hours", "time off", "licence", "hold", "none"]),
)
def test_the_fast_path_and_the_oracle_agree(specs, rules, first_day, days, later, change, staff):
    now = dt.datetime.combine(first_day, dt.time(12), tzinfo=dt.UTC) - dt.timedelta(days=1)
    import time_machine

    with time_machine.travel(now, tick=False), transaction.atomic():
        kind = consultation_type()
        kind.duration_minutes = rules["duration"]
        kind.buffer_before_minutes = rules["before"]
        kind.buffer_after_minutes = rules["after"]
        kind.min_notice_minutes = rules["notice"]
        kind.horizon_days = rules["horizon"]
        kind.max_per_day = rules["max_per_day"]
        kind.save()
        doctors = [_build(spec, n, staff, first_day) for n, spec in enumerate(specs)]
        found = _agree(first_day, days)
        # Another first day is answered from the same precomputed starts.
        _agree(first_day + dt.timedelta(days=later), days)
        _agree(first_day, days, clinician_ids=[str(doctors[0].public_id)])

        doc = doctors[0]
        if change == "book" and found:
            slot = found[0]
            chosen = next(d for d in doctors if str(d.public_id) == slot.clinician_id)
            _book(chosen, kind, slot.start, BookingStatus.CONFIRMED)
            availability.schedule_changed([chosen])
        elif change == "cancel" and (booking := Booking.objects.filter(clinician=doc).first()):
            booking.status = BookingStatus.CANCELLED
            booking.save()
            availability.schedule_changed([doc])
        elif change == "hours":
            WeeklyHours.objects.create(
                clinician=doc, weekday=first_day.weekday(), start=dt.time(6), end=dt.time(9)
            )
            availability.schedule_changed([doc])
        elif change == "time off":
            start = dt.datetime.combine(first_day, dt.time(13), tzinfo=dt.UTC)
            TimeOff.objects.create(clinician=doc, start=start, end=start + dt.timedelta(hours=3))
            availability.schedule_changed([doc])
        elif change == "licence":  # licences are read on every request: no invalidation needed
            Licence.objects.filter(clinician=doc).update(expires_on=first_day)
        elif change == "hold" and found:  # holds too
            slot = found[-1]
            Hold.objects.create(
                clinician=User.objects.get(public_id=slot.clinician_id),
                appointment_type=kind,
                start=slot.start,
                blocked_start=slot.start - kind_before(kind),
                blocked_end=slot.end + kind_after(kind),
                jurisdiction="US-NY",
                patient_time_zone="America/New_York",
                session_key_hash=uuid.uuid4().hex,
                expires_at=timezone.now() + dt.timedelta(minutes=10),
                created_at=timezone.now(),
            )
        _agree(first_day, days)
        transaction.set_rollback(True)


def test_a_cold_request_over_its_rate_is_refused_and_a_warm_one_never(frozen, open_clinic, settings):
    from django.test import Client

    settings.SLOT_COMPUTE_RATE = "1/m"
    query = {"jurisdiction": "US-NY", "start": "2026-12-01", "days": 7}
    client = Client()
    assert client.get("/api/v1/slots", query).status_code == 200  # computed: the one allowed
    for first in ("2026-12-02", "2026-12-03", "2026-12-04"):  # precomputed: never limited
        assert client.get("/api/v1/slots", {**query, "start": first}).status_code == 200
    availability.schedule_changed([open_clinic])
    response = client.get("/api/v1/slots", query)
    assert response.status_code == 429
    assert response.json()["code"] == "too_many_requests"
