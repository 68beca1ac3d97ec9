from django.urls import path

from clinic.visits import views

app_name = "visits"

urlpatterns = [
    path("visits/<uuid:booking_id>/", views.visit_page, name="visit"),
    path("visits/<uuid:booking_id>/where/", views.attest, name="attest"),
    path("visits/<uuid:booking_id>/admit/", views.admit, name="admit"),
    path("visits/<uuid:booking_id>/status/", views.status, name="status"),
    path("visits/<uuid:booking_id>/ice/", views.ice_servers, name="ice"),
    path("visits/<uuid:booking_id>/patient/", views.patient_panel, name="patient_panel"),
    path("clinician/appointments/<uuid:booking_id>/", views.appointment, name="appointment"),
    path("clinician/appointments/<uuid:booking_id>/note/", views.note_save, name="note_save"),
    path("clinician/appointments/<uuid:booking_id>/note/sign/", views.note_sign, name="note_sign"),
    path("clinician/appointments/<uuid:booking_id>/note/token/", views.note_token, name="note_token"),
    path(
        "clinician/appointments/<uuid:booking_id>/note/addendum/", views.note_addendum, name="note_addendum"
    ),
    path("clinician/appointments/<uuid:booking_id>/no-show/", views.no_show, name="no_show"),
    path("clinician/appointments/<uuid:booking_id>/follow-up/", views.follow_up, name="follow_up"),
    path("clinician/patients/<uuid:patient_id>/", views.chart, name="chart"),
    path("clinician/patients/<uuid:patient_id>/intake/", views.patient_intake, name="patient_intake"),
    path("staff/break-glass/", views.break_glass_review, name="break_glass_review"),
    path(
        "staff/break-glass/<uuid:grant_id>/reviewed/", views.break_glass_reviewed, name="break_glass_reviewed"
    ),
    path("me/appointments/<uuid:booking_id>/", views.my_appointment, name="my_appointment"),
    path("me/appointments/<uuid:booking_id>/cancel/", views.my_cancel, name="my_cancel"),
    path("me/my-data/", views.my_data, name="my_data"),
]
