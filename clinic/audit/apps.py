from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "clinic.audit"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from clinic.audit import receivers  # noqa: F401  (connects the sign-in receivers)
