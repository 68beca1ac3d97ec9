"""The urgent-item escalation: an acute item nobody has acknowledged in time reaches everyone."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_tasks import task

from clinic.accounts.models import Role, User
from clinic.audit.actions import audit_record
from clinic.audit.models import Action
from clinic.intake.models import ESCALATED_KINDS, UrgentItem
from clinic.mail import queue_email

SWEEP_EVERY = dt.timedelta(minutes=1)


def escalate_urgent(now: dt.datetime | None = None) -> int:
    """Escalate every acute item older than ``URGENT_ESCALATE_AFTER`` and still unacknowledged:
    every active clinician and staff member is emailed (nothing clinical in it) and the staff home
    shows it in red. Exactly once per item: the claim is a conditional UPDATE of
    ``escalated_at`` in the same transaction that queues the emails, so two workers, or a sweep
    re-run after a crash, cannot both escalate it."""
    now = now or timezone.now()
    due = UrgentItem.objects.filter(
        kind__in=ESCALATED_KINDS,
        acknowledged_at__isnull=True,
        escalated_at__isnull=True,
        created_at__lte=now - settings.URGENT_ESCALATE_AFTER,
    ).values_list("pk", flat=True)
    escalated = 0
    for pk in list(due):
        with transaction.atomic():
            claimed = UrgentItem.objects.filter(pk=pk, escalated_at__isnull=True).update(escalated_at=now)
            if not claimed:
                continue  # another worker took it
            item = UrgentItem.objects.select_related("patient").get(pk=pk)
            audit_record(action=Action.URGENT_ESCALATED, subject=item, patient=item.patient, reason=item.kind)
            everyone = User.objects.filter(Q(role=Role.CLINICIAN) | Q(role=Role.STAFF), is_active=True)
            for person in everyone:
                queue_email("intake/email/escalated", refs={"user": str(person.public_id)})
        escalated += 1
    return escalated


@task()
def urgent_sweep() -> int:
    """Escalate what is due, then queue the next sweep: the worker keeps it going by itself."""
    escalated = escalate_urgent()
    if urgent_sweep.get_backend().supports_defer:  # the immediate backend (tests) cannot wait
        urgent_sweep.using(run_after=timezone.now() + SWEEP_EVERY).enqueue()
    return escalated
