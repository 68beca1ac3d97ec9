"""Read the database into plain values for the pure slot module (``slots.py``).

A fixed number of queries whatever the number of clinicians or days: one per table.
"""

from __future__ import annotations

import datetime as dt
import uuid
from array import array
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import compress, repeat
from operator import add, mul
from zoneinfo import ZoneInfo

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from clinic.accounts.models import Licence, User
from clinic.scheduling import kept_pages, slots
from clinic.scheduling.models import (
    ACTIVE_STATUSES,
    BUSY_STATUSES,
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
    still valid at some instant of the range. Each calendar carries the licence's end
    (``Licence.valid_until``): the slot module offers only visits that end by it."""
    licences = Licence.objects.usable(jurisdiction, from_=start).select_related("clinician")
    if clinician_ids is not None:
        licences = licences.filter(clinician__public_id__in=list(clinician_ids))
    by_id: dict[int, Licence] = {licence.clinician_id: licence for licence in licences}
    if not by_id:
        return Offer(calendars=[], clinicians={})
    calendars = _calendars(
        {clinician_id: (licence.clinician, licence.valid_until) for clinician_id, licence in by_id.items()},
        lo=start - MARGIN,
        hi=end + MARGIN,
        ignore_hold=ignore_hold,
        ignore_booking=ignore_booking,
    )
    clinicians = {str(licence.clinician.public_id): licence.clinician for licence in by_id.values()}
    return Offer(calendars=calendars, clinicians=clinicians)


def _calendars(
    by_id: dict[int, tuple[User, dt.datetime | None]],
    *,
    lo: dt.datetime,
    hi: dt.datetime,
    ignore_hold: Hold | None = None,
    ignore_booking: Booking | None = None,
    holds: bool = True,
) -> list[slots.Calendar]:
    """The calendars of these clinicians (each with the instant its licence stops counting, or
    None) from everything that touches ``[lo, hi)``: one query per table. Without ``holds``,
    live holds are left out (the fast path applies them at read time)."""
    ids = list(by_id)

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

    zones = {clinician_id: ZoneInfo(clinician.time_zone) for clinician_id, (clinician, _) in by_id.items()}
    busy: dict[int, list[slots.Interval]] = defaultdict(list)
    per_day: dict[int, dict[dt.date, int]] = defaultdict(lambda: defaultdict(int))
    bookings = Booking.objects.filter(
        clinician_id__in=ids, status__in=BUSY_STATUSES, blocked_start__lt=hi, blocked_end__gt=lo
    )
    if ignore_booking is not None:
        bookings = bookings.exclude(pk=ignore_booking.pk)
    for clinician_id, b_start, b_blocked_start, b_blocked_end in _fast_rows(
        bookings.values_list("clinician_id", "start", "blocked_start", "blocked_end")
    ):
        busy[clinician_id].append(slots.Interval(b_blocked_start, b_blocked_end))
        per_day[clinician_id][b_start.astimezone(zones[clinician_id]).date()] += 1

    held: dict[int, list[slots.Interval]] = defaultdict(list)
    if holds:
        live_holds = Hold.objects.filter(
            clinician_id__in=ids, expires_at__gt=timezone.now(), blocked_start__lt=hi, blocked_end__gt=lo
        )
        if ignore_hold is not None:
            live_holds = live_holds.exclude(pk=ignore_hold.pk)
        for clinician_id, h_start, h_end in live_holds.values_list(
            "clinician_id", "blocked_start", "blocked_end"
        ):
            held[clinician_id].append(slots.Interval(h_start, h_end))

    calendars = []
    for clinician_id, (clinician, licensed_until) in by_id.items():
        calendars.append(
            slots.Calendar(
                clinician_id=str(clinician.public_id),
                zone=clinician.time_zone,
                weekly=tuple(weekly[clinician_id]),
                overrides={day: tuple(windows) for day, windows in overrides[clinician_id].items()},
                time_off=tuple(off[clinician_id]),
                busy=tuple(busy[clinician_id]),
                holds=tuple(held[clinician_id]),
                booked_per_day=dict(per_day[clinician_id]),
                licensed_dates=((dt.date.min, dt.date.max),),
                licensed_until=licensed_until,
            )
        )
    return calendars


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


# The fast path. Each clinician's free starts over the whole bookable window are computed once by
# the pure module, from hours, overrides, time off and bookings (never holds, licences, notice or
# horizon, which are applied when read), and kept in the cache as one array per clinician until
# that clinician's schedule changes (``schedule_changed``). A request then reads a licence query,
# the live holds and one cache round trip, whatever its first day: the pure module stays the
# oracle (a test checks they agree on randomised clinics) and booking itself never reads any of
# this, since the transaction that books re-checks against the database.
STARTS_SECONDS = 6 * 3600  # a bound on staleness should an invalidation ever be missed
VERSION_SECONDS = 7 * 86400
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_US = dt.timedelta(microseconds=1)


def _us(moment: dt.datetime) -> int:
    """Microseconds since the epoch, exactly."""
    return (moment - _EPOCH) // _US


def schedule_changed(clinicians: Iterable[User | int] | None = None) -> None:
    """Forget the precomputed free starts of these clinicians (of everyone when None): now, and
    again once the current transaction commits (a reader between the two could otherwise keep
    what was true just before the commit)."""
    keys = ["slots:v:*"] if clinicians is None else [f"slots:v:{getattr(c, 'pk', c)}" for c in clinicians]
    keys.append(kept_pages.VERSION_KEY)  # every kept slot page too

    def bump() -> None:
        cache.set_many({key: uuid.uuid4().hex for key in keys}, VERSION_SECONDS)

    bump()
    transaction.on_commit(bump)


def _versions(keys: list[str], found: dict[str, object]) -> dict[str, str]:
    """The current version of each key. A missing one (never set, expired or culled) gets a new
    random value, never a default an old entry could have been stored under."""
    fresh = {key: uuid.uuid4().hex for key in keys if key not in found}
    if fresh:
        cache.set_many(fresh, VERSION_SECONDS)
    return {key: str(found.get(key, fresh.get(key))) for key in keys}


def _rules_tag(rules: slots.Rules) -> str:
    step = rules.step.total_seconds() if rules.step is not None else ""
    return (
        f"{rules.duration.total_seconds()}-{rules.buffer_before.total_seconds()}-"
        f"{rules.buffer_after.total_seconds()}-{rules.max_per_day}-{step}"
    )


@dataclass(frozen=True)
class FreeStarts:
    """Free slots as sorted integers: ``key = microseconds_since_epoch * len(ids) + rank``,
    which orders them by ``(start, clinician_id)`` as the pure module does. ``computed`` says
    whether any clinician's starts had to be computed for this request (a cold request)."""

    keys: list[int]
    ids: list[str]  # clinician public ids, sorted: a key's rank indexes this
    names: dict[str, str]  # public id -> display name
    duration: dt.timedelta
    computed: bool

    def pairs(self) -> Iterable[tuple[int, str]]:
        """(start in microseconds since the epoch, clinician public id), in order."""
        width, ids = len(self.ids), self.ids
        return ((us, ids[rank]) for us, rank in map(divmod, self.keys, repeat(width)))

    def slots(self) -> list[slots.Slot]:
        moments: dict[int, dt.datetime] = {}
        found = []
        for us, clinician_id in self.pairs():
            moment = moments.get(us)
            if moment is None:
                moment = moments[us] = _EPOCH + dt.timedelta(microseconds=us)
            found.append(slots.Slot(moment, moment + self.duration, clinician_id))
        return found


def free_starts(
    *,
    jurisdiction: str,
    appointment_type: AppointmentType,
    start: dt.datetime,
    end: dt.datetime,
    clinician_ids: Iterable[str] | None = None,
    now: dt.datetime | None = None,
    may_compute: Callable[[], bool] | None = None,
    licences: Sequence[Licence] | None = None,
) -> FreeStarts | None:
    """What ``free_slots`` returns (without ignoring any hold or booking), from the precomputed
    starts. When some must be computed, ``may_compute`` (if given) is asked first: on False, None
    (the caller is over its rate of cold requests). ``licences``: what ``usable_licences`` gave
    for this jurisdiction from an instant no later than ``start``, when the caller has read them
    (a page that also lists the doctors reads them once)."""
    now = now or timezone.now()
    rules = rules_for(appointment_type)
    lo = max(start, now + rules.min_notice)
    hi = min(end, now + rules.horizon)
    usable = _usable(jurisdiction, start, clinician_ids, licences)
    by_pk = {licence.clinician_id: licence for licence in usable}
    ids = sorted(str(licence.clinician.public_id) for licence in by_pk.values())
    names = {str(licence.clinician.public_id): licence.clinician.display_name for licence in by_pk.values()}
    empty = FreeStarts([], ids, names, rules.duration, computed=False)
    if not by_pk or lo >= hi:
        return empty
    # The window every request until the horizon moves on can be answered from.
    window_lo, window_hi = now - MARGIN, now + rules.horizon + MARGIN
    tag = _rules_tag(rules)
    version_keys = ["slots:v:*"] + [f"slots:v:{pk}" for pk in by_pk]
    entry_keys = {pk: f"slots:starts:{appointment_type.pk}:{pk}" for pk in by_pk}
    got = cache.get_many(version_keys + list(entry_keys.values()))
    versions = _versions(version_keys, got)
    lo_us, hi_us = _us(lo), _us(hi)
    arrays: dict[int, array] = {}
    stale: dict[int, str] = {}
    for pk, licence in by_pk.items():
        stamp = f"{versions['slots:v:*']}:{versions[f'slots:v:{pk}']}:{licence.clinician.time_zone}:{tag}"
        entry = got.get(entry_keys[pk])
        if isinstance(entry, tuple) and entry[0] == stamp and entry[1] <= lo_us and hi_us <= entry[2]:
            arrays[pk] = array("q", entry[3])
        else:
            stale[pk] = stamp
    if stale and may_compute is not None and not may_compute():
        return None
    if stale:
        computed = _compute_starts({pk: by_pk[pk].clinician for pk in stale}, rules, window_lo, window_hi)
        blobs = {}
        for pk, starts in computed.items():
            arrays[pk] = starts
            blobs[entry_keys[pk]] = (stale[pk], _us(window_lo), _us(window_hi), starts.tobytes())
        cache.set_many(blobs, STARTS_SECONDS)

    held: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for pk, h_start, h_end in Hold.objects.filter(
        clinician_id__in=list(by_pk),
        expires_at__gt=timezone.now(),
        blocked_start__lt=hi + MARGIN,
        blocked_end__gt=lo - MARGIN,
    ).values_list("clinician_id", "blocked_start", "blocked_end"):
        held[pk].append((_us(h_start), _us(h_end)))

    width = len(ids)
    rank = {public_id: n for n, public_id in enumerate(ids)}
    before_us = rules.buffer_before // _US
    after_us = (rules.duration + rules.buffer_after) // _US
    keys: list[int] = []
    for pk, licence in by_pk.items():
        starts = arrays[pk]
        top = min(hi_us, _us(licence.valid_until - rules.duration) + 1)
        first, last = bisect_left(starts, lo_us), bisect_left(starts, top)
        if first >= last:
            continue
        chosen = starts[first:last]
        if held[pk]:  # a hold [s, e) rules out the starts c with s - after < c < e + before
            keep = bytearray(b"\x01") * len(chosen)
            for held_from, held_to in held[pk]:
                a = bisect_right(chosen, held_from - after_us)
                b = bisect_left(chosen, held_to + before_us, a)
                if a < b:
                    keep[a:b] = bytes(b - a)
            chosen = array("q", compress(chosen, keep))
        r = rank[str(licence.clinician.public_id)]
        keys.extend(map(add, map(mul, chosen, repeat(width)), repeat(r)))
    keys.sort()
    return FreeStarts(keys, ids, names, rules.duration, computed=bool(stale))


def _compute_starts(
    clinicians: dict[int, User], rules: slots.Rules, lo: dt.datetime, hi: dt.datetime
) -> dict[int, array]:
    """Each clinician's free starts in ``[lo, hi)`` by the pure module, with no notice, horizon,
    licence or hold: microseconds since the epoch, ascending."""
    calendars = _calendars(
        {pk: (clinician, None) for pk, clinician in clinicians.items()},
        lo=lo - MARGIN,
        hi=hi + MARGIN,
        holds=False,
    )
    open_rules = slots.Rules(
        duration=rules.duration,
        buffer_before=rules.buffer_before,
        buffer_after=rules.buffer_after,
        max_per_day=rules.max_per_day,
        step=rules.step,
        horizon=hi - lo,
    )
    by_public = {str(clinician.public_id): pk for pk, clinician in clinicians.items()}
    found: dict[int, array] = {}
    for calendar in calendars:
        starts = slots.free_slots(calendar, open_rules, now=lo, start=lo, end=hi)
        found[by_public[calendar.clinician_id]] = array("q", [_us(slot.start) for slot in starts])
    return found


def cached_free_slots(
    *,
    jurisdiction: str,
    appointment_type: AppointmentType,
    start: dt.datetime,
    end: dt.datetime,
    clinician_ids: Iterable[str] | None = None,
    licences: Sequence[Licence] | None = None,
) -> tuple[list[slots.Slot], dict[str, str]]:
    """``free_slots`` for display, by the fast path: the slots and each clinician's display name."""
    found = free_starts(
        jurisdiction=jurisdiction,
        appointment_type=appointment_type,
        start=start,
        end=end,
        clinician_ids=clinician_ids,
        licences=licences,
    )
    assert found is not None  # noqa: S101 (computing is always allowed here)
    return found.slots(), found.names


def uncovered_bookings(*, clinician: User | None = None) -> list[Booking]:
    """Future confirmed bookings whose clinician holds no verified licence covering the whole
    visit where the patient will be (``Licence.covers``): shortened, expiring before the visit,
    or unverified. A coarse SQL filter first (a licence expiring after the visit's UTC date covers
    it in any zone from UTC-12 to UTC+14), the exact instant rule after."""
    now = timezone.now()
    surely_covered = Licence.objects.filter(
        clinician=OuterRef("clinician"),
        jurisdiction=OuterRef("jurisdiction"),
        verified_at__isnull=False,
        expires_on__gt=OuterRef("end_date"),
    )
    candidates = (
        Booking.objects.filter(status__in=ACTIVE_STATUSES, start__gt=now)
        .annotate(end_date=TruncDate("end"))
        .exclude(Exists(surely_covered))
        .select_related("clinician", "patient")
        .order_by("start")
    )
    if clinician is not None:
        candidates = candidates.filter(clinician=clinician)
    rows = list(candidates)
    licences = {
        (licence.clinician_id, licence.jurisdiction): licence
        for licence in Licence.objects.filter(clinician_id__in={b.clinician_id for b in rows})
    }
    found: list[Booking] = []
    for booking in rows:
        licence = licences.get((booking.clinician_id, booking.jurisdiction))
        if licence is None or not licence.covers(booking.start, booking.end):
            found.append(booking)
    return found


def usable_licences(jurisdiction: str, *, from_: dt.datetime) -> list[Licence]:
    """``Licence.objects.usable`` with each licence's clinician: one query."""
    return list(Licence.objects.usable(jurisdiction, from_=from_).select_related("clinician"))


def _usable(
    jurisdiction: str,
    start: dt.datetime,
    clinician_ids: Iterable[str] | None,
    licences: Sequence[Licence] | None,
) -> list[Licence]:
    """The licences ``usable(jurisdiction, from_=start)`` finds, of ``clinician_ids`` when given:
    read, or picked from ``licences`` (read from an earlier instant, so a superset) by the same
    rule."""
    if licences is None:
        query = Licence.objects.usable(jurisdiction, from_=start).select_related("clinician")
        if clinician_ids is not None:
            query = query.filter(clinician__public_id__in=list(clinician_ids))
        return list(query)
    first_date = (start - dt.timedelta(days=1)).date()
    wanted = None if clinician_ids is None else set(clinician_ids)
    return [
        licence
        for licence in licences
        if licence.jurisdiction == jurisdiction
        and licence.expires_on >= first_date
        and (wanted is None or str(licence.clinician.public_id) in wanted)
    ]


def licensed_clinicians(jurisdiction: str, licences: Sequence[Licence] | None = None) -> list[User]:
    """The doctors a patient may choose for ``jurisdiction``, by name: one query, or none when
    given what ``usable_licences`` read for it from an instant no later than now."""
    now = timezone.now()
    found = usable_licences(jurisdiction, from_=now) if licences is None else licences
    return sorted(
        (licence.clinician for licence in found if licence.is_valid_at(now)), key=lambda c: c.display_name
    )
