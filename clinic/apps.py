from django.apps import AppConfig


class ClinicConfig(AppConfig):
    """The project package is an app too, for project-wide management commands and templates."""

    name = "clinic"
    default_auto_field = "django.db.models.BigAutoField"
