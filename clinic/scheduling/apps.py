from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class SchedulingConfig(AppConfig):
    name = "clinic.scheduling"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from clinic.accounts.models import Licence, User
        from clinic.scheduling import kept_pages
        from clinic.scheduling.models import AppointmentType, Hold

        # A kept slot page shows holds, licences, the appointment type and clinicians' names and
        # zones: any of them saved or deleted, by any path (the admin too), ends every kept page.
        for model in (Hold, Licence, AppointmentType):
            name = model.__name__
            post_save.connect(kept_pages.changed, sender=model, dispatch_uid=f"kept-pages-{name}")
            post_delete.connect(kept_pages.changed, sender=model, dispatch_uid=f"kept-pages-del-{name}")
        post_save.connect(kept_pages.person_saved, sender=User, dispatch_uid="kept-pages-User")
        post_delete.connect(kept_pages.changed, sender=User, dispatch_uid="kept-pages-del-User")
