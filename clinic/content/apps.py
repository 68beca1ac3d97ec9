from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class ContentConfig(AppConfig):
    name = "clinic.content"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from clinic.content import crisis
        from clinic.content.models import CrisisLine

        post_save.connect(crisis.forget, sender=CrisisLine, dispatch_uid="crisis-lines-forget")
        post_delete.connect(crisis.forget, sender=CrisisLine, dispatch_uid="crisis-lines-forget-deleted")
