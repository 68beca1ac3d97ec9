"""Queue the reminder sweep unless one is already waiting. `make run` calls this before it
starts the worker; the sweep then re-queues itself every minute."""

from django.conf import settings
from django.core.management.base import BaseCommand

from clinic.scheduling.tasks import reminder_sweep


class Command(BaseCommand):
    help = "Start the reminder sweep (idempotent)."

    def handle(self, *args: object, **options: object) -> None:
        if settings.TASKS_BACKEND == "database":
            from django_tasks_db.models import DBTaskResult

            waiting = DBTaskResult.objects.filter(
                task_path=reminder_sweep.module_path, status__in=["READY", "RUNNING"]
            ).exists()
            if waiting:
                self.stdout.write("The reminder sweep is already queued.")
                return
        reminder_sweep.enqueue()
        self.stdout.write("Reminder sweep queued.")
