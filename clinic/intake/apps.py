from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "clinic.intake"
    default_auto_field = "django.db.models.BigAutoField"
