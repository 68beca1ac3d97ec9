from django.urls import path

from clinic.outcomes import views

app_name = "outcomes"
urlpatterns = [
    path("outcomes/", views.public_outcomes, name="public"),
    path("reports/outcomes/", views.report_page, name="report"),
    path("reports/outcomes/compute/", views.request_snapshot, name="request_snapshot"),
    path("me/my-data/fhir/", views.my_fhir, name="my_fhir"),
    path("staff/patients/<uuid:patient_id>/fhir/", views.staff_fhir, name="staff_fhir"),
]
