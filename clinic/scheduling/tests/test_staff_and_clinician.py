import datetime as dt

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from clinic.accounts.models import Licence
from clinic.audit.models import Action, AuditEvent
from clinic.scheduling.models import (
    AppointmentType,
    Booking,
    BookingStatus,
    DateOverride,
    TimeOff,
    WeeklyHours,
)
from tests.support.booking import adult, book_as, give_hours, slot_starts
from tests.support.personas import client_for

pytestmark = pytest.mark.django_db

STAFF_PAGES = ["scheduling:day", "scheduling:licences", "scheduling:appointment_types"]


def ny_slots() -> list[str]:
    return slot_starts(Client().get("/book/", {"jurisdiction": "US-NY", "tz": "America/New_York"}))


def test_staff_pages_refuse_everyone_else(staff, patient, clinician):
    for name in STAFF_PAGES:
        url = reverse(name)
        assert Client().get(url).status_code == 302
        assert client_for(patient).get(url).status_code == 403
        assert client_for(clinician).get(url).status_code == 403
        assert client_for(staff).get(url).status_code == 200
    url = reverse("scheduling:availability")
    assert client_for(patient).get(url).status_code == 403
    assert client_for(staff).get(url).status_code == 403
    assert client_for(clinician).get(url).status_code == 200


def test_day_view_lists_bookings_by_clinician_and_staff_cancel_tells_the_patient(
    frozen, open_clinic, staff, patient, django_capture_on_commit_callbacks
):
    book_as(adult(patient), ny_slots()[0], django_capture_on_commit_callbacks)
    booking = Booking.objects.get()
    page = client_for(staff).get(reverse("scheduling:day"), {"date": "2026-12-01"}).content.decode()
    assert open_clinic.display_name in page and patient.display_name in page
    cancel_url = reverse("scheduling:staff_cancel", args=[booking.public_id])
    client_for(staff).post(cancel_url, {"reason": ""})
    assert Booking.objects.get().status == BookingStatus.CONFIRMED  # a reason is required
    for outsider in (patient, open_clinic):
        assert client_for(outsider).post(cancel_url, {"reason": "x"}).status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        client_for(staff).post(cancel_url, {"reason": "Dr Doc is unwell today"})
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED and booking.cancelled_by == staff
    message = mail.outbox[-1]
    assert message.to == [patient.email]
    assert "Dr Doc is unwell today" in message.body and "by the clinic" in message.body
    assert AuditEvent.objects.filter(action=Action.BOOKING_CANCELLED, actor=staff).exists()


def test_no_show_only_after_the_start(
    frozen, open_clinic, staff, patient, django_capture_on_commit_callbacks
):
    book_as(adult(patient), ny_slots()[0], django_capture_on_commit_callbacks)
    booking = Booking.objects.get()
    url = reverse("scheduling:staff_no_show", args=[booking.public_id])
    client_for(staff).post(url)
    assert Booking.objects.get().status == BookingStatus.CONFIRMED
    frozen.move_to(booking.start + dt.timedelta(minutes=5))
    assert client_for(patient).post(url).status_code == 403
    client_for(staff).post(url)
    assert Booking.objects.get().status == BookingStatus.NO_SHOW
    assert AuditEvent.objects.filter(action=Action.BOOKING_NO_SHOW).count() == 1


