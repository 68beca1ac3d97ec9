"""The database task queue in tests: queue for real, then run `manage.py db_worker` in-process."""

from django.core.management import call_command


def use_database_queue(settings, monkeypatch) -> None:
    """Tasks go to the database queue, as in the embedded run, instead of running at once."""
    # In-process, the worker's housekeeping would close the connection that holds the test's
    # transaction (PostgreSQL); the worker itself runs unchanged.
    monkeypatch.setattr("django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None)
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def run_worker() -> None:
    """Run every ready task, as `manage.py db_worker --batch` does."""
    with open("/dev/null", "w") as quiet:
        call_command("db_worker", batch=True, interval=0, no_startup_delay=True, stdout=quiet, stderr=quiet)
