"""Free appointment slots, computed from plain values: no ORM, no Django.

Callers load one clinician's hours, bookings, holds, time off and licences into a ``Calendar``
and get back ``Slot`` values in UTC. Weekly hours are wall-clock hours in the clinician's IANA
zone: they are expanded per clinician-local date and converted to UTC at once, so a DST change
moves the UTC slots, never the clinician's working hours. ``group_by_local_day`` regroups UTC
slots by the dates a viewer (the patient) sees in their own zone.

Every datetime taken or returned is timezone-aware; naive ones raise ``ValueError``. Aware
datetimes in other zones are accepted and converted to UTC (``datetime.UTC``).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import accumulate, chain, compress, groupby, repeat
from operator import add, attrgetter
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "Calendar",
    "Interval",
    "Rules",
    "Slot",
    "WeeklyWindow",
    "blocked_interval",
    "free_slots",
    "free_slots_many",
    "group_by_local_day",
    "is_bookable",
]

_ZERO = timedelta(0)
_DAY = timedelta(days=1)
_TICK = timedelta(microseconds=1)  # datetime's resolution: "< x + _TICK" is "<= x"
_MIDNIGHT = time(0)


def _as_utc(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value!r}")
    return value.astimezone(UTC)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def _check_wall_window(start: time, end: time, what: str) -> None:
    if not isinstance(start, time) or not isinstance(end, time):
        raise TypeError(f"{what} must be datetime.time values")
    if start.tzinfo is not None or end.tzinfo is not None:
        raise ValueError(f"{what} is wall-clock time in the clinician's zone: pass naive times")
    if not start < end:
        raise ValueError(f"{what} must end after it starts (split windows that cross midnight)")


@dataclass(frozen=True, slots=True)
class Interval:
    """Half-open ``[start, end)`` in UTC."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        start = _as_utc(self.start, "Interval.start")
        end = _as_utc(self.end, "Interval.end")
        if not start < end:
            raise ValueError(f"Interval must have start < end, got {start} .. {end}")
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)

    def overlaps(self, other: Interval) -> bool:
        """True iff the two share an instant; intervals that only touch do not overlap."""
        return self.start < other.end and other.start < self.end


@dataclass(frozen=True, slots=True)
class WeeklyWindow:
    """Working hours on one weekday (0 = Monday … 6 = Sunday), wall clock in the clinician's
    zone. A window never crosses midnight: split it in two."""

    weekday: int
    start: time
    end: time

    def __post_init__(self) -> None:
        if not isinstance(self.weekday, int) or not 0 <= self.weekday <= 6:
            raise ValueError(f"weekday must be 0 (Monday) … 6 (Sunday), got {self.weekday!r}")
        _check_wall_window(self.start, self.end, "WeeklyWindow")


@dataclass(frozen=True, slots=True)
class Rules:
    """Booking rules of one appointment type. ``step`` is the grid step in wall-clock time;
    ``None`` means ``duration + buffer_before + buffer_after``. ``max_per_day`` caps bookings
    per clinician per clinician-local date."""

    duration: timedelta
    buffer_before: timedelta = timedelta(0)
    buffer_after: timedelta = timedelta(0)
    min_notice: timedelta = timedelta(0)
    horizon: timedelta = timedelta(days=30)
    max_per_day: int | None = None
    step: timedelta | None = None

    def __post_init__(self) -> None:
        if self.duration <= _ZERO:
            raise ValueError("duration must be positive")
        for name in ("buffer_before", "buffer_after", "min_notice", "horizon"):
            if getattr(self, name) < _ZERO:
                raise ValueError(f"{name} must not be negative")
        if self.step is not None and self.step <= _ZERO:
            raise ValueError("step must be positive")
        if self.max_per_day is not None and self.max_per_day < 0:
            raise ValueError("max_per_day must not be negative")


def _grid_step(rules: Rules) -> timedelta:
    if rules.step is not None:
        return rules.step
    return rules.duration + rules.buffer_before + rules.buffer_after


