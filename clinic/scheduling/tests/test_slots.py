"""The pure slot module: no database, plain values in and out."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinic.scheduling.slots import (
    Calendar,
    Interval,
    Rules,
    Slot,
    WeeklyWindow,
    blocked_interval,
    free_slots,
    free_slots_many,
    group_by_local_day,
    is_bookable,
)

NY = "America/New_York"
LA = "America/Los_Angeles"
SYDNEY = "Australia/Sydney"
LONDON = "Europe/London"
KOLKATA = "Asia/Kolkata"

MINUTE = timedelta(minutes=1)
TWENTY = Rules(duration=timedelta(minutes=20))
BUFFERED = Rules(
    duration=timedelta(minutes=20), buffer_before=timedelta(minutes=5), buffer_after=timedelta(minutes=10)
)
MONDAY = date(2026, 1, 5)  # EST, UTC-5
NEXT_MONDAY = date(2026, 1, 12)
ALWAYS = ((date(2020, 1, 1), date(2030, 12, 31)),)


def at(zone: str, day: date, hour: int, minute: int = 0, *, fold: int = 0) -> datetime:
    """The UTC instant of a wall-clock time in ``zone`` (first occurrence unless fold=1)."""
    return datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(zone)).replace(fold=fold).astimezone(UTC)


def midnight(zone: str, day: date) -> datetime:
    return at(zone, day, 0)


def calendar(**fields: Any) -> Calendar:
    values: dict[str, Any] = {
        "clinician_id": "dana",
        "zone": NY,
        "weekly": (WeeklyWindow(0, time(9), time(12)),),
        "licensed_dates": ALWAYS,
    }
    values.update(fields)
    return Calendar(**values)


def slots_between(
    cal: Calendar, rules: Rules, first: date, last: date, *, now: datetime | None = None
) -> list[Slot]:
    """Slots on the clinician-local dates first..last inclusive."""
    start = midnight(cal.zone, first)
    return free_slots(
        cal,
        rules,
        now=now or start - timedelta(days=1),
        start=start,
        end=midnight(cal.zone, last + timedelta(days=1)),
    )


def walls(slots: list[Slot], zone: str) -> list[str]:
    return [slot.start.astimezone(ZoneInfo(zone)).strftime("%H:%M") for slot in slots]


def walls_on(slots: list[Slot], zone: str, day: date) -> list[str]:
    return walls([s for s in slots if s.start.astimezone(ZoneInfo(zone)).date() == day], zone)


def grid(start: str, end: str, minutes: int) -> list[str]:
    """Wall times from start (inclusive) to end (exclusive) every ``minutes``."""
    h, m = map(int, start.split(":"))
    eh, em = map(int, end.split(":"))
    return [f"{t // 60:02}:{t % 60:02}" for t in range(h * 60 + m, eh * 60 + em, minutes)]


# --- Basics -----------------------------------------------------------------------------------


def test_monday_morning_in_new_york_gives_nine_twenty_minute_slots_in_utc():
    slots = slots_between(calendar(), TWENTY, MONDAY, MONDAY)

    assert walls(slots, NY) == grid("09:00", "12:00", 20)
    assert len(slots) == 9
    # January: EST is UTC-5, so 09:00 local is 14:00 UTC.
    assert slots[0] == Slot(
        datetime(2026, 1, 5, 14, 0, tzinfo=UTC), datetime(2026, 1, 5, 14, 20, tzinfo=UTC), "dana"
    )
    assert slots[-1].start == datetime(2026, 1, 5, 16, 40, tzinfo=UTC)
    assert all(s.start.tzinfo is UTC and s.end - s.start == timedelta(minutes=20) for s in slots)


def test_inputs_in_other_zones_are_accepted_and_results_are_utc():
    zone = ZoneInfo(NY)
    slots = free_slots(
        calendar(),
        TWENTY,
        now=datetime(2026, 1, 1, 8, 0, tzinfo=zone),
        start=datetime(2026, 1, 5, 0, 0, tzinfo=zone),
        end=datetime(2026, 1, 6, 0, 0, tzinfo=zone),
    )
    assert slots == slots_between(calendar(), TWENTY, MONDAY, MONDAY)
    assert {s.start.tzinfo for s in slots} == {UTC}


def test_blocked_interval_widens_a_booking_by_both_buffers():
    start = datetime(2026, 1, 5, 14, 0, tzinfo=UTC)
    assert blocked_interval(start, BUFFERED) == Interval(
        datetime(2026, 1, 5, 13, 55, tzinfo=UTC), datetime(2026, 1, 5, 14, 30, tzinfo=UTC)
    )
    assert blocked_interval(start, TWENTY) == Interval(start, start + timedelta(minutes=20))


def test_buffers_make_the_default_step_thirty_five_minutes():
    slots = slots_between(calendar(), BUFFERED, MONDAY, MONDAY)
    # 11:55 would end at 12:15, after the window; the buffer itself may run past it.
    assert walls(slots, NY) == ["09:00", "09:35", "10:10", "10:45", "11:20"]


def test_an_explicit_step_overrides_the_default():
    rules = Rules(duration=timedelta(minutes=20), step=timedelta(minutes=30))
    assert walls(slots_between(calendar(), rules, MONDAY, MONDAY), NY) == grid("09:00", "11:50", 30)


def test_busy_booking_blocks_neighbours_that_overlap_its_widened_interval():
    booking = blocked_interval(at(NY, MONDAY, 10, 30), BUFFERED)  # [10:25, 11:00)
    touching = Interval(at(NY, MONDAY, 8, 0), at(NY, MONDAY, 8, 55))  # ends where 09:00's buffer starts
    slots = slots_between(calendar(busy=(booking, touching)), BUFFERED, MONDAY, MONDAY)
    # 10:10 occupies [10:05, 10:40) and 10:45 occupies [10:40, 11:15): both hit [10:25, 11:00).
    assert walls(slots, NY) == ["09:00", "09:35", "11:20"]


def test_min_notice_hides_slots_that_start_too_soon():
    rules = Rules(duration=timedelta(minutes=20), min_notice=timedelta(hours=1))
    now = at(NY, MONDAY, 8, 20)
    slots = free_slots(calendar(), rules, now=now, start=now, end=now + timedelta(days=1))
    assert walls(slots, NY) == grid("09:20", "12:00", 20)  # 09:20 is exactly now + notice


def test_horizon_hides_slots_too_far_ahead():
    rules = Rules(duration=timedelta(minutes=20), horizon=timedelta(days=7))
    now = at(NY, MONDAY, 10, 0)
    slots = free_slots(calendar(), rules, now=now, start=now, end=now + timedelta(days=14))
    assert walls_on(slots, NY, MONDAY) == grid("10:00", "12:00", 20)
    assert walls_on(slots, NY, NEXT_MONDAY) == ["09:00", "09:20", "09:40"]  # 10:00 is now + horizon


def test_only_slots_starting_inside_the_requested_range_are_returned():
    slots = free_slots(
        calendar(), TWENTY, now=at(NY, MONDAY, 0), start=at(NY, MONDAY, 9, 20), end=at(NY, MONDAY, 10, 0)
    )
    assert walls(slots, NY) == ["09:20", "09:40"]


def test_a_slot_starting_exactly_at_the_range_end_is_not_offered():
    slots = free_slots(
        calendar(), TWENTY, now=at(NY, MONDAY, 0), start=at(NY, MONDAY, 0), end=at(NY, MONDAY, 11, 40)
    )
    assert walls(slots, NY) == grid("09:00", "11:40", 20)


def test_a_slot_that_has_already_started_is_not_offered():
    now = at(NY, MONDAY, 9, 5)
    slots = free_slots(
        calendar(), TWENTY, now=now, start=now - timedelta(hours=1), end=now + timedelta(hours=8)
    )
    assert walls(slots, NY) == grid("09:20", "12:00", 20)


def test_a_range_starting_in_the_evening_west_of_utc_includes_that_evening():
    # 20:30 in Los Angeles is already the next date in UTC; that evening's slots still count.
    cal = calendar(zone=LA, weekly=(WeeklyWindow(0, time(20), time(22)),))
    start = at(LA, MONDAY, 20, 30)
    slots = free_slots(cal, TWENTY, now=start, start=start, end=start + timedelta(hours=6))
    assert walls(slots, LA) == ["20:40", "21:00", "21:20", "21:40"]


def test_time_off_removes_the_slots_it_covers():
    off = Interval(at(NY, MONDAY, 10, 0), at(NY, MONDAY, 11, 0))
    slots = slots_between(calendar(time_off=(off,)), TWENTY, MONDAY, MONDAY)
    assert walls(slots, NY) == ["09:00", "09:20", "09:40", "11:00", "11:20", "11:40"]


def test_time_off_is_compared_with_the_buffered_slot():
    off = Interval(at(NY, MONDAY, 10, 0), at(NY, MONDAY, 10, 30))
    slots = slots_between(calendar(time_off=(off,)), BUFFERED, MONDAY, MONDAY)
    # 09:35 ends at 09:55 but its after-buffer runs to 10:05, into the time off.
    assert walls(slots, NY) == ["09:00", "10:45", "11:20"]


def test_a_live_hold_removes_its_slot():
    hold = Interval(at(NY, MONDAY, 9, 20), at(NY, MONDAY, 9, 40))
    slots = slots_between(calendar(holds=(hold,)), TWENTY, MONDAY, MONDAY)
    assert walls(slots, NY) == ["09:00", *grid("09:40", "12:00", 20)]


def test_an_override_replaces_that_dates_weekly_hours():
    tuesday = MONDAY + timedelta(days=1)
    cal = calendar(overrides={MONDAY: ((time(14), time(15)),), tuesday: ((time(8), time(8, 40)),)})
    slots = slots_between(cal, TWENTY, MONDAY, NEXT_MONDAY)
    assert walls_on(slots, NY, MONDAY) == ["14:00", "14:20", "14:40"]
    assert walls_on(slots, NY, tuesday) == ["08:00", "08:20"]  # no weekly hours on Tuesdays
    assert walls_on(slots, NY, NEXT_MONDAY) == grid("09:00", "12:00", 20)


def test_an_empty_override_closes_the_day():
    slots = slots_between(calendar(overrides={MONDAY: ()}), TWENTY, MONDAY, NEXT_MONDAY)
    assert walls_on(slots, NY, MONDAY) == []
    assert len(walls_on(slots, NY, NEXT_MONDAY)) == 9


def test_overlapping_windows_do_not_double_slots():
    weekly = (
        WeeklyWindow(0, time(9), time(10)),
        WeeklyWindow(0, time(9, 30), time(11)),
        WeeklyWindow(0, time(9), time(10)),
    )
    slots = slots_between(calendar(weekly=weekly), TWENTY, MONDAY, MONDAY)
    assert walls(slots, NY) == ["09:00", "09:20", "09:30", "09:40", "09:50", "10:10", "10:30"]


@pytest.mark.parametrize(("booked", "expected"), [(3, 0), (4, 0), (2, 9)])
def test_max_per_day_closes_a_day_that_already_has_enough_bookings(booked, expected):
    rules = Rules(duration=timedelta(minutes=20), max_per_day=3)
    cal = calendar(booked_per_day={MONDAY: booked})
    slots = slots_between(cal, rules, MONDAY, NEXT_MONDAY)
    # The cap counts existing bookings only: nine free slots are offered with two booked.
    assert len(walls_on(slots, NY, MONDAY)) == expected
    assert len(walls_on(slots, NY, NEXT_MONDAY)) == 9


def test_licence_expiry_is_checked_on_the_clinicians_local_date():
    # Evenings in Los Angeles are already the next date in UTC.
    weekly = tuple(WeeklyWindow(day, time(20), time(22)) for day in range(7))
    cal = calendar(zone=LA, weekly=weekly, licensed_dates=((date(2026, 1, 1), date(2026, 1, 7)),))
    slots = slots_between(cal, TWENTY, MONDAY, date(2026, 1, 10))
    local_dates = {s.start.astimezone(ZoneInfo(LA)).date() for s in slots}
    assert local_dates == {date(2026, 1, 5), date(2026, 1, 6), date(2026, 1, 7)}
    assert max(s.start for s in slots) == datetime(2026, 1, 8, 5, 40, tzinfo=UTC)  # 21:40 on the 7th


def test_licence_gaps_and_no_licence():
    weekly = tuple(WeeklyWindow(day, time(9), time(10)) for day in range(7))
    gap = ((date(2026, 1, 1), date(2026, 1, 5)), (date(2026, 1, 7), date(2026, 1, 9)))
    slots = slots_between(calendar(weekly=weekly, licensed_dates=gap), TWENTY, MONDAY, date(2026, 1, 10))
    local_dates = sorted({s.start.astimezone(ZoneInfo(NY)).date() for s in slots})
    assert local_dates == [date(2026, 1, 5), date(2026, 1, 7), date(2026, 1, 8), date(2026, 1, 9)]
    assert slots_between(calendar(weekly=weekly, licensed_dates=()), TWENTY, MONDAY, NEXT_MONDAY) == []


# --- DST --------------------------------------------------------------------------------------

DST_DAYS = [
    pytest.param(NY, date(2026, 3, 8), {"02:00", "02:20", "02:40"}, id="new-york-spring-forward"),
    pytest.param(NY, date(2026, 11, 1), set(), id="new-york-fall-back"),
    pytest.param(SYDNEY, date(2026, 10, 4), {"02:00", "02:20", "02:40"}, id="sydney-spring-forward"),
    pytest.param(SYDNEY, date(2026, 4, 5), set(), id="sydney-fall-back"),
    pytest.param(LONDON, date(2026, 3, 29), {"01:00", "01:20", "01:40"}, id="london-spring-forward"),
    pytest.param(LONDON, date(2026, 10, 25), set(), id="london-fall-back"),
]


@pytest.mark.parametrize(("zone", "day", "missing"), DST_DAYS)
def test_hours_across_a_dst_change_follow_the_wall_clock(zone, day, missing):
    cal = calendar(zone=zone, weekly=(WeeklyWindow(day.weekday(), time(0), time(5)),))
    slots = slots_between(cal, TWENTY, day, day)
    tz = ZoneInfo(zone)

    # Every 20-minute wall time that exists, once each; none in the skipped hour.
    assert walls(slots, zone) == [w for w in grid("00:00", "05:00", 20) if w not in missing]
    assert len({s.start for s in slots}) == len(slots)
    assert [s.start for s in slots] == sorted(s.start for s in slots)
    for slot in slots:
        local = slot.start.astimezone(tz)
        assert local.date() == day
        # The UTC start is the grid wall time converted with fold=0 (its first occurrence).
        assert datetime.combine(day, local.time(), tzinfo=tz).astimezone(UTC) == slot.start
        assert slot.end <= at(zone, day, 5)
        assert slot.end - slot.start == timedelta(minutes=20)


def test_a_repeated_hour_is_offered_once_at_its_first_occurrence():
    day = date(2026, 11, 1)
    cal = calendar(weekly=(WeeklyWindow(6, time(0), time(5)),))
    starts = {s.start for s in slots_between(cal, TWENTY, day, day)}
    assert datetime(2026, 11, 1, 5, 20, tzinfo=UTC) in starts  # 01:20 EDT
    assert not any(
        datetime(2026, 11, 1, 6, tzinfo=UTC) <= s < datetime(2026, 11, 1, 7, tzinfo=UTC) for s in starts
    )


def test_a_window_ending_inside_the_skipped_hour_ends_when_the_clock_jumps():
    day = date(2026, 3, 8)
    rules = Rules(duration=timedelta(minutes=30), step=timedelta(minutes=20))
    cal = calendar(weekly=(WeeklyWindow(6, time(0), time(2, 30)),))
    slots = slots_between(cal, rules, day, day)
    # 02:30 never happens: the window ends at 03:00 EDT = 07:00 UTC. 01:20 EST ends 06:50 UTC;
    # 01:40 EST would end 07:10 UTC.
    assert walls(slots, NY) == grid("00:00", "01:40", 20)
    assert slots[-1].end == datetime(2026, 3, 8, 6, 50, tzinfo=UTC)


def test_a_window_ending_in_the_repeated_hour_ends_at_its_first_occurrence():
    day = date(2026, 11, 1)
    cal = calendar(weekly=(WeeklyWindow(6, time(0), time(1, 30)),))
    slots = slots_between(cal, TWENTY, day, day)
    assert walls(slots, NY) == grid("00:00", "01:20", 20)  # 01:20 would end 01:40 EDT
    assert slots[-1].end == datetime(2026, 11, 1, 5, 20, tzinfo=UTC)


def test_weekly_hours_keep_their_wall_clock_time_across_dst():
    slots = slots_between(calendar(), TWENTY, date(2026, 3, 2), date(2026, 3, 9))
    firsts = [day_slots[0].start for _, day_slots in group_by_local_day(slots, NY)]
    assert firsts == [datetime(2026, 3, 2, 14, tzinfo=UTC), datetime(2026, 3, 9, 13, tzinfo=UTC)]


def test_a_non_grid_step_skips_the_gap_and_keeps_its_grid():
    day = date(2026, 3, 8)
    cal = calendar(weekly=(WeeklyWindow(6, time(0), time(5)),))
    slots = slots_between(cal, BUFFERED, day, day)
    assert walls(slots, NY) == ["00:00", "00:35", "01:10", "01:45", "03:30", "04:05", "04:40"]


# --- Zones ------------------------------------------------------------------------------------


def test_patient_in_sydney_sees_los_angeles_evenings_on_the_next_date():
    weekly = (WeeklyWindow(0, time(17), time(21)), WeeklyWindow(1, time(17), time(21)))
    cal = calendar(zone=LA, weekly=weekly)
    slots = slots_between(cal, TWENTY, MONDAY, MONDAY + timedelta(days=1))
    assert len(slots) == 24

    # Monday 17:00 PST is Tuesday 01:00 UTC and Tuesday 12:00 in Sydney (AEDT, UTC+11).
    by_patient_day = group_by_local_day(reversed(slots), SYDNEY)
    assert [day for day, _ in by_patient_day] == [date(2026, 1, 6), date(2026, 1, 7)]
    for _, day_slots in by_patient_day:
        assert walls(day_slots, SYDNEY) == grid("12:00", "16:00", 20)
    assert [s for _, day_slots in by_patient_day for s in day_slots] == slots

    by_clinician_day = group_by_local_day(slots, LA)
    assert [day for day, _ in by_clinician_day] == [date(2026, 1, 5), date(2026, 1, 6)]


def test_a_half_hour_offset_zone_gets_its_utc_starts_right():
    slots = slots_between(
        calendar(zone=KOLKATA, weekly=(WeeklyWindow(0, time(9), time(10)),)), TWENTY, MONDAY, MONDAY
    )
    assert [s.start for s in slots] == [
        datetime(2026, 1, 5, 3, 30, tzinfo=UTC),
        datetime(2026, 1, 5, 3, 50, tzinfo=UTC),
        datetime(2026, 1, 5, 4, 10, tzinfo=UTC),
    ]


def test_many_clinicians_are_merged_by_start_then_clinician():
    hours = (WeeklyWindow(0, time(9), time(10)),)
    zoe = calendar(clinician_id="zoe", weekly=hours)
    adam = calendar(
        clinician_id="adam", weekly=hours, busy=(Interval(at(NY, MONDAY, 9, 20), at(NY, MONDAY, 9, 40)),)
    )
    # 08:00-09:00 in Chicago is the same UTC hour as 09:00-10:00 in New York.
    carl = calendar(clinician_id="carl", zone="America/Chicago", weekly=(WeeklyWindow(0, time(8), time(9)),))
    slots = free_slots_many(
        [zoe, carl, adam], TWENTY, now=at(NY, MONDAY, 0), start=at(NY, MONDAY, 0), end=at(NY, MONDAY, 23)
    )
    assert [(s.start.strftime("%H:%M"), s.clinician_id) for s in slots] == [
        ("14:00", "adam"),
        ("14:00", "carl"),
        ("14:00", "zoe"),
        ("14:20", "carl"),
        ("14:20", "zoe"),
        ("14:40", "adam"),
        ("14:40", "carl"),
        ("14:40", "zoe"),
    ]


def test_group_by_local_day_orders_equal_starts_by_clinician():
    start = datetime(2026, 1, 5, 14, tzinfo=UTC)
    late, early = Slot(start, start + MINUTE, "zed"), Slot(start, start + MINUTE, "amy")
    assert group_by_local_day([late, early], NY) == [(MONDAY, [early, late])]
    assert group_by_local_day([], NY) == []


# --- is_bookable ------------------------------------------------------------------------------


def test_is_bookable_agrees_with_free_slots_minute_by_minute():
    sunday, monday, tuesday = date(2026, 3, 8), date(2026, 3, 9), date(2026, 3, 10)
    cal = calendar(
        weekly=(
            WeeklyWindow(6, time(0), time(5)),
            WeeklyWindow(0, time(9), time(12)),
            WeeklyWindow(1, time(9), time(12)),
        ),
        overrides={tuesday: ((time(13), time(14, 30)),)},
        busy=(blocked_interval(at(NY, monday, 10, 10), BUFFERED),),
        holds=(blocked_interval(at(NY, sunday, 0, 35), BUFFERED),),
        time_off=(Interval(at(NY, sunday, 4, 0), at(NY, sunday, 4, 30)),),
        booked_per_day={date(2026, 3, 15): 5},
        licensed_dates=((date(2026, 1, 1), date(2026, 3, 9)), (date(2026, 3, 10), date(2026, 3, 20))),
    )
    rules = Rules(
        duration=timedelta(minutes=20),
        buffer_before=timedelta(minutes=5),
        buffer_after=timedelta(minutes=10),
        max_per_day=5,
        min_notice=timedelta(hours=2),
    )
    now = at(NY, date(2026, 3, 7), 23)
    slots = slots_between(cal, rules, date(2026, 3, 7), date(2026, 3, 16), now=now)
    starts = {s.start for s in slots}
    assert len(starts) > 10

    minute = midnight(NY, date(2026, 3, 7))
    while minute < midnight(NY, date(2026, 3, 17)):
        assert is_bookable(cal, rules, now=now, slot_start=minute) == (minute in starts), minute
        minute += MINUTE


def test_is_bookable_refuses_what_free_slots_would_not_offer():
    busy = Interval(at(NY, MONDAY, 10, 0), at(NY, MONDAY, 10, 20))
    cal = calendar(busy=(busy,))
    now = at(NY, MONDAY, 9, 30)

    def bookable(when: datetime) -> bool:
        return is_bookable(cal, TWENTY, now=now, slot_start=when)

    assert bookable(at(NY, MONDAY, 9, 40))
    assert bookable(at(NY, MONDAY, 11, 40))
    assert not bookable(at(NY, MONDAY, 9, 41))  # off the grid by a minute
    assert not bookable(at(NY, MONDAY, 9, 40) + timedelta(seconds=1))
    assert not bookable(at(NY, MONDAY, 12, 0))  # outside hours
    assert not bookable(at(NY, MONDAY, 8, 40))
    assert not bookable(at(NY, MONDAY, 9, 20))  # already past
    assert not bookable(at(NY, MONDAY, 10, 0))  # busy


def test_is_bookable_refuses_a_wall_time_that_dst_skips():
    day = date(2026, 3, 8)
    cal = calendar(weekly=(WeeklyWindow(6, time(0), time(5)),))
    now = at(NY, day, 0) - timedelta(days=1)
    skipped = datetime(2026, 3, 8, 2, 20, tzinfo=ZoneInfo(NY))  # a grid wall time that never happens

    assert not is_bookable(cal, BUFFERED, now=now, slot_start=skipped)
    assert not is_bookable(cal, BUFFERED, now=now, slot_start=skipped.replace(fold=1))
    assert is_bookable(cal, BUFFERED, now=now, slot_start=at(NY, day, 1, 45))
    assert is_bookable(cal, BUFFERED, now=now, slot_start=at(NY, day, 3, 30))


def test_is_bookable_refuses_the_second_occurrence_of_a_repeated_time():
    day = date(2026, 11, 1)
    cal = calendar(weekly=(WeeklyWindow(6, time(0), time(5)),))
    now = at(NY, day, 0) - timedelta(days=1)
    assert is_bookable(cal, TWENTY, now=now, slot_start=at(NY, day, 1, 20, fold=0))
    assert not is_bookable(cal, TWENTY, now=now, slot_start=at(NY, day, 1, 20, fold=1))


# --- Validation -------------------------------------------------------------------------------

NAIVE = datetime(2026, 1, 5, 9, 0)  # noqa: DTZ001 - the point of these tests
AWARE = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

NAIVE_CALLS: list[Callable[[], object]] = [
    lambda: Interval(NAIVE, NAIVE + MINUTE),
    lambda: Interval(AWARE, NAIVE + MINUTE),
    lambda: blocked_interval(NAIVE, TWENTY),
    lambda: free_slots(calendar(), TWENTY, now=NAIVE, start=AWARE, end=AWARE + MINUTE),
    lambda: free_slots(calendar(), TWENTY, now=AWARE, start=NAIVE, end=AWARE + MINUTE),
    lambda: free_slots(calendar(), TWENTY, now=AWARE, start=AWARE, end=NAIVE),
    lambda: free_slots_many([calendar()], TWENTY, now=NAIVE, start=AWARE, end=AWARE + MINUTE),
    lambda: is_bookable(calendar(), TWENTY, now=NAIVE, slot_start=AWARE),
    lambda: is_bookable(calendar(), TWENTY, now=AWARE, slot_start=NAIVE),
    lambda: group_by_local_day([Slot(NAIVE, NAIVE + MINUTE, "dana")], NY),
]


@pytest.mark.parametrize("call", NAIVE_CALLS)
def test_naive_datetimes_raise_value_error(call):
    with pytest.raises(ValueError, match="timezone-aware"):
        call()


@pytest.mark.parametrize(
    "make",
    [
        lambda: Interval(AWARE, AWARE),
        lambda: WeeklyWindow(0, time(12), time(9)),
        lambda: WeeklyWindow(7, time(9), time(12)),
        lambda: calendar(zone="Mars/Olympus_Mons"),
        lambda: calendar(overrides={MONDAY: ((time(15), time(14)),)}),
        lambda: calendar(licensed_dates=((date(2026, 2, 1), date(2026, 1, 1)),)),
        lambda: Rules(duration=timedelta(0)),
        lambda: Rules(duration=timedelta(minutes=20), step=timedelta(0)),
    ],
)
def test_impossible_values_are_refused(make):
    with pytest.raises(ValueError):
        make()


def test_interval_overlap_is_half_open():
    a = Interval(AWARE, AWARE + timedelta(hours=1))
    assert a.overlaps(Interval(AWARE + timedelta(minutes=59), AWARE + timedelta(hours=2)))
    assert not a.overlaps(Interval(AWARE + timedelta(hours=1), AWARE + timedelta(hours=2)))
    assert not Interval(AWARE - timedelta(hours=1), AWARE).overlaps(a)


# --- Against a plain reading of the contract --------------------------------------------------


def _window_end_utc(tz: ZoneInfo, day: date, end: time) -> datetime:
    """The earliest instant whose wall time has reached ``end``: the fold=0 instant, or for a
    wall time that DST skips, the minute the clock jumps (these zones jump on whole minutes)."""
    wall = datetime.combine(day, end)
    instant = wall.replace(tzinfo=tz).astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) == wall:
        return instant
    probe = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
    while probe.astimezone(tz).replace(tzinfo=None) < wall:
        probe += MINUTE
    return probe


def reference_starts(
    cal: Calendar, rules: Rules, now: datetime, start: datetime, end: datetime
) -> list[datetime]:
    """free_slots as the rules read, one candidate at a time, no shortcuts."""
    tz = ZoneInfo(cal.zone)
    step = rules.step or rules.duration + rules.buffer_before + rules.buffer_after
    blocking = [*cal.busy, *cal.holds, *cal.time_off]
    found = set()
    day = start.astimezone(tz).date() - timedelta(days=1)
    while day <= end.astimezone(tz).date() + timedelta(days=1):
        windows = cal.overrides.get(day, [(w.start, w.end) for w in cal.weekly if w.weekday == day.weekday()])
        licensed = any(a <= day <= b for a, b in cal.licensed_dates)
        capped = rules.max_per_day is not None and cal.booked_per_day.get(day, 0) >= rules.max_per_day
        for window_start, window_end in windows if licensed and not capped else ():
            window_end_utc = _window_end_utc(tz, day, window_end)
            wall = datetime.combine(day, window_start)
            while wall < datetime.combine(day, window_end):
                instant = wall.replace(tzinfo=tz).astimezone(UTC)
                exists = instant.astimezone(tz).replace(tzinfo=None) == wall
                fits = instant + rules.duration <= window_end_utc
                in_range = now + rules.min_notice <= instant < now + rules.horizon and start <= instant < end
                blocked = blocked_interval(instant, rules)
                if exists and fits and in_range and not any(blocked.overlaps(b) for b in blocking):
                    found.add(instant)
                wall += step
        day += timedelta(days=1)
    return sorted(found)


# Each zone with a date on which its clock changes (or, for zones without DST, any date).
CLOCK_CHANGES = [
    (NY, date(2026, 3, 8)),
    (NY, date(2026, 11, 1)),
    (LA, date(2026, 3, 8)),
    (SYDNEY, date(2026, 4, 5)),
    (SYDNEY, date(2026, 10, 4)),
    (LONDON, date(2026, 3, 29)),
    (LONDON, date(2026, 10, 25)),
    ("Australia/Lord_Howe", date(2026, 4, 5)),  # a 30-minute change
    ("Australia/Lord_Howe", date(2026, 10, 4)),
    ("America/Santiago", date(2026, 4, 5)),  # 23:00-23:59 on the 4th repeats
    ("America/Santiago", date(2026, 9, 6)),  # midnight itself is skipped
    (KOLKATA, date(2026, 1, 5)),
    ("UTC", date(2026, 1, 5)),
]


def minute_of_day() -> st.SearchStrategy[int]:
    # Half the time near the small hours, where clocks change.
    return st.one_of(st.integers(0, 5 * 60), st.integers(0, 23 * 60 + 58))


@st.composite
def wall_window(draw: st.DrawFn) -> tuple[time, time]:
    start = draw(minute_of_day())
    end = draw(st.integers(start + 1, min(start + 8 * 60, 23 * 60 + 59)))
    return time(start // 60, start % 60), time(end // 60, end % 60)


def intervals(start: datetime) -> st.SearchStrategy[list[Interval]]:
    """Intervals within four days of ``start``, up to four hours long."""
    return st.lists(
        st.builds(
            lambda offset, length: Interval(
                start + timedelta(minutes=offset), start + timedelta(minutes=offset + length)
            ),
            st.integers(-6 * 60, 4 * 24 * 60),
            st.integers(1, 240),
        ),
        max_size=12,
    )


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), change=st.sampled_from(CLOCK_CHANGES))
def test_free_slots_match_the_rules_for_random_calendars(data, change):
    zone, change_day = change
    tz = ZoneInfo(zone)
    first_day = change_day - timedelta(days=1)
    start = datetime.combine(first_day, time(0), tzinfo=tz).astimezone(UTC)
    start += timedelta(minutes=data.draw(st.integers(0, 24 * 60), label="start offset"))
    end = start + timedelta(days=4)
    # Windows are placed by date (so they land on the clock change), stored by weekday.
    weekly = data.draw(st.lists(st.tuples(st.integers(0, 3), wall_window()), min_size=1, max_size=6))
    override_days = data.draw(st.lists(st.integers(0, 3), max_size=2, unique=True))
    overrides = {
        first_day + timedelta(days=offset): tuple(data.draw(st.lists(wall_window(), max_size=2)))
        for offset in override_days
    }
    cal = Calendar(
        clinician_id="dana",
        zone=zone,
        weekly=tuple(WeeklyWindow((first_day + timedelta(days=d)).weekday(), a, b) for d, (a, b) in weekly),
        overrides=overrides,
        busy=tuple(data.draw(intervals(start))),
        holds=tuple(data.draw(intervals(start).map(lambda found: found[:3]))),
        time_off=tuple(data.draw(intervals(start).map(lambda found: found[:2]))),
        booked_per_day={
            first_day + timedelta(days=d): n for d, n in enumerate(data.draw(st.lists(st.integers(0, 2))))
        },
        licensed_dates=data.draw(
            st.sampled_from([ALWAYS, ALWAYS, ((date(2020, 1, 1), first_day + timedelta(days=2)),), ()])
        ),
    )
    minutes = st.builds(lambda m: timedelta(minutes=m), st.sampled_from([0, 5, 10, 15]))
    rules = Rules(
        duration=timedelta(minutes=data.draw(st.sampled_from([10, 15, 20, 30, 45, 60]))),
        buffer_before=data.draw(minutes),
        buffer_after=data.draw(minutes),
        min_notice=timedelta(minutes=data.draw(st.sampled_from([0, 30, 120]))),
        horizon=timedelta(days=data.draw(st.sampled_from([1, 2, 30, 30]))),
        max_per_day=data.draw(st.sampled_from([None, 2])),
        step=data.draw(
            st.sampled_from([None, timedelta(minutes=5), timedelta(minutes=20), timedelta(minutes=25)])
        ),
    )
    now = start + timedelta(minutes=data.draw(st.integers(-24 * 60, 2 * 24 * 60), label="now"))
    slots = free_slots(cal, rules, now=now, start=start, end=end)

    starts = [s.start for s in slots]
    assert starts == sorted(set(starts))  # sorted and unique
    assert starts == reference_starts(cal, rules, now, start, end)
    for slot in slots:
        assert slot.end == slot.start + rules.duration
        blocked = blocked_interval(slot.start, rules)
        assert not any(blocked.overlaps(b) for b in (*cal.busy, *cal.holds, *cal.time_off))
        local = slot.start.astimezone(tz)
        day = local.date()
        hours = cal.overrides.get(day, [(w.start, w.end) for w in cal.weekly if w.weekday == day.weekday()])
        assert any(a <= local.time() and slot.end <= _window_end_utc(tz, day, b) for a, b in hours)
        assert is_bookable(cal, rules, now=now, slot_start=slot.start)
    assert free_slots_many([cal], rules, now=now, start=start, end=end) == slots


@pytest.mark.parametrize(("zone", "change_day"), CLOCK_CHANGES)
def test_every_window_around_a_clock_change_matches_the_rules(zone, change_day):
    """Windows starting every 30 minutes of the changing date, short and long, on two grids
    (one that steps over a skipped hour onto its own times, one that does not)."""
    now = midnight(zone, change_day - timedelta(days=2))
    start, end = (
        midnight(zone, change_day - timedelta(days=1)),
        midnight(zone, change_day + timedelta(days=2)),
    )
    checked = 0
    for start_minute in range(0, 24 * 60, 30):
        for length in (50, 150):
            end_minute = min(start_minute + length, 23 * 60 + 59)
            window = WeeklyWindow(
                change_day.weekday(),
                time(start_minute // 60, start_minute % 60),
                time(end_minute // 60, end_minute % 60),
            )
            cal = calendar(zone=zone, weekly=(window,))
            for rules in (TWENTY, Rules(duration=timedelta(minutes=25))):
                slots = free_slots(cal, rules, now=now, start=start, end=end)
                assert [s.start for s in slots] == reference_starts(cal, rules, now, start, end), (
                    window,
                    rules,
                )
                checked += len(slots)
    assert checked > 500  # not vacuous
