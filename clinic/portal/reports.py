"""The staff's weekly funnel: booking started → intake done → booked → attended → decision.

Counts only: no person is named, so staff may see it."""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from clinic import dates
from clinic.accounts.decorators import person, role_required
from clinic.accounts.models import Role
from clinic.audit.models import Action, AuditEvent
from clinic.scheduling.models import Booking
from clinic.visits.models import ConsultNote


@dataclass(frozen=True)
class Stage:
    name: str
    count: int
    rate: float | None  # of the stage before; None for the first


def week_bounds(monday: dt.date, zone: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(monday, dt.time.min, tzinfo=zone)
    return start, dt.datetime.combine(monday + dt.timedelta(days=7), dt.time.min, tzinfo=zone)


def funnel(start: dt.datetime, end: dt.datetime) -> list[Stage]:
    def events(action: Action, **extra: object) -> int:
        return AuditEvent.objects.filter(action=action, at__gte=start, at__lt=end, **extra).count()

    # Attended: both the patient and the clinician joined the call of a consultation that week.
    attended = (
        Booking.objects.filter(start__gte=start, start__lt=end, appointment_type__kind="consultation")
        .annotate(
            patients=Count("visit__attendance", filter=Q(visit__attendance__role="patient")),
            clinicians=Count("visit__attendance", filter=Q(visit__attendance__role="clinician")),
        )
        .filter(patients__gt=0, clinicians__gt=0)
        .count()
    )
    counts = [
        ("Booking started", events(Action.BOOKING_STARTED)),
        ("Intake done", events(Action.INTAKE_SUBMITTED)),
        ("Booked", events(Action.BOOKING_CREATED) - events(Action.BOOKING_CREATED, reason="follow-up")),
        ("Attended", attended),
        (
            "Decision recorded",
            ConsultNote.objects.filter(
                signed_at__isnull=False, booking__start__gte=start, booking__start__lt=end,
                booking__appointment_type__kind="consultation",
            ).count(),
        ),
    ]  # fmt: skip
    stages = []
    previous: int | None = None
    for name, count in counts:
        rate = None if previous is None else (count / previous if previous else 0.0)
        stages.append(Stage(name, count, rate))
        previous = count
    return stages


@role_required(Role.STAFF)
@require_safe
def funnel_report(request: HttpRequest) -> HttpResponse:
    zone = ZoneInfo(person(request).time_zone)
    today = timezone.now().astimezone(zone).date()
    chosen = dates.query_date(request.GET, "week") or today
    monday = chosen - dt.timedelta(days=chosen.weekday())
    start, end = week_bounds(monday, zone)
    stages = funnel(start, end)
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="funnel-{monday.isoformat()}.csv"'
        writer = csv.writer(response)
        writer.writerow(["week_starting", "stage", "count", "rate_of_previous"])
        for stage in stages:
            writer.writerow(
                [
                    monday.isoformat(),
                    stage.name,
                    stage.count,
                    "" if stage.rate is None else f"{stage.rate:.3f}",
                ]
            )
        return response
    return render(
        request,
        "portal/funnel.html",
        {
            "stages": stages,
            "monday": monday,
            "sunday": monday + dt.timedelta(days=6),
            "prev": monday - dt.timedelta(days=7),
            "next": monday + dt.timedelta(days=7),
            "zone": zone.key,
        },
    )
