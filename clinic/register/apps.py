from django.apps import AppConfig


class RegisterConfig(AppConfig):
    """The controlled-substance register: receipts, administrations, waste, transfers, counts; append-only."""

    name = "clinic.register"
    default_auto_field = "django.db.models.BigAutoField"
