"""Registry snapshots: computed by the worker (nightly, or when staff ask), never on a request."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from django.db import transaction
from django.utils import timezone

from clinic.accounts.models import User
from clinic.audit.actions import Via, audit_record
from clinic.audit.models import Action
from clinic.care import outcomes
from clinic.measures import definitions
from clinic.outcomes.extract import collect_courses
from clinic.outcomes.models import RegistrySnapshot, Trigger
from clinic.outcomes.tasks import compute_snapshot


def versions() -> dict[str, str]:
    """Every definition a snapshot's figures depend on."""
    return {"registry": outcomes.DEFINITIONS_VERSION, "measures": definitions.CURRENT.version}


def do_compute_snapshot(
    *,
    trigger: Trigger,
    requested_by: User | None = None,
    courses: Sequence[outcomes.Course] | None = None,
    collect: Callable[..., list[outcomes.Course]] = collect_courses,
) -> RegistrySnapshot:
    """Read the cohort, compute the registry at today's date and store it as a new snapshot.

    ``courses`` replaces the read (tests and the benchmark's pure half)."""
    started = time.perf_counter()
    now = timezone.now()
    as_of = now.date()
    cohort = list(courses) if courses is not None else collect(as_of)
    data = outcomes.compute_registry(cohort, as_of=as_of)
    with transaction.atomic():
        snapshot = RegistrySnapshot.objects.create(
            computed_at=now,
            as_of_month=data["as_of_month"],
            versions=versions(),
            cohort_size=len(cohort),
            data=data,
            trigger=trigger,
            requested_by=requested_by,
            seconds=round(time.perf_counter() - started, 3),
        )
        audit_record(
            action=Action.REGISTRY_COMPUTED,
            actor=requested_by,
            actor_label="" if requested_by else "worker",
            subject=snapshot,
            reason=str(trigger),
        )
    return snapshot


def do_request_snapshot(*, actor: User, via: Via | None = None) -> None:
    """Staff ask for a fresh snapshot: the worker computes it (queued once this commits)."""
    with transaction.atomic():
        audit_record(
            action=Action.REGISTRY_REQUESTED, actor=actor, via=via, subject_type="outcomes.registrysnapshot"
        )
        transaction.on_commit(lambda: compute_snapshot.enqueue(requested_by=str(actor.public_id)))
