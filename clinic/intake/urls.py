from django.urls import path

from clinic.intake import views

app_name = "intake"

urlpatterns = [
    path("intake/", views.start, name="start"),
    path("intake/<uuid:intake_id>/done/", views.done, name="done"),
    path("intake/<uuid:intake_id>/help-now/", views.crisis, name="crisis"),
    path("intake/<uuid:intake_id>/<str:step>/", views.step, name="step"),
    path("me/questionnaire/", views.mine, name="mine"),
    path("clinician/appointments/<uuid:booking_id>/", views.appointment, name="appointment"),
    path("clinician/patients/<uuid:patient_id>/intake/", views.patient_intake, name="patient_intake"),
    path("clinician/urgent/<uuid:item_id>/acknowledge/", views.acknowledge, name="acknowledge"),
    path("staff/break-glass/", views.break_glass_review, name="break_glass_review"),
    path(
        "staff/break-glass/<uuid:grant_id>/reviewed/", views.break_glass_reviewed, name="break_glass_reviewed"
    ),
    path("staff/people/<uuid:user_id>/on-call/", views.toggle_on_call, name="toggle_on_call"),
]
