"""The session record's pages (included by ``clinic.care.urls``)."""

from django.urls import path

from clinic.care import session_views as views
from clinic.care import supervision

urlpatterns = [
    path("care/sessions/<uuid:session_id>/", views.session_page, name="session"),
    path("care/sessions/<uuid:session_id>/status/", views.session_status, name="session_status"),
    path("care/sessions/<uuid:session_id>/vitals/", views.record_vitals, name="session_vitals"),
    path(
        "care/sessions/<uuid:session_id>/observation/", views.record_observation, name="session_observation"
    ),
    path("care/sessions/<uuid:session_id>/dose/", views.record_dose, name="session_dose"),
    path(
        "care/sessions/<uuid:session_id>/adverse-event/",
        views.record_adverse_event,
        name="session_adverse_event",
    ),
    path(
        "care/sessions/<uuid:session_id>/no-adverse-events/",
        views.no_adverse_events,
        name="session_no_adverse_events",
    ),
    path("care/sessions/<uuid:session_id>/discharge/", views.discharge, name="session_discharge"),
    path("care/sessions/<uuid:session_id>/sign/", views.sign, name="session_sign"),
    path("care/sessions/<uuid:session_id>/addendum/", views.addendum, name="session_addendum"),
    path("care/sessions/<uuid:session_id>/rems/", views.rems_form, name="rems_form"),
    path("care/sessions/<uuid:session_id>/rems/submitted/", views.rems_submitted, name="rems_submitted"),
    path("staff/rems-forms/", views.rems_due, name="rems_due"),
    # At home, supervised over video: the panes beside the call.
    path(
        "care/sessions/<uuid:session_id>/supervision/",
        supervision.supervision_pane,
        name="supervision_pane",
    ),
    path(
        "care/sessions/<uuid:session_id>/supervisor/",
        supervision.confirm_supervisor,
        name="confirm_supervisor",
    ),
    path("me/sessions/<uuid:session_id>/reading/", supervision.home_reading, name="home_reading"),
]
