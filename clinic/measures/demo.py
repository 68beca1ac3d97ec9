"""Demo measures: a few months of check-ins for one patient mid-course, so the charts show a real
course (a response, then a relapse-watch item waiting on the dashboard). Demo data only; the
seeding writes its rows directly, as the rest of ``seed_demo`` does."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo

from django.db import transaction
from django.utils import timezone

from clinic.accounts.models import User
from clinic.intake import scoring
from clinic.measures import actions, definitions, instruments
from clinic.measures import schedule as plan_rules
from clinic.measures.models import AttentionItem, CheckIn, CheckInStatus, Origin, Reason, Schedule

# (PHQ-9, GAD-7, PHQ-9 item 9) one week apart, the first on the day of the first session (the
# baseline); None: missed. A response by week 4, then a rise back to relapse watch.
WEEKS: tuple[tuple[int, int, int] | None, ...] = (
    (19, 15, 1), (16, 13, 1), (13, 12, 0), (10, 10, 0), (8, 8, 0), (6, 7, 0), (5, 6, 0),
    None, (7, 7, 0), (9, 8, 0), (12, 10, 0),
)  # fmt: skip


def _spread(total: int, count: int, last: int = 0) -> dict[int, str]:
    """Item scores (1-based) adding up to ``total``; the last item gets ``last`` first."""
    values = {count: last}
    left = total - last
    for n in range(1, count):
        values[n] = min(3, left)
        left -= values[n]
    assert left == 0, total
    return {n: str(v) for n, v in values.items()}


def give_measures(
    patient: User,
    *,
    clinician: User | None = None,
    course_ref: uuid.UUID | None = None,
    sessions: list[dt.date] | None = None,
    zone: str | None = None,
    weeks: tuple[tuple[int, int, int] | None, ...] = WEEKS,
) -> Schedule:
    """The patient's weekly check-ins (``weeks``), the last a week ago, today's left open (a second
    run finds each week's check-in and changes nothing; standalone, the course is named after the
    patient). ``sessions``: the course's
    session dates (care's demo passes its own); by default twice a week for four weeks, then
    every two weeks."""
    zone = zone or patient.time_zone
    course_ref = course_ref or uuid.uuid5(uuid.NAMESPACE_URL, f"mendwell-demo-course:{patient.public_id}")
    existing = Schedule.objects.filter(course_ref=course_ref).first()
    today = timezone.now().astimezone(zoneinfo.ZoneInfo(zone)).date()
    start = today - dt.timedelta(weeks=len(weeks))
    if sessions is None:
        sessions = [start + dt.timedelta(days=d) for d in (0, 3, 7, 10, 14, 17, 21, 24)]
        sessions += [start + dt.timedelta(weeks=w) for w in (5, 7, 9)]
        sessions = [d for d in sessions if d <= today]
    with transaction.atomic():
        # A course care has already scheduled (its plan became active) gets its past weeks filled.
        schedule = existing or actions.do_schedule_course(
            patient=patient,
            course_ref=course_ref,
            induction_start=start,
            sessions=sessions,
            last_session=None,
            zone=zone,
            clinician=clinician,
        )
        last: CheckIn | None = None
        for week, scores in enumerate(weeks):
            day = start + dt.timedelta(weeks=week)
            keys = list(plan_rules.MOOD)
            moment = plan_rules.send_moment(day, zone)
            found = CheckIn.objects.filter(schedule=schedule, due_on=day, origin=Origin.PLAN).first()
            checkin = found or CheckIn(
                schedule=schedule,
                patient=patient,
                origin=Origin.PLAN,
                purposes=["weekly"],
                instruments=keys,
                due_on=day,
                send_after=moment,
                closes_at=plan_rules.close_moment(day, keys, zone),
                sent_at=moment,
                last_emailed_at=moment,
                created_at=moment,
            )
            checkin.sent_at = checkin.last_emailed_at = moment
            if scores is None:
                checkin.status = CheckInStatus.MISSED
                checkin.save()
                continue
            phq, gad, item9 = scores
            answers = {f"phq9_{n}": v for n, v in _spread(phq, 9, item9).items()}
            answers |= {f"gad7_{n}": v for n, v in _spread(gad, 7).items()}
            answers |= {f"asq{n}": "no" for n in range(1, 5)}
            result = scoring.score_phq9(answers)
            checkin.set_answers(answers)
            checkin.versions = {key: instruments.current(key).version for key in keys}
            checkin.definitions_version = definitions.CURRENT.version
            checkin.phq9_total, checkin.phq9_item9 = result.total, result.item9
            checkin.gad7_total = scoring.score_gad7(answers).total
            checkin.asq_result = str(scoring.AsqOutcome.NEGATIVE)
            checkin.triage = str(scoring.Triage.SAFETY_FIRST if item9 else scoring.Triage.ROUTINE)
            checkin.status = CheckInStatus.ANSWERED
            checkin.answered_at = moment + dt.timedelta(hours=3)
            checkin.save()
            last = checkin
        if last is not None:
            point = actions.evaluate(schedule).latest
            now = timezone.now()
            for flag, reason in ((point and point.relapse_watch, Reason.RELAPSE_WATCH),):
                if flag:
                    AttentionItem.objects.get_or_create(
                        checkin=last,
                        reason=reason,
                        defaults={
                            "patient": patient,
                            "schedule": schedule,
                            "definitions_version": definitions.CURRENT.version,
                            "created_at": now,
                        },
                    )
    return schedule
