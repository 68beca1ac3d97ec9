from django.urls import path

from clinic.scheduling.views import availability, booking, day, manage

app_name = "scheduling"

urlpatterns = [
    path("book/", booking.book, name="book"),
    path("book/hold/", booking.hold, name="hold"),
    path("book/confirm/<uuid:hold_id>/", booking.confirm, name="confirm"),
    path("book/booked/<uuid:booking_id>/", booking.booked, name="booked"),
    path("book/booked/<uuid:booking_id>/appointment.ics", booking.booked_ics, name="booked_ics"),
    path("book/waitlist/", booking.waitlist, name="waitlist"),
    path("manage/<str:token>/", manage.manage, name="manage"),
    path("manage/<str:token>/cancel/", manage.manage_cancel, name="manage_cancel"),
    path("manage/<str:token>/move/", manage.manage_move, name="manage_move"),
    path("manage/<str:token>/reschedule/", manage.manage_reschedule, name="manage_reschedule"),
    path(
        "manage/<str:token>/reschedule/<uuid:hold_id>/",
        manage.manage_reschedule_confirm,
        name="manage_reschedule_confirm",
    ),
    path("me/appointments/<uuid:booking_id>/reschedule/", manage.my_reschedule, name="my_reschedule"),
    path(
        "me/appointments/<uuid:booking_id>/reschedule/<uuid:hold_id>/",
        manage.my_reschedule_confirm,
        name="my_reschedule_confirm",
    ),
    path("clinician/availability/", availability.availability_page, name="availability"),
    path(
        "clinician/availability/<str:kind>/<uuid:row_id>/delete/",
        availability.availability_delete,
        name="availability_delete",
    ),
    path("staff/day/", day.day_view, name="day"),
    path("staff/bookings/<uuid:booking_id>/cancel/", day.staff_cancel, name="staff_cancel"),
    path("staff/bookings/<uuid:booking_id>/no-show/", day.staff_no_show, name="staff_no_show"),
    path("staff/licences/", availability.licences, name="licences"),
    path("staff/licences/<uuid:licence_id>/verify/", availability.verify_licence, name="verify_licence"),
    path("staff/licences/<uuid:licence_id>/change/", availability.change_licence, name="change_licence"),
    path("staff/appointment-types/", availability.appointment_types, name="appointment_types"),
]
