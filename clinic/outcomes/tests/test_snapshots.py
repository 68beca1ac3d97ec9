"""Snapshots: computed by the worker from the cohort, stored append-only with their definitions'
versions, requested by staff through an action, never computed on a request."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import DatabaseError, transaction
from django.utils import timezone

from clinic.audit.models import Action, AuditEvent
from clinic.care import outcomes
from clinic.measures import definitions
from clinic.outcomes import actions
from clinic.outcomes.models import RegistrySnapshot, Trigger
from clinic.outcomes.tasks import NIGHTLY_AT, next_night, nightly_snapshot
from clinic.outcomes.tests.factories import AS_OF, cohort
from clinic.taskqueue import recurring_tasks

pytestmark = pytest.mark.django_db


def test_a_snapshot_keeps_the_aggregates_their_versions_and_when(staff):
    snapshot = actions.do_compute_snapshot(trigger=Trigger.REQUESTED, requested_by=staff, courses=cohort(12))
    assert snapshot.cohort_size == 12
    assert snapshot.versions == {
        "registry": outcomes.DEFINITIONS_VERSION,
        "measures": definitions.CURRENT.version,
    }
    assert snapshot.as_of_month == timezone.now().strftime("%Y-%m")
    assert snapshot.data["overall"]["cohort"]["patients"] == 12
    assert snapshot.seconds >= 0
    row = AuditEvent.objects.get(action=Action.REGISTRY_COMPUTED)
    assert row.actor == staff and row.subject_id == str(snapshot.public_id) and row.reason == "requested"


def test_snapshots_are_append_only():
    snapshot = actions.do_compute_snapshot(trigger=Trigger.NIGHTLY, courses=cohort(3))
    refused = DatabaseError  # a trigger's refusal: OperationalError on SQLite, ProgrammingError on PostgreSQL
    with pytest.raises(refused), transaction.atomic():
        RegistrySnapshot.objects.filter(pk=snapshot.pk).update(cohort_size=99)
    with pytest.raises(refused), transaction.atomic():
        RegistrySnapshot.objects.filter(pk=snapshot.pk).delete()
    # A new computation is a new row; the old one is still there, as it was.
    later = actions.do_compute_snapshot(trigger=Trigger.NIGHTLY, courses=cohort(15))
    assert RegistrySnapshot.objects.latest_first().first() == later
    assert RegistrySnapshot.objects.get(pk=snapshot.pk).cohort_size == 3


def test_staff_request_queues_the_computation_after_commit(staff, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        actions.do_request_snapshot(actor=staff)
    # The immediate backend of the tests ran the task; the worker does in production.
    snapshot = RegistrySnapshot.objects.get()
    assert snapshot.trigger == Trigger.REQUESTED and snapshot.requested_by == staff
    assert AuditEvent.objects.filter(action=Action.REGISTRY_REQUESTED, actor=staff).count() == 1


def test_the_nightly_snapshot_is_a_recurring_task_started_with_the_worker(settings):
    assert (nightly_snapshot, "nightly outcomes registry") in recurring_tasks()
    nightly_snapshot.enqueue()
    assert RegistrySnapshot.objects.get().trigger == Trigger.NIGHTLY
    out = StringIO()
    settings.TASKS_BACKEND = "immediate"
    call_command("start_reminders", stdout=out)
    assert "Nightly outcomes registry queued." in out.getvalue()


def test_next_night_is_the_next_quiet_hour():
    at = dt.datetime.combine(dt.date(2026, 11, 15), NIGHTLY_AT, tzinfo=dt.UTC)
    assert next_night(at - dt.timedelta(minutes=1)) == at
    assert next_night(at) == at + dt.timedelta(days=1)


def test_a_stratum_withheld_as_a_last_resort_still_computes():
    """A cohort where suppression withholds a stratum of 11 or more patients as a last resort: its
    hidden counts read "suppressed" (11 or more), which the disclosure audit must grant."""
    from clinic.outcomes.tests.test_no_phi import seeded_courses

    data = outcomes.compute_registry(seeded_courses(60), as_of=AS_OF)
    withheld = [b for b in (*data["by_route"].values(), *data["by_age_band"].values()) if b["withheld"]]
    assert withheld and any(b["cohort"]["patients"] == outcomes.SUPPRESSED for b in withheld)
