"""Read the database into plain values for the pure slot module (``slots.py``).

A fixed number of queries whatever the number of clinicians or days: one per table.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from clinic.accounts.models import Licence, Role, User
from clinic.scheduling import slots
from clinic.scheduling.models import (
    ACTIVE_STATUSES,
    AppointmentType,
    Booking,
    DateOverride,
    Hold,
    TimeOff,
    WeeklyHours,
)

# Reading one extra day either side covers every clinician-local date a UTC range can touch
# (UTC offsets stay within ±14 hours).
MARGIN = dt.timedelta(days=1)


def rules_for(appointment_type: AppointmentType) -> slots.Rules:
    return slots.Rules(
        duration=appointment_type.duration,
        buffer_before=dt.timedelta(minutes=appointment_type.buffer_before_minutes),
        buffer_after=dt.timedelta(minutes=appointment_type.buffer_after_minutes),
        min_notice=dt.timedelta(minutes=appointment_type.min_notice_minutes),
        horizon=dt.timedelta(days=appointment_type.horizon_days),
        max_per_day=appointment_type.max_per_day,
    )


@dataclass(frozen=True)
class Offer:
    """The clinicians that can be offered for a jurisdiction, with their calendars."""

    calendars: list[slots.Calendar]
    clinicians: dict[str, User]  # by public id


def offer(
    *,
    jurisdiction: str,
    appointment_type: AppointmentType,
    start: dt.datetime,
    end: dt.datetime,
    clinician_ids: Iterable[str] | None = None,
    ignore_hold: Hold | None = None,
    ignore_booking: Booking | None = None,
) -> Offer:
    """Calendars of every active clinician with a verified licence for ``jurisdiction`` that is
    still valid on some day of the range. Licence validity per date is left to the slot module."""
    licences = valid_licences(jurisdiction, (start - MARGIN).date()).select_related("clinician")
    if clinician_ids is not None:
        licences = licences.filter(clinician__public_id__in=list(clinician_ids))
    by_id: dict[int, Licence] = {licence.clinician_id: licence for licence in licences}
    if not by_id:
        return Offer(calendars=[], clinicians={})
    ids = list(by_id)
    lo, hi = start - MARGIN, end + MARGIN

    weekly: dict[int, list[slots.WeeklyWindow]] = defaultdict(list)
    for row in WeeklyHours.objects.filter(clinician_id__in=ids):
        weekly[row.clinician_id].append(slots.WeeklyWindow(row.weekday, row.start, row.end))

    overrides: dict[int, dict[dt.date, list[tuple[dt.time, dt.time]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for override in DateOverride.objects.filter(
        clinician_id__in=ids, date__gte=lo.date(), date__lte=hi.date()
    ):
        day = overrides[override.clinician_id][override.date]  # a row with no times still closes the day
        if override.start is not None and override.end is not None:
            day.append((override.start, override.end))

    off: dict[int, list[slots.Interval]] = defaultdict(list)
    for leave in TimeOff.objects.filter(clinician_id__in=ids, start__lt=hi, end__gt=lo):
        off[leave.clinician_id].append(slots.Interval(leave.start, leave.end))

    zones = {clinician_id: ZoneInfo(licence.clinician.time_zone) for clinician_id, licence in by_id.items()}
    busy: dict[int, list[slots.Interval]] = defaultdict(list)
    per_day: dict[int, dict[dt.date, int]] = defaultdict(lambda: defaultdict(int))
    bookings = Booking.objects.filter(
        clinician_id__in=ids, status__in=ACTIVE_STATUSES, blocked_start__lt=hi, blocked_end__gt=lo
    )
    if ignore_booking is not None:
        bookings = bookings.exclude(pk=ignore_booking.pk)
    for clinician_id, b_start, b_blocked_start, b_blocked_end in _fast_rows(
        bookings.values_list("clinician_id", "start", "blocked_start", "blocked_end")
    ):
        busy[clinician_id].append(slots.Interval(b_blocked_start, b_blocked_end))
        per_day[clinician_id][b_start.astimezone(zones[clinician_id]).date()] += 1

    holds: dict[int, list[slots.Interval]] = defaultdict(list)
    live_holds = Hold.objects.filter(
        clinician_id__in=ids, expires_at__gt=timezone.now(), blocked_start__lt=hi, blocked_end__gt=lo
    )
    if ignore_hold is not None:
        live_holds = live_holds.exclude(pk=ignore_hold.pk)
    for clinician_id, h_start, h_end in live_holds.values_list(
        "clinician_id", "blocked_start", "blocked_end"
    ):
        holds[clinician_id].append(slots.Interval(h_start, h_end))

    calendars = []
    clinicians = {}
    for clinician_id, licence in by_id.items():
        clinician = licence.clinician
        public_id = str(clinician.public_id)
        clinicians[public_id] = clinician
        calendars.append(
            slots.Calendar(
                clinician_id=public_id,
                zone=clinician.time_zone,
                weekly=tuple(weekly[clinician_id]),
                overrides={day: tuple(windows) for day, windows in overrides[clinician_id].items()},
                time_off=tuple(off[clinician_id]),
                busy=tuple(busy[clinician_id]),
                holds=tuple(holds[clinician_id]),
                booked_per_day=dict(per_day[clinician_id]),
                licensed_dates=((dt.date.min, licence.expires_on),),
            )
        )
    return Offer(calendars=calendars, clinicians=clinicians)


def _fast_rows(queryset: QuerySet) -> list[tuple]:
    """Rows of a values_list() query without Django's per-value converters, which cost more
    than the whole slot computation for a busy month on SQLite. SQLite's driver hands back
    naive UTC datetimes (they are stored in UTC); PostgreSQL's are already aware."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if connection.vendor != "sqlite":
        return rows
    return [
        tuple(
            v.replace(tzinfo=dt.UTC)
            if isinstance(v, dt.datetime) and v.tzinfo is None
            else dt.datetime.fromisoformat(v).replace(tzinfo=dt.UTC)
            if isinstance(v, str)
            else v
            for v in row
        )  # fmt: skip
        for row in rows
    ]


