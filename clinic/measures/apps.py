from django.apps import AppConfig


class MeasuresConfig(AppConfig):
    """Repeated measures: check-ins due on dates in the patient's zone, their answers scored and
    triaged, worsening and relapse watch."""

    name = "clinic.measures"
    default_auto_field = "django.db.models.BigAutoField"
