"""A patient cancels or reschedules from their account or the emailed manage link; nobody else
can, at either step."""

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from clinic.scheduling.models import Booking, BookingStatus
from tests.support.booking import adult, book_as, slot_starts
from tests.support.personas import client_for

pytestmark = pytest.mark.django_db

WHERE = {"jurisdiction": "US-NY", "tz": "America/New_York"}


@pytest.fixture
def booked(frozen, open_clinic, patient, django_capture_on_commit_callbacks):
    adult(patient)
    starts = slot_starts(Client().get("/book/", WHERE))
    book_as(patient, starts[0], django_capture_on_commit_callbacks)
    booking = Booking.objects.get()
    link = re.search(r"/manage/[\w-]+/", mail.outbox[-1].body).group(0)
    return booking, link, starts


def wrong_people(other_patient, clinician_elsewhere, staff):
    return {
        "another patient": client_for(other_patient),
        "a clinician": client_for(clinician_elsewhere),
        "staff": client_for(staff),
        "anonymous": Client(),
    }


def test_nobody_else_cancels_from_the_account(booked, other_patient, clinician_elsewhere, staff, patient):
    booking, _, _ = booked
    url = reverse("visits:my_cancel", args=[booking.public_id])
    for who, client in wrong_people(other_patient, clinician_elsewhere, staff).items():
        response = client.post(url, {"reason": "not mine"})
        assert response.status_code in {"another patient": (404,), "anonymous": (302,)}.get(who, (403,)), who
        if who == "anonymous":
            assert reverse("account_login") in response["Location"]
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    client_for(patient).post(url, {"reason": "away"})
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED


def test_nobody_else_reschedules_from_the_account_at_either_step(
    booked, other_patient, clinician_elsewhere, staff, patient
):
    booking, _, starts = booked
    pick = reverse("scheduling:my_reschedule", args=[booking.public_id])
    # The owner holds a new time: the confirm step's URL names that hold.
    owner = client_for(patient)
    held = owner.post(pick, {**WHERE, "start": starts[3], "clinician": str(booking.clinician.public_id)})
    assert held.status_code == 302
    confirm_url = held["Location"]
    for who, client in wrong_people(other_patient, clinician_elsewhere, staff).items():
        expected = {"another patient": 404, "anonymous": 302}.get(who, 403)
        assert client.get(pick).status_code == expected, who
        assert client.post(pick, {**WHERE, "start": starts[4]}).status_code == expected, who
        assert client.get(confirm_url).status_code == expected, who
        assert client.post(confirm_url).status_code == expected, who
    booking.refresh_from_db()
    assert booking.start.isoformat() == starts[0].replace("Z", "+00:00")
    assert owner.post(confirm_url).status_code == 302
    booking.refresh_from_db()
    assert booking.start.isoformat() == starts[3].replace("Z", "+00:00")


def test_the_manage_link_is_the_key_at_every_step(booked, other_patient):
    booking, link, starts = booked
    token = link.split("/")[2]
    wrong = "x" * len(token)
    for name in ("manage", "manage_reschedule", "manage_move"):
        assert Client().get(reverse(f"scheduling:{name}", args=[wrong])).status_code == 404, name
    assert Client().post(reverse("scheduling:manage_cancel", args=[wrong])).status_code == 404
    # A hold taken through the real link belongs to the browser that took it, not to others.
    owner = Client()
    held = owner.post(
        f"{link}reschedule/", {**WHERE, "start": starts[2], "clinician": str(booking.clinician.public_id)}
    )
    assert held.status_code == 302
    stranger = client_for(other_patient)
    assert stranger.get(held["Location"]).status_code == 404
    assert stranger.post(held["Location"]).status_code == 404
    wrong_confirm = held["Location"].replace(token, wrong)
    assert owner.post(wrong_confirm).status_code == 404
    booking.refresh_from_db()
    assert booking.start.isoformat() == starts[0].replace("Z", "+00:00")
    # The owner's browser moves it, and cancels through the renewed link.
    moved = owner.post(held["Location"])
    assert moved.status_code == 302 and moved["Location"] != link
    assert owner.post(f"{moved['Location']}cancel/").status_code == 302
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED
