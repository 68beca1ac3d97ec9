from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The project top: each role's home page, cross-domain reports, the audit viewer and the
    demo seed. It gathers every domain below it and is imported by none of them."""

    name = "clinic.portal"
    default_auto_field = "django.db.models.BigAutoField"
