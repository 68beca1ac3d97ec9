"""Queue the worker's recurring tasks unless they are already waiting: the reminder sweep, the
urgent-item escalation (both every minute), the pruning of finished task rows
(``clinic.taskqueue``), and those that apps above scheduling register with
``taskqueue.recurring`` (the check-in sweep). `make run` calls this before it starts the worker;
each task then re-queues itself."""

from django.conf import settings
from django.core.management.base import BaseCommand
from django_tasks_db.models import DBTaskResult

from clinic.intake.tasks import urgent_sweep
from clinic.scheduling.tasks import reminder_sweep
from clinic.taskqueue import prune_tasks, recurring_tasks

RECURRING = (
    (reminder_sweep, "reminder sweep"),
    (urgent_sweep, "urgent-item escalation"),
    (prune_tasks, "task pruning"),
)


class Command(BaseCommand):
    help = "Start the reminder sweep, the urgent-item escalation and the task pruning (idempotent)."

    def handle(self, *args: object, **options: object) -> None:
        for recurring, name in (*RECURRING, *recurring_tasks()):
            if settings.TASKS_BACKEND == "database":
                waiting = DBTaskResult.objects.filter(
                    task_path=recurring.module_path, status__in=["READY", "RUNNING"]
                ).exists()
                if waiting:
                    self.stdout.write(f"The {name} is already queued.")
                    continue
            recurring.enqueue()
            self.stdout.write(f"{name.capitalize()} queued.")
