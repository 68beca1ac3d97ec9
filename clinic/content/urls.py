from django.urls import path

from clinic.content import views

app_name = "content"

urlpatterns = [
    path("", views.home, name="home"),
    path("learn/", views.learn_index, name="learn_index"),
    path("learn/<slug:slug>/", views.learn_page, name="learn_page"),
    path("crisis/", views.crisis, name="crisis"),
    path("contact/", views.contact, name="contact"),
    path("contact/sent/", views.contact_thanks, name="contact_thanks"),
    path("privacy/", views.static_page, {"template": "content/privacy.html"}, name="privacy"),
    path("terms/", views.static_page, {"template": "content/terms.html"}, name="terms"),
    path("healthz", views.healthz, name="healthz"),
    path("staff/inbox/", views.inbox, name="inbox"),
    path("staff/inbox/<uuid:public_id>/", views.inbox_message, name="inbox_message"),
    path("staff/inbox/<uuid:public_id>/status/", views.inbox_status, name="inbox_status"),
]
