from django.apps import AppConfig


class CareConfig(AppConfig):
    """The treatment course: protocols, plans with their prescribing record, monitored sessions."""

    name = "clinic.care"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from clinic.care import receivers  # noqa: F401  (connects the signal receivers)
