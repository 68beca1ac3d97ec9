from django.urls import path

from clinic.accounts import views

app_name = "accounts"

urlpatterns = [
    path("account/", views.home, name="home"),
    path("account/security-required/", views.mfa_required, name="mfa_required"),
    path("staff/people/", views.people, name="people"),
    path("staff/people/<uuid:user_id>/on-call/", views.toggle_on_call, name="toggle_on_call"),
]
