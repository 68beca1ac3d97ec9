"""The check-in sweep: sends due check-ins, reminds, marks missed ones; queued again each run."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django_tasks import task

from clinic.measures.actions import sweep_checkins
from clinic.taskqueue import recurring

SWEEP_EVERY = dt.timedelta(minutes=1)


@recurring("check-in sweep")
@task()
def checkin_sweep() -> dict[str, int]:
    """Sweep, then queue the next sweep: the worker keeps it going by itself."""
    counts = sweep_checkins()
    if checkin_sweep.get_backend().supports_defer:  # the immediate backend (tests) cannot wait
        checkin_sweep.using(run_after=timezone.now() + SWEEP_EVERY).enqueue()
    return counts