def free_slots(
    *,
    jurisdiction: str,
    appointment_type: AppointmentType,
    start: dt.datetime,
    end: dt.datetime,
    clinician_ids: Iterable[str] | None = None,
    ignore_hold: Hold | None = None,
    ignore_booking: Booking | None = None,
    now: dt.datetime | None = None,
) -> tuple[list[slots.Slot], dict[str, User]]:
    found = offer(
        jurisdiction=jurisdiction,
        appointment_type=appointment_type,
        start=start,
        end=end,
        clinician_ids=clinician_ids,
        ignore_hold=ignore_hold,
        ignore_booking=ignore_booking,
    )
    result = slots.free_slots_many(
        found.calendars, rules_for(appointment_type), now=now or timezone.now(), start=start, end=end
    )
    return result, found.clinicians


# Read-side cache of computed slots. Every patient in a state sees the same week, so the pages and
# the API share one computation per minute, invalidated at once by any write that changes
# availability (``schedule_changed``). Booking itself never reads it: the transaction that books
# always re-checks against the database.
CACHE_SECONDS = 60


def schedule_changed() -> None:
    """Forget every cached slot list: now, and again once the current transaction commits (a
    reader between the two could otherwise cache what was true just before the commit)."""
    cache.set("slots:version", uuid.uuid4().hex, None)
    transaction.on_commit(lambda: cache.set("slots:version", uuid.uuid4().hex, None))


def cache_key(
    *,
    jurisdiction: str,
    appointment_type: AppointmentType,
    start: dt.datetime,
    end: dt.datetime,
    clinician_ids: Iterable[str] | None = None,
) -> str:
    """A key for anything derived from these free slots, valid until availability changes or the
    minute turns (notice and horizon move with the clock)."""
    version = cache.get_or_set("slots:version", "0", None)
    ids = ",".join(sorted(clinician_ids)) if clinician_ids is not None else "*"
    minute = timezone.now().strftime("%Y%m%d%H%M")
    parts = [
        str(version),
        str(appointment_type.pk),
        jurisdiction,
        start.isoformat(),
        end.isoformat(),
        ids,
        minute,
    ]
    return ":".join(parts)


def cached_free_slots(
    *,
    jurisdiction: str,
    appointment_type: AppointmentType,
    start: dt.datetime,
    end: dt.datetime,
    clinician_ids: Iterable[str] | None = None,
) -> tuple[list[slots.Slot], dict[str, str]]:
    """``free_slots`` for display: the slots and each clinician's display name."""
    now = timezone.now()
    key = "slots:" + cache_key(
        jurisdiction=jurisdiction,
        appointment_type=appointment_type,
        start=start,
        end=end,
        clinician_ids=clinician_ids,
    )
    hit = cache.get(key)
    if hit is not None:
        rows, names = hit
        as_utc = dt.datetime.fromtimestamp
        return [slots.Slot(as_utc(a, dt.UTC), as_utc(b, dt.UTC), c) for a, b, c in rows], names
    found, clinicians = free_slots(
        jurisdiction=jurisdiction,
        appointment_type=appointment_type,
        start=start,
        end=end,
        clinician_ids=clinician_ids,
        now=now,
    )
    names = {public_id: clinician.display_name for public_id, clinician in clinicians.items()}
    rows = [(slot.start.timestamp(), slot.end.timestamp(), slot.clinician_id) for slot in found]
    cache.set(key, (rows, names), CACHE_SECONDS)
    return found, names


def valid_licences(jurisdiction: str, on_or_after: dt.date) -> QuerySet[Licence]:
    """Verified licences for ``jurisdiction`` of active clinicians, not expired before the day."""
    return Licence.objects.filter(
        jurisdiction=jurisdiction,
        verified_at__isnull=False,
        expires_on__gte=on_or_after,
        clinician__is_active=True,
        clinician__role=Role.CLINICIAN,
    )


def licensed_clinicians(jurisdiction: str) -> list[User]:
    """The doctors a patient may choose for ``jurisdiction``, by name: one query."""
    licences = valid_licences(jurisdiction, timezone.now().date()).select_related("clinician")
    return sorted((licence.clinician for licence in licences), key=lambda c: c.display_name)
