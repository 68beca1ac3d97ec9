"""The plan of a course's check-ins, and its local dates across zones and clock changes."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from clinic.measures.schedule import MONTHLY, MOOD, SIDE_EFFECTS, close_moment, plan, send_moment

START = dt.date(2026, 1, 5)  # a Monday
SESSIONS = [START, START + dt.timedelta(days=3), START + dt.timedelta(days=7), START + dt.timedelta(days=10)]
LAST = START + dt.timedelta(days=28)


def by_day(rows):
    return {row.due_on: row for row in rows}


def test_weekly_from_the_start_to_the_last_session_then_twelve_monthly():
    rows = plan(induction_start=START, sessions=[*SESSIONS, LAST], last_session=LAST)
    weekly = [r.due_on for r in rows if "weekly" in r.purposes]
    assert weekly == [START + dt.timedelta(weeks=n) for n in range(5)]
    durability = [r.due_on for r in rows if "durability" in r.purposes]
    assert len(durability) == 12
    assert durability[0] == dt.date(2026, 3, 2) and durability[-1] == dt.date(2027, 2, 2)
    for row in rows:
        if "weekly" in row.purposes or "durability" in row.purposes:
            assert set(MOOD) <= set(row.instruments)


def test_a_side_effect_check_in_the_day_after_each_session():
    rows = by_day(plan(induction_start=START, sessions=SESSIONS, last_session=None))
    for session in SESSIONS:
        assert "after_session" in rows[session + dt.timedelta(days=1)].purposes
        assert set(SIDE_EFFECTS) <= set(rows[session + dt.timedelta(days=1)].instruments)


def test_monthly_substance_and_bladder_until_the_end_of_follow_up_merged_into_one_form_per_day():
    rows = plan(induction_start=START, sessions=[*SESSIONS, LAST], last_session=LAST)
    monthly = [r for r in rows if "monthly" in r.purposes]
    assert monthly[0].due_on == START
    assert set(MONTHLY) <= set(monthly[0].instruments)
    # The first day asks the weekly questions and the monthly ones on one form.
    assert monthly[0].purposes == ("weekly", "monthly")
    assert monthly[-1].due_on <= dt.date(2027, 2, 2)
    assert len({r.due_on for r in rows}) == len(rows)


def test_month_ends_are_clamped_without_drifting():
    rows = plan(induction_start=dt.date(2026, 1, 31), sessions=[], last_session=dt.date(2026, 1, 31))
    durability = [r.due_on for r in rows if "durability" in r.purposes]
    assert durability[:3] == [dt.date(2026, 2, 28), dt.date(2026, 3, 31), dt.date(2026, 4, 30)]


@pytest.mark.parametrize(
    ("zone", "day", "utc_hour"),
    [
        ("America/New_York", dt.date(2026, 3, 7), 14),  # EST, the day before the change
        ("America/New_York", dt.date(2026, 3, 8), 13),  # the change day: 09:00 EDT
        ("America/New_York", dt.date(2026, 11, 1), 14),  # back to EST that morning
        ("Europe/London", dt.date(2026, 3, 29), 8),
        (
            "Pacific/Auckland",
            dt.date(2026, 4, 5),
            21,
        ),  # NZDT ends that night: 09:00 NZST = 21:00 UTC the day before
        ("Asia/Kolkata", dt.date(2026, 3, 8), 3),
    ],
)
def test_send_moment_is_nine_local_on_the_due_date_across_clock_changes(zone, day, utc_hour):
    moment = send_moment(day, zone)
    assert moment.tzinfo == dt.UTC
    assert moment.hour == utc_hour
    assert moment.astimezone(zoneinfo.ZoneInfo(zone)).date() == day


def test_a_weekly_check_in_closes_at_local_midnight_six_days_later_across_a_change():
    closes = close_moment(dt.date(2026, 3, 5), MOOD, "America/New_York")
    # Open through Wednesday March 11 local; midnight starting March 12 is 04:00 UTC (EDT).
    assert closes == dt.datetime(2026, 3, 12, 4, 0, tzinfo=dt.UTC)


def test_an_open_ended_course_is_planned_weekly_up_to_the_horizon():
    rows = plan(
        induction_start=START, sessions=[START], last_session=None, horizon=START + dt.timedelta(weeks=3)
    )
    weekly = [r.due_on for r in rows if "weekly" in r.purposes]
    assert weekly == [START + dt.timedelta(weeks=n) for n in range(4)]
    assert not [r for r in rows if "durability" in r.purposes]
