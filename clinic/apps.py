from django.apps import AppConfig


class ClinicConfig(AppConfig):
    """The project package is an app too, for project-wide management commands and templates.

    It is the top of the layers, so it is where lower apps are joined: booking becomes the
    intake questionnaire's journey here (``clinic.intake.journey``), the treatment course's
    sessions add their observation line to the staff day view (``clinic.scheduling.day_notes``)
    and their supervision pane to the live visit (``clinic.visits.session_pane``).
    """

    name = "clinic"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from clinic.care.supervision import SessionSupervision
        from clinic.care.today import SessionDayNotes
        from clinic.intake import journey
        from clinic.scheduling import day_notes
        from clinic.scheduling.journey import BookingJourney
        from clinic.visits import session_pane

        journey.install(BookingJourney())
        day_notes.install(SessionDayNotes())
        session_pane.install(SessionSupervision())