@dataclass(frozen=True, slots=True)
class Calendar:
    """Everything about one clinician that slot-finding needs, as plain values.

    ``overrides[d]`` replaces local date d's weekly hours (an empty tuple closes the day).
    ``busy`` and ``holds`` are already widened by their own buffers. ``booked_per_day`` counts
    existing bookings per clinician-local date. ``licensed_dates`` are inclusive ranges of
    clinician-local dates with a valid licence for the patient's jurisdiction; none means no
    slots at all. ``licensed_until``, when given, is the instant the licence stops counting: a
    slot is offered only if the whole visit ends by then.
    """

    clinician_id: str
    zone: str
    weekly: tuple[WeeklyWindow, ...]
    overrides: Mapping[date, tuple[tuple[time, time], ...]] = field(default_factory=dict)
    time_off: tuple[Interval, ...] = ()
    busy: tuple[Interval, ...] = ()
    holds: tuple[Interval, ...] = ()
    booked_per_day: Mapping[date, int] = field(default_factory=dict)
    licensed_dates: tuple[tuple[date, date], ...] = ()
    licensed_until: datetime | None = None

    def __post_init__(self) -> None:
        _zone(self.zone)
        if self.licensed_until is not None:
            object.__setattr__(self, "licensed_until", _as_utc(self.licensed_until, "licensed_until"))
        for window in self.weekly:
            if not isinstance(window, WeeklyWindow):
                raise TypeError(f"weekly must hold WeeklyWindow values, got {window!r}")
        for day, windows in self.overrides.items():
            for start, end in windows:
                _check_wall_window(start, end, f"override on {day}")
        for interval in chain(self.time_off, self.busy, self.holds):
            if not isinstance(interval, Interval):
                raise TypeError(f"time_off, busy and holds must hold Interval values, got {interval!r}")
        for first, last in self.licensed_dates:
            if first > last:
                raise ValueError(f"licensed_dates range {first} .. {last} is reversed")


@dataclass(frozen=True, slots=True, order=True)
class Slot:
    """A free start for one clinician, in UTC; ``end`` is ``start + duration`` (buffers are
    not part of the slot, see ``blocked_interval``)."""

    start: datetime
    end: datetime
    clinician_id: str


# Building tens of thousands of frozen dataclasses through __init__ (a Python call that sets
# each field through object.__setattr__) was the largest single cost of free_slots_many. The
# same slots are filled here from C-level map() loops. Slot has no __post_init__, so the
# objects are identical to Slot(start, end, clinician_id).
_set_start, _set_end, _set_clinician_id = (
    vars(Slot)[name].__set__ for name in ("start", "end", "clinician_id")
)


def _make_slots(starts: list[datetime], duration: timedelta, clinician_id: str) -> list[Slot]:
    """``[Slot(start, start + duration, clinician_id) for start in starts]``, faster."""
    made = list(map(object.__new__, repeat(Slot, len(starts))))
    _consume(map(_set_start, made, starts))
    _consume(map(_set_end, made, map(add, starts, repeat(duration))))
    _consume(map(_set_clinician_id, made, repeat(clinician_id)))
    return made


def _consume(iterator: Iterator[object]) -> None:
    deque(iterator, maxlen=0)


def blocked_interval(start: datetime, rules: Rules) -> Interval:
    """``[start - buffer_before, start + duration + buffer_after)``: what a booking at
    ``start`` occupies."""
    start = _as_utc(start, "start")
    return Interval(start - rules.buffer_before, start + rules.duration + rules.buffer_after)


# --- Expanding wall-clock hours -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Hours:
    """One local date's working windows (sorted by start) under one set of rules.

    ``grid`` is every candidate start as time since local midnight, ascending and unique, for
    a date without a DST transition (where wall-clock and elapsed time agree): each window's
    start, then every ``step``, while the slot still ends by the window's end.
    """

    windows: tuple[tuple[time, time], ...]
    grid: tuple[timedelta, ...]


def _since_midnight(wall: time) -> timedelta:
    return datetime.combine(date.min, wall) - datetime.combine(date.min, _MIDNIGHT)


