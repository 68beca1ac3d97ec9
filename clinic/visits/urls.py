from django.urls import path

from clinic.visits import views

app_name = "visits"

urlpatterns = [
    path("visits/<uuid:booking_id>/", views.visit_page, name="visit"),
    path("visits/<uuid:booking_id>/where/", views.attest, name="attest"),
    path("visits/<uuid:booking_id>/admit/", views.admit, name="admit"),
    path("visits/<uuid:booking_id>/status/", views.status, name="status"),
    path("visits/<uuid:booking_id>/ice/", views.ice_servers, name="ice"),
]
