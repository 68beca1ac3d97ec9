from django.urls import path

from clinic.accounts import views

app_name = "accounts"

urlpatterns = [
    path("account/", views.home, name="home"),
    path("account/security-required/", views.mfa_required, name="mfa_required"),
    path("me/", views.patient_home, name="patient_home"),
    path("clinician/", views.clinician_home, name="clinician_home"),
    path("staff/", views.staff_home, name="staff_home"),
    path("staff/people/", views.people, name="people"),
]
