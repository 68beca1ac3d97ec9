from django.urls import path

from clinic.measures import views

app_name = "measures"
urlpatterns = [
    path("check-in/<str:token>/", views.link, name="link"),
    path("me/check-ins/", views.mine, name="mine"),
    path("me/check-ins/<uuid:checkin_id>/", views.answer, name="answer"),
    path("me/check-ins/<uuid:checkin_id>/help-now/", views.help_now, name="help_now"),
    path("me/check-ins/<uuid:checkin_id>/thank-you/", views.take_care, name="take_care"),
    path("clinician/measures/<uuid:patient_id>/", views.patient_chart, name="patient_chart"),
    path("clinician/measures/attention/<uuid:item_id>/acknowledge/", views.acknowledge, name="acknowledge"),
    path("clinician/measures/course/<uuid:schedule_id>/add/", views.add_checkin, name="add_checkin"),
    path("clinician/measures/course/<uuid:schedule_id>/pause/", views.pause_course, name="pause_course"),
    path(
        "clinician/measures/check-in/<uuid:checkin_id>/pause/",
        views.withdraw_checkin,
        name="withdraw_checkin",
    ),
]
