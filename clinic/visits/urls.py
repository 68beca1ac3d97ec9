from django.urls import path

from clinic.visits import reports, views, workspace

app_name = "visits"

urlpatterns = [
    path("visits/<uuid:booking_id>/", views.visit_page, name="visit"),
    path("visits/<uuid:booking_id>/where/", views.attest, name="attest"),
    path("visits/<uuid:booking_id>/admit/", views.admit, name="admit"),
    path("visits/<uuid:booking_id>/status/", views.status, name="status"),
    path("visits/<uuid:booking_id>/ice/", views.ice_servers, name="ice"),
    path("clinician/appointments/<uuid:booking_id>/note/", workspace.note_save, name="note_save"),
    path("clinician/appointments/<uuid:booking_id>/note/sign/", workspace.note_sign, name="note_sign"),
    path(
        "clinician/appointments/<uuid:booking_id>/note/addendum/",
        workspace.note_addendum,
        name="note_addendum",
    ),
    path("clinician/appointments/<uuid:booking_id>/no-show/", workspace.no_show, name="no_show"),
    path("clinician/appointments/<uuid:booking_id>/follow-up/", workspace.follow_up, name="follow_up"),
    path("clinician/patients/<uuid:patient_id>/", workspace.chart, name="chart"),
    path("me/appointments/<uuid:booking_id>/", workspace.my_appointment, name="my_appointment"),
    path("me/appointments/<uuid:booking_id>/cancel/", workspace.my_cancel, name="my_cancel"),
    path("me/my-data/", workspace.my_data, name="my_data"),
    path("staff/funnel/", reports.funnel_report, name="funnel"),
]
