from django.urls import path

from clinic.portal import reports, views

app_name = "portal"

urlpatterns = [
    path("me/", views.patient_home, name="patient_home"),
    path("clinician/", views.clinician_home, name="clinician_home"),
    path("clinician/pulse/", views.clinician_pulse, name="clinician_pulse"),
    path("clinician/patients/", views.patients, name="patients"),
    path("nurse/", views.nurse_home, name="nurse_home"),
    path("staff/", views.staff_home, name="staff_home"),
    path("staff/audit/", views.audit_log, name="audit_log"),
    path("staff/funnel/", reports.funnel_report, name="funnel"),
]