def _hours(windows: Iterable[tuple[time, time]], step: timedelta, duration: timedelta) -> _Hours:
    ordered = tuple(sorted(windows))
    grid: list[timedelta] = []
    for start, end in ordered:
        first, last = _since_midnight(start), _since_midnight(end) - duration
        if first <= last:
            grid.extend(accumulate(repeat(step, (last - first) // step), add, initial=first))
    disjoint = all(a[1] <= b[0] for a, b in zip(ordered, ordered[1:], strict=False))
    return _Hours(windows=ordered, grid=tuple(grid) if disjoint else tuple(sorted(set(grid))))


_Midnights = dict[tuple[str, date], datetime | None]


def _utc_midnight(zone: ZoneInfo, day: date, cache: _Midnights) -> datetime | None:
    """UTC instant of the local date's midnight if the zone keeps one UTC offset all that
    date; None if the date has a transition (or starts or ends inside one).

    Only the offsets at the two local midnights are read: two transitions cancelling out
    within one date would be missed, and no zone's current rules have that.
    """
    key = (zone.key, day)
    if key in cache:
        return cache[key]
    here = datetime.combine(day, _MIDNIGHT, tzinfo=zone)
    there = datetime.combine(day + _DAY, _MIDNIGHT, tzinfo=zone)
    offsets = {
        here.utcoffset(),
        here.replace(fold=1).utcoffset(),
        there.utcoffset(),
        there.replace(fold=1).utcoffset(),
    }
    cache[key] = midnight = here.astimezone(UTC) if len(offsets) == 1 else None
    return midnight


def _wall_to_utc(wall: datetime, zone: ZoneInfo) -> datetime | None:
    """UTC instant of a naive local wall time, the first occurrence (fold=0) of a repeated
    one; None when the wall time does not exist (skipped by a spring-forward gap)."""
    instant = wall.replace(tzinfo=zone).astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) != wall:
        return None
    return instant


def _wall_end_to_utc(wall: datetime, zone: ZoneInfo) -> datetime:
    """UTC instant at which a window ending at wall time ``wall`` ends. If ``wall`` falls in a
    spring-forward gap, that is the instant the gap ends: the clinician stops when the clock
    jumps past the end of their hours."""
    instant = _wall_to_utc(wall, zone)
    if instant is not None:
        return instant
    # In a gap, fold=0 applies the offset from before the transition and lands after it;
    # fold=1 lands before it. Bisect between them for the first instant whose wall time is
    # past ``wall``: the transition itself.
    after = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    before = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    while after - before > _TICK:
        middle = before + (after - before) // 2
        if middle.astimezone(zone).replace(tzinfo=None) > wall:
            after = middle
        else:
            before = middle
    return after


def _local_dates(zone: ZoneInfo, lo: datetime, hi: datetime) -> Iterator[date]:
    """Every local date with an instant in [lo, hi)."""
    day = lo.astimezone(zone).date()
    last = (hi - _TICK).astimezone(zone).date()
    while day <= last:
        yield day
        day += _DAY


def _day_open(calendar: Calendar, rules: Rules, day: date) -> bool:
    """Licensed on that local date, and under the daily cap. The cap counts existing bookings
    only: the slots offered on a day are alternatives, not bookings."""
    if rules.max_per_day is not None and calendar.booked_per_day.get(day, 0) >= rules.max_per_day:
        return False
    for first, last in calendar.licensed_dates:
        if first <= day <= last:
            return True
    return False


def _candidates(
    calendar: Calendar, rules: Rules, lo: datetime, hi: datetime, midnights: _Midnights
) -> list[datetime]:
    """UTC starts of every grid candidate in [lo, hi), ascending and unique, on open
    clinician-local dates, whose slot ends inside its window. Busy time is not looked at.

    free_slots and is_bookable both expand hours here, so they cannot disagree. The loop runs
    once per clinician-day, so the common date (no DST change) is kept to a few operations.
    """
    zone = _zone(calendar.zone)
    step, duration = _grid_step(rules), rules.duration
    weekly: dict[int, _Hours] = {}  # filled as weekdays come up: is_bookable needs only one
    out: list[datetime] = []
    for day in _local_dates(zone, lo, hi):
        if not _day_open(calendar, rules, day):
            continue
        if day in calendar.overrides:
            hours = _hours(calendar.overrides[day], step, duration)
        else:
            weekday = day.weekday()
            if weekday not in weekly:
                windows = [(w.start, w.end) for w in calendar.weekly if w.weekday == weekday]
                weekly[weekday] = _hours(windows, step, duration)
            hours = weekly[weekday]
        midnight = _utc_midnight(zone, day, midnights)
        if midnight is None:
            out.extend(_transition_day_candidates(zone, day, hours, step, duration, lo, hi))
            continue
        # No transition: wall clock and UTC advance together, so the date's grid is its
        # weekday's grid shifted to the date's UTC midnight, laid out in C.
        grid = hours.grid
        if grid and lo <= midnight + grid[0] and midnight + grid[-1] < hi:
            out.extend(map(add, repeat(midnight), grid))
        elif grid:  # the first or last date of the range
            out.extend(start for start in map(add, repeat(midnight), grid) if lo <= start < hi)
    # Dates ascend, each date's starts ascend, and the fold=0 wall-to-UTC mapping is
    # increasing, so ``out`` is sorted.
    return out


def _transition_day_candidates(
    zone: ZoneInfo,
    day: date,
    hours: _Hours,
    step: timedelta,
    duration: timedelta,
    lo: datetime,
    hi: datetime,
) -> list[datetime]:
    """A date with a DST transition: walk the wall clock, convert each grid time on its own
    and skip the ones that do not exist. Rare, so clarity beats speed."""
    starts: set[datetime] = set()
    for window_start, window_end in hours.windows:
        wall = datetime.combine(day, window_start)
        wall_end = datetime.combine(day, window_end)
        end_utc = _wall_end_to_utc(wall_end, zone)
        while wall < wall_end:
            instant = _wall_to_utc(wall, zone)
            if instant is not None and lo <= instant < hi and instant + duration <= end_utc:
                starts.add(instant)
            wall += step
    return sorted(starts)


# --- Free slots -----------------------------------------------------------------------------


def _bounds(rules: Rules, now: datetime, start: datetime, end: datetime) -> tuple[datetime, datetime]:
    now = _as_utc(now, "now")
    lo = max(_as_utc(start, "start"), now + rules.min_notice)
    hi = min(_as_utc(end, "end"), now + rules.horizon)
    return lo, hi


def _licence_bound(calendar: Calendar, rules: Rules, hi: datetime) -> datetime:
    """The latest start (exclusive) whose visit still ends by ``licensed_until``."""
    if calendar.licensed_until is None:
        return hi
    return min(hi, calendar.licensed_until - rules.duration + _TICK)


def _free_slots(
    calendar: Calendar, rules: Rules, lo: datetime, hi: datetime, midnights: _Midnights
) -> list[Slot]:
    hi = _licence_bound(calendar, rules, hi)
    if lo >= hi or not calendar.licensed_dates:
        return []
    candidates = _candidates(calendar, rules, lo, hi, midnights)
    # A blocking interval [s, e) rules out exactly the candidates c with
    # s - after < c < e + before: one contiguous index range of the sorted candidates, found
    # with two bisects. O((blocks + candidates) log candidates), no Python work per candidate.
    before, after = rules.buffer_before, rules.duration + rules.buffer_after
    keep = bytearray(b"\x01") * len(candidates)
    for interval in chain(calendar.busy, calendar.holds, calendar.time_off):
        first = bisect_right(candidates, interval.start - after)
        last = bisect_left(candidates, interval.end + before, first)
        if first < last:
            keep[first:last] = bytes(last - first)
    return _make_slots(list(compress(candidates, keep)), rules.duration, calendar.clinician_id)


def free_slots(
    calendar: Calendar, rules: Rules, *, now: datetime, start: datetime, end: datetime
) -> list[Slot]:
    """Free slots of one clinician whose start is in ``[start, end)``, sorted by start.

    A grid candidate on clinician-local date d is kept when d is licensed and under the daily
    cap, the visit ends by ``licensed_until``, its start is in ``[now + min_notice, now +
    horizon)`` and in ``[start, end)``, it ends inside its window, and its blocked interval
    overlaps no busy time, hold or time off.
    """
    lo, hi = _bounds(rules, now, start, end)
    return _free_slots(calendar, rules, lo, hi, {})


def free_slots_many(
    calendars: Iterable[Calendar], rules: Rules, *, now: datetime, start: datetime, end: datetime
) -> list[Slot]:
    """Every clinician's free slots merged, sorted by ``(start, clinician_id)``."""
    lo, hi = _bounds(rules, now, start, end)
    midnights: _Midnights = {}  # shared: clinicians in one zone share its DST transitions
    found: list[Slot] = []
    for calendar in sorted(calendars, key=attrgetter("clinician_id")):
        found.extend(_free_slots(calendar, rules, lo, hi, midnights))
    # Stable sort on start alone keeps clinician_id order among equal starts.
    found.sort(key=attrgetter("start"))
    return found


def is_bookable(calendar: Calendar, rules: Rules, *, now: datetime, slot_start: datetime) -> bool:
    """True iff ``slot_start`` is exactly the start of one of ``free_slots`` for this calendar
    and rules (for any range containing it). Meant for re-checking a requested slot inside the
    booking transaction: it expands only the one local date the slot falls on."""
    now = _as_utc(now, "now")
    slot_start = _as_utc(slot_start, "slot_start")
    latest = _licence_bound(calendar, rules, now + rules.horizon)
    if not now + rules.min_notice <= slot_start < latest:
        return False
    # The same expansion as free_slots, over a one-microsecond range: only the slot's own
    # clinician-local date is looked at.
    if _candidates(calendar, rules, slot_start, slot_start + _TICK, {}) != [slot_start]:
        return False
    blocked = blocked_interval(slot_start, rules)
    return not any(
        blocked.overlaps(other) for other in chain(calendar.busy, calendar.holds, calendar.time_off)
    )


def group_by_local_day(slots: Iterable[Slot], zone: str) -> list[tuple[date, list[Slot]]]:
    """Slots grouped by the date their start falls on in ``zone`` (the viewer's, usually the
    patient's), dates ascending, each day's slots by ``(start, clinician_id)``."""
    tz = _zone(zone)
    ordered = sorted(slots, key=lambda slot: (_as_utc(slot.start, "Slot.start"), slot.clinician_id))
    return [
        (day, list(group))
        for day, group in groupby(ordered, key=lambda slot: slot.start.astimezone(tz).date())
    ]
