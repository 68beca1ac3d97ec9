from django.urls import URLPattern, path

from clinic.care import session_urls, views

app_name = "care"
urlpatterns: list[URLPattern] = [
    # Clinician
    path("clinician/appointments/<uuid:booking_id>/plan/", views.plan_start, name="plan_start"),
    path("clinician/patients/<uuid:patient_id>/course/", views.course, name="course"),
    path("clinician/plans/<uuid:plan_id>/reviews/", views.plan_review, name="plan_review"),
    path("clinician/plans/<uuid:plan_id>/pdmp/", views.plan_pdmp, name="plan_pdmp"),
    path("clinician/plans/<uuid:plan_id>/legal-basis/", views.plan_legal_basis, name="plan_legal_basis"),
    path("clinician/sessions/<uuid:session_id>/book/", views.session_book, name="session_book"),
    path("clinician/protocols/<uuid:version_id>/approve/", views.protocol_approve, name="protocol_approve"),
    # Staff (clinicians read the protocols too, to approve them)
    path("staff/protocols/", views.protocols, name="protocols"),
    path("staff/protocols/new/", views.protocol_new, name="protocol_new"),
    path("staff/protocols/<uuid:protocol_id>/versions/new/", views.protocol_new, name="protocol_version_new"),
    path("staff/routes/<str:route>/", views.route_toggle, name="route_toggle"),
    path("staff/legal-bases/", views.legal_basis_rule_new, name="legal_basis_rule_new"),
    path("staff/plans/lapsing/", views.lapsing_plans, name="lapsing"),
    # Patient
    path("me/plan/", views.my_plan, name="my_plan"),
    path("me/plan/consent/", views.my_consent, name="my_consent"),
    path("me/sessions/<uuid:session_id>/check-in/", views.checkin, name="checkin"),
    path("me/sessions/<uuid:session_id>/help-now/", views.checkin_crisis, name="checkin_crisis"),
    *session_urls.urlpatterns,
]
