import datetime as dt

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_tasks import task

from clinic.mail import queue_email
from clinic.scheduling import availability
from clinic.scheduling.jurisdictions import jurisdiction_name
from clinic.scheduling.models import AppointmentKind, AppointmentType, WaitlistEntry


@task()
def notify_waitlist(*, jurisdiction: str) -> int:
    """Email everyone waiting for ``jurisdiction`` once free slots exist there. Each person is
    told once; the first to book gets the time."""
    waiting = WaitlistEntry.objects.filter(jurisdiction=jurisdiction, notified_at__isnull=True)
    if not waiting.exists():
        return 0
    appointment_type = AppointmentType.objects.get(kind=AppointmentKind.CONSULTATION)
    now = timezone.now()
    found, _ = availability.free_slots(
        jurisdiction=jurisdiction,
        appointment_type=appointment_type,
        start=now,
        end=now + dt.timedelta(days=appointment_type.horizon_days),
    )
    if not found:
        return 0
    sent = 0
    book_url = f"{settings.SITE_URL}{reverse('scheduling:book')}"
    with transaction.atomic():
        for entry in waiting.select_for_update():
            entry.notified_at = now
            entry.save(update_fields=["notified_at"])
            queue_email(
                to=entry.email,
                template="scheduling/email/waitlist",
                context={
                    "place": jurisdiction_name(jurisdiction),
                    "book_url": f"{book_url}?jurisdiction={jurisdiction}",
                },
            )
            sent += 1
    return sent
