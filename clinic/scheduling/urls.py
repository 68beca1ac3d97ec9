from django.urls import path

from clinic.scheduling import staff_views, views

app_name = "scheduling"

urlpatterns = [
    path("book/", views.book, name="book"),
    path("book/hold/", views.hold, name="hold"),
    path("book/confirm/<uuid:hold_id>/", views.confirm, name="confirm"),
    path("book/booked/<uuid:booking_id>/", views.booked, name="booked"),
    path("book/booked/<uuid:booking_id>/appointment.ics", views.booked_ics, name="booked_ics"),
    path("book/waitlist/", views.waitlist, name="waitlist"),
    path("manage/<str:token>/", views.manage, name="manage"),
    path("manage/<str:token>/cancel/", views.manage_cancel, name="manage_cancel"),
    path("manage/<str:token>/reschedule/", views.manage_reschedule, name="manage_reschedule"),
    path(
        "manage/<str:token>/reschedule/<uuid:hold_id>/",
        views.manage_reschedule_confirm,
        name="manage_reschedule_confirm",
    ),
    path("me/appointments/<uuid:booking_id>/reschedule/", views.my_reschedule, name="my_reschedule"),
    path(
        "me/appointments/<uuid:booking_id>/reschedule/<uuid:hold_id>/",
        views.my_reschedule_confirm,
        name="my_reschedule_confirm",
    ),
    path("clinician/availability/", staff_views.availability_page, name="availability"),
    path(
        "clinician/availability/<str:kind>/<int:pk>/delete/",
        staff_views.availability_delete,
        name="availability_delete",
    ),
    path("staff/day/", staff_views.day_view, name="day"),
    path("staff/bookings/<uuid:booking_id>/cancel/", staff_views.staff_cancel, name="staff_cancel"),
    path("staff/bookings/<uuid:booking_id>/no-show/", staff_views.staff_no_show, name="staff_no_show"),
    path("staff/licences/", staff_views.licences, name="licences"),
    path("staff/licences/<uuid:licence_id>/verify/", staff_views.verify_licence, name="verify_licence"),
    path("staff/appointment-types/", staff_views.appointment_types, name="appointment_types"),
]
