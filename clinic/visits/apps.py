from django.apps import AppConfig


class VisitsConfig(AppConfig):
    name = "clinic.visits"
    default_auto_field = "django.db.models.BigAutoField"