def test_clinician_sets_hours_override_and_time_off_and_sees_the_patients_preview(frozen, clinician):
    client = client_for(clinician)
    assert ny_slots() == []
    response = client.post(
        reverse("scheduling:availability"),
        {"kind": "weekly", "weekly-weekday": 2, "weekly-start": "10:00", "weekly-end": "12:00"},
    )
    assert response.status_code == 302
    slots = ny_slots()
    assert slots and all(s.startswith("2026-12-02") for s in slots)  # Wednesday only
    page = client.get(reverse("scheduling:availability")).content.decode()
    assert "10:00 AM" in page  # the preview shows what patients are offered
    client.post(
        reverse("scheduling:availability"),
        {"kind": "override", "override-date": "2026-12-02", "override-start": "", "override-end": ""},
    )
    assert ny_slots() == []  # an empty override closes the day
    DateOverride.objects.all().delete()
    client.post(
        reverse("scheduling:availability"),
        {
            "kind": "off",
            "off-start": "2026-12-02T10:00",
            "off-end": "2026-12-02T11:00",
            "off-note": "dentist",
        },
    )
    off = TimeOff.objects.get()
    assert off.start == dt.datetime(2026, 12, 2, 15, 0, tzinfo=dt.UTC)  # 10:00 in New York
    assert all(not s.startswith("2026-12-02T15") for s in ny_slots())
    assert AuditEvent.objects.filter(action=Action.AVAILABILITY_CHANGED, actor=clinician).count() == 3


@pytest.mark.parametrize(
    "data",
    [
        {"kind": "weekly", "weekly-weekday": 9, "weekly-start": "10:00", "weekly-end": "12:00"},
        {"kind": "weekly", "weekly-weekday": 1, "weekly-start": "12:00", "weekly-end": "10:00"},
        {"kind": "override", "override-date": "2026-12-02", "override-start": "10:00", "override-end": ""},
        {"kind": "off", "off-start": "2026-12-02T11:00", "off-end": "2026-12-02T10:00"},
        {"kind": "weekly", "weekly-weekday": 1, "weekly-start": "25:00", "weekly-end": "26:00"},
    ],
)
def test_bad_availability_input_is_refused_and_saves_nothing(frozen, clinician, data):
    response = client_for(clinician).post(reverse("scheduling:availability"), data)
    assert response.status_code == 400
    assert (
        not WeeklyHours.objects.exists()
        and not DateOverride.objects.exists()
        and not TimeOff.objects.exists()
    )


def test_a_clinician_cannot_delete_another_clinicians_hours(frozen, clinician, clinician_elsewhere):
    give_hours(clinician_elsewhere, days=[1])
    row = WeeklyHours.objects.get()
    url = reverse("scheduling:availability_delete", args=["weekly", row.public_id])
    assert client_for(clinician).post(url).status_code == 404
    assert WeeklyHours.objects.filter(pk=row.pk).exists()


def test_staff_verify_a_licence_and_see_expiries(frozen, staff, clinician):
    licence = Licence.objects.create(
        clinician=clinician, jurisdiction="US-TX", number="TX-9", expires_on=dt.date(2027, 1, 10)
    )
    page = client_for(staff).get(reverse("scheduling:licences")).content.decode()
    assert "within 60 days" in page and "Mark verified" in page
    client_for(staff).post(reverse("scheduling:verify_licence", args=[licence.public_id]))
    licence.refresh_from_db()
    assert licence.verified_by == staff and licence.verified_at is not None
    assert AuditEvent.objects.filter(
        action=Action.LICENCE_VERIFIED, subject_id=str(licence.public_id)
    ).exists()


def test_staff_edit_appointment_types_with_validation(frozen, staff):
    url = reverse("scheduling:appointment_types")
    data = {
        "kind": "consultation",
        "consultation-name": "Free video consultation",
        "consultation-duration_minutes": 25,
        "consultation-buffer_before_minutes": 5,
        "consultation-buffer_after_minutes": 5,
        "consultation-min_notice_minutes": 60,
        "consultation-horizon_days": 14,
        "consultation-max_per_day": 8,
        "consultation-cancel_cutoff_hours": 3,
    }
    assert client_for(staff).post(url, data).status_code == 302
    consult = AppointmentType.objects.get(kind="consultation")
    assert consult.duration_minutes == 25 and consult.horizon_days == 14
    response = client_for(staff).post(url, {**data, "consultation-duration_minutes": -5})
    assert response.status_code == 400
    assert AppointmentType.objects.get(kind="consultation").duration_minutes == 25
