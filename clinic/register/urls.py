from django.urls import path

from clinic.register import views

app_name = "register"
urlpatterns = [
    path("staff/register/", views.index, name="index"),
    path("staff/register/sites/<uuid:site_id>/", views.site, name="site"),
    path("staff/register/sites/<uuid:site_id>/receive/", views.receive, name="receive"),
    path("staff/register/sites/<uuid:site_id>/register.csv", views.export_csv, name="export"),
    path("staff/register/lots/<uuid:lot_id>/", views.lot, name="lot"),
    path("staff/register/lots/<uuid:lot_id>/waste/", views.waste, name="waste"),
    path("staff/register/lots/<uuid:lot_id>/transfer/", views.transfer, name="transfer"),
    path("staff/register/lots/<uuid:lot_id>/count/", views.count, name="count"),
    path("staff/register/lots/<uuid:lot_id>/correct/", views.correct, name="correct"),
    path("staff/register/waste/<uuid:waste_id>/witness/", views.witness, name="witness"),
    path("staff/register/counts/<uuid:count_id>/confirm/", views.confirm_count, name="confirm_count"),
    path("staff/register/checks/<uuid:check_id>/resolve/", views.resolve, name="resolve"),
]
