from django.urls import path

from clinic.intake import views

app_name = "intake"

urlpatterns = [
    path("intake/", views.start, name="start"),
    path("intake/<uuid:intake_id>/done/", views.done, name="done"),
    path("intake/<uuid:intake_id>/help-now/", views.crisis, name="crisis"),
    path("intake/<uuid:intake_id>/<str:step>/", views.step, name="step"),
    path("me/questionnaire/", views.mine, name="mine"),
    path("clinician/urgent/<uuid:item_id>/acknowledge/", views.acknowledge, name="acknowledge"),
]
