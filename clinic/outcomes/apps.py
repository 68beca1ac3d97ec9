from django.apps import AppConfig


class OutcomesConfig(AppConfig):
    """The de-identified outcomes registry (snapshots, report, public page) and FHIR export."""

    name = "clinic.outcomes"
    default_auto_field = "django.db.models.BigAutoField"
