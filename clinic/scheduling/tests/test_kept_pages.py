"""The slot page kept for visitors without a session (``kept_pages``): served again only while
nothing it shows can have changed, with each visitor's own CSRF token, never to anyone with a
session, and bounded."""

import datetime as dt
import re

import pytest
import time_machine
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from clinic.accounts.models import Licence, Role
from clinic.content import crisis
from clinic.scheduling import kept_pages
from clinic.scheduling.actions import consultation_type
from clinic.scheduling.models import Hold, WeeklyHours
from tests.support.booking import NOW, adult, hold, slot_starts
from tests.support.personas import client_for, make_user

pytestmark = pytest.mark.django_db

PAGE = {"jurisdiction": "US-NY", "tz": "America/New_York"}


@pytest.fixture
def kept(settings, open_clinic, frozen):  # noqa: F811 (pytest-django's fixture)
    settings.PUBLIC_PAGE_SECONDS = 60
    kept_pages.forget_all()
    crisis.forget()
    frozen.shift(dt.timedelta(seconds=30))  # a page made exactly at a whole minute is not kept
    yield frozen
    kept_pages.forget_all()
    crisis.forget()


def _page(client: Client | None = None, **extra: str):
    response = (client or Client()).get("/book/", {**PAGE, **extra})
    assert response.status_code == 200
    return response


def _token(response) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.content.decode()).group(1)


def test_a_second_visitor_is_served_the_kept_page_with_their_own_token(kept):
    first = _page()
    with CaptureQueriesContext(connection) as captured:
        second = _page()
    assert slot_starts(second) == slot_starts(first) != []
    # the page version only (no licences, holds, free starts or crisis lines read)
    assert len(captured.captured_queries) == 1, [q["sql"] for q in captured.captured_queries]
    assert kept_pages.PLACEHOLDER not in second.content.decode()
    assert _token(first) != _token(second)
    assert second.cookies["csrftoken"].value


def test_the_kept_pages_token_is_one_the_hold_accepts(kept):
    _page()  # made and kept
    visitor = Client(enforce_csrf_checks=True)
    page = _page(visitor)
    start = slot_starts(page)[0]
    refused = visitor.post("/book/hold/", {**PAGE, "start": start})
    assert refused.status_code == 403  # no token: the check is on
    held = visitor.post("/book/hold/", {**PAGE, "start": start, "csrfmiddlewaretoken": _token(page)})
    assert held.status_code == 302, held.content.decode()[:300]


def test_a_time_someone_holds_leaves_the_kept_page_and_comes_back_when_the_hold_lapses(kept):
    later = slot_starts(_page())[-1]  # days ahead: still bookable once the hold has lapsed
    assert hold(Client(), later).status_code == 302
    assert later not in slot_starts(_page())
    kept.shift(dt.timedelta(minutes=11))  # the hold lapsed; nobody booked
    assert later in slot_starts(_page())


def test_a_booking_leaves_the_kept_page(kept, patient, django_capture_on_commit_callbacks):
    first = slot_starts(_page())
    client = client_for(adult(patient))
    held = hold(client, first[0])
    assert held.status_code == 302
    page = client.get(held["Location"])
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page.content.decode()).group(1)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(held["Location"], {"idempotency_key": key}).status_code == 302
    assert not Hold.objects.exists()
    assert first[0] not in slot_starts(_page())


def test_a_licence_change_and_a_new_name_show_at_once(kept, clinician):
    assert "Dr Dana Doc" in _page().content.decode()
    clinician.display_name = "Dr Dana Renamed"
    clinician.save()
    assert "Dr Dana Renamed" in _page().content.decode()
    Licence.objects.filter(clinician=clinician).get().delete()
    assert slot_starts(_page()) == []


def test_a_sign_in_alone_does_not_end_kept_pages_but_new_hours_do(kept, clinician):
    _page()
    made = kept_pages.version()
    clinician.last_login = NOW
    clinician.save(update_fields=["last_login"])
    assert kept_pages.version() == made
    make_user("new-patient@example.org", Role.PATIENT)  # on no slot page
    assert kept_pages.version() == made
    WeeklyHours.objects.filter(clinician=clinician).delete()
    from clinic.scheduling.availability import schedule_changed

    schedule_changed([clinician])
    assert kept_pages.version() != made
    assert slot_starts(_page()) == []


def test_a_time_that_becomes_too_soon_is_gone_just_after_that_minute(kept):
    kind = consultation_type()
    kind.min_notice_minutes = 120
    kind.save()
    first = slot_starts(_page())[1]
    too_soon = dt.datetime.fromisoformat(first) - dt.timedelta(minutes=120)
    for moment, shown in (
        (too_soon - dt.timedelta(seconds=30), True),  # made and kept
        (too_soon, True),  # exactly the notice: still bookable
        (too_soon + dt.timedelta(microseconds=1), False),
        (too_soon + dt.timedelta(seconds=30), False),
    ):
        with time_machine.travel(moment, tick=False):
            assert (first in slot_starts(_page())) is shown, moment


def test_an_appointment_type_saved_elsewhere_ends_every_kept_page(kept):
    _page()
    made = kept_pages.version()
    kind = consultation_type()
    kind.save()
    assert kept_pages.version() != made


def test_a_page_made_exactly_at_a_whole_minute_is_not_kept(kept):
    kept.move_to(NOW)
    _page()
    with CaptureQueriesContext(connection) as captured:
        _page()
    assert len(captured.captured_queries) > 1


def test_a_lost_version_makes_the_page_again(kept):
    first = _page()
    cache.delete(kept_pages.VERSION_KEY)
    with CaptureQueriesContext(connection) as captured:
        again = _page()
    assert slot_starts(again) == slot_starts(first)
    assert len(captured.captured_queries) > 1  # made again, not served


def test_nobody_with_a_session_is_served_a_kept_page(kept, patient):
    _page()
    signed_in = client_for(adult(patient))
    page = _page(signed_in)
    assert "Sign out" in page.content.decode()
    assert kept_pages.PLACEHOLDER not in page.content.decode()
    other = Client()
    other.cookies["sessionid"] = "not-a-session"
    assert kept_pages.may_keep(other.get("/book/", PAGE).wsgi_request) is False


def test_a_bad_query_is_not_kept_and_stays_a_400(kept):
    for _ in range(2):
        assert Client().get("/book/", {**PAGE, "start": "2200-01-01"}).status_code == 400


def test_kept_pages_are_bounded(kept, settings):
    settings.PUBLIC_PAGE_ENTRIES = 5
    for n in range(12):
        _page(start=(NOW.date() + dt.timedelta(days=n)).isoformat())
    assert len(kept_pages._pages) == 5


def test_nothing_is_kept_when_public_pages_are_not(open_clinic, frozen, settings):
    settings.PUBLIC_PAGE_SECONDS = 0
    kept_pages.forget_all()
    _page()
    assert not kept_pages._pages


def test_a_cache_that_fails_refuses_no_change_and_serves_no_kept_page(kept, clinician, monkeypatch):
    _page()

    def broken(*args, **kwargs):
        raise DatabaseError("no such table: mendwell_cache")

    monkeypatch.setattr(cache, "set", broken)
    monkeypatch.setattr(cache, "get", broken)
    clinician.display_name = "Dr Still Saved"
    clinician.save()  # the write goes through
    clinician.refresh_from_db()
    assert clinician.display_name == "Dr Still Saved"
    assert not kept_pages._pages  # this process's kept pages went with it
    assert kept_pages.version() != kept_pages.version()  # none to match: nothing served
