"""Finished task rows do not pile up: the worker prunes them itself, on a schedule.

Task arguments are identifiers and sealed secrets only (``clinic.mail``), so an old row says
little; still, nobody needs a sent email's row after an hour, and a failed one is kept a week
for whoever looks into it. The same on both queues:

- database queue (``django_tasks_db``): finished rows are deleted;
- RQ: finished jobs already expire after RQ's result TTL (500 s by default); failed jobs would
  stay a year, so their job data is deleted here too.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.module_loading import autodiscover_modules
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, TaskResultStatus, task, task_backends

from clinic.cache import delete_expired

KEEP_FINISHED = dt.timedelta(hours=1)
KEEP_FAILED = dt.timedelta(days=7)
PRUNE_EVERY = dt.timedelta(minutes=10)


def prune(now: dt.datetime | None = None) -> int:
    """Delete finished task results older than ``KEEP_FINISHED`` (failed: ``KEEP_FAILED``) from
    whichever queue the clinic runs on; how many went."""
    now = now or timezone.now()
    backend = type(task_backends[DEFAULT_TASK_BACKEND_ALIAS]).__module__
    if backend.startswith("django_tasks_db"):
        return _prune_database(now)
    if backend.startswith("django_tasks_rq"):
        return _prune_rq(now)
    return 0  # the immediate backend keeps nothing


def _prune_database(now: dt.datetime) -> int:
    from django_tasks_db.models import DBTaskResult

    done, _ = DBTaskResult.objects.filter(
        status=TaskResultStatus.SUCCESSFUL, finished_at__lt=now - KEEP_FINISHED
    ).delete()
    failed, _ = DBTaskResult.objects.filter(
        status=TaskResultStatus.FAILED, finished_at__lt=now - KEEP_FAILED
    ).delete()
    return done + failed


def _prune_rq(now: dt.datetime) -> int:
    import django_rq
    from rq.job import Job
    from rq.registry import FailedJobRegistry, FinishedJobRegistry

    count = 0
    for name in django_rq.settings.QUEUES:
        queue = django_rq.get_queue(name)
        for registry, keep in ((FinishedJobRegistry, KEEP_FINISHED), (FailedJobRegistry, KEEP_FAILED)):
            jobs = registry(queue=queue)
            for job in Job.fetch_many(jobs.get_job_ids(), connection=queue.connection):
                if job is None:
                    continue
                if job.ended_at is None or job.ended_at < now - keep:
                    jobs.remove(job, delete_job=True)
                    count += 1
    return count


@task()
def prune_tasks() -> int:
    """Prune, and delete the cache's expired rows, then queue the next prune: the worker keeps
    the queue and the cache small by itself."""
    pruned = prune()
    delete_expired()
    if prune_tasks.get_backend().supports_defer:  # the immediate backend (tests) cannot wait
        prune_tasks.using(run_after=timezone.now() + PRUNE_EVERY).enqueue()
    return pruned


# Recurring tasks of apps that ``start_reminders`` (in scheduling) cannot import, being above it:
# each registers itself in its ``tasks.py``, found by module discovery, not by an import.
_RECURRING: list[tuple[Any, str]] = []


def recurring(name: str) -> Any:
    """Register a self-requeueing task for ``start_reminders`` to start. Lives in ``<app>/tasks.py``."""

    def register(recurring_task: Any) -> Any:
        _RECURRING.append((recurring_task, name))
        return recurring_task

    return register


def recurring_tasks() -> list[tuple[Any, str]]:
    autodiscover_modules("tasks")
    return list(_RECURRING)
