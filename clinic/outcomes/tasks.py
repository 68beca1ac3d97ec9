"""The worker's registry tasks: the nightly snapshot (it queues the next night's itself) and the
snapshot staff ask for."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django_tasks import task

from clinic.accounts.models import User
from clinic.outcomes.models import Trigger
from clinic.taskqueue import recurring

# Quiet hours in UTC for the clinic's American time zones; the figures are to the month anyway.
NIGHTLY_AT = dt.time(7, 30)


def next_night(now: dt.datetime) -> dt.datetime:
    """The next ``NIGHTLY_AT`` (UTC) strictly after ``now``."""
    at = dt.datetime.combine(now.astimezone(dt.UTC).date(), NIGHTLY_AT, tzinfo=dt.UTC)
    return at if at > now else at + dt.timedelta(days=1)


@task()
def compute_snapshot(*, requested_by: str | None = None) -> str:
    """One snapshot now; its public id."""
    # Imported here: actions imports this module for its task (same app, no layer crossed).
    from clinic.outcomes.actions import do_compute_snapshot

    user = User.objects.filter(public_id=requested_by).first() if requested_by else None
    trigger = Trigger.REQUESTED if user else Trigger.NIGHTLY
    return str(do_compute_snapshot(trigger=trigger, requested_by=user).public_id)


@recurring("nightly outcomes registry")
@task()
def nightly_snapshot() -> str:
    """Compute tonight's snapshot, then queue tomorrow night's."""
    # Imported here: actions imports this module for its task (same app, no layer crossed).
    from clinic.outcomes.actions import do_compute_snapshot

    snapshot = do_compute_snapshot(trigger=Trigger.NIGHTLY)
    if nightly_snapshot.get_backend().supports_defer:  # the immediate backend (tests) cannot wait
        nightly_snapshot.using(run_after=next_night(timezone.now())).enqueue()
    return str(snapshot.public_id)
