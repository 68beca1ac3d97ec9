"""Crisis lines are read once and kept in the process for as long as public pages are; a change
saved or deleted here shows at once, one made elsewhere within that time; with the time at 0
(tests, or a clinic that turns it off) every call reads them."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinic.content import crisis
from clinic.content.models import CrisisLine

pytestmark = pytest.mark.django_db


@pytest.fixture
def kept(settings):  # noqa: F811 (pytest-django's fixture)
    settings.PUBLIC_PAGE_SECONDS = 60
    crisis.forget()
    yield
    crisis.forget()


def _numbers(country: str | None = None) -> list[str]:
    return [line.number for line in crisis.crisis_lines(country)]


def test_the_lines_are_read_once_then_kept(kept):
    first = _numbers()
    assert first
    with CaptureQueriesContext(connection) as captured:
        assert _numbers() == first
        assert _numbers("us") == first
    assert not captured.captured_queries


def test_a_saved_or_deleted_line_shows_at_once(kept):
    _numbers()
    line = CrisisLine.objects.filter(country="US").first()
    line.number = "555 0100"
    line.save()
    assert "555 0100" in _numbers()
    line.delete()
    assert "555 0100" not in _numbers()


def test_a_change_made_elsewhere_shows_when_the_time_is_up(kept):
    _numbers()
    CrisisLine.objects.filter(country="US").update(number="555 0199")  # no signal: another process
    assert "555 0199" not in _numbers()
    crisis._Kept.until = 0.0  # the minute has passed
    assert set(_numbers()) == {"555 0199"}


def test_a_country_without_lines_gets_the_clinics_default(kept):
    assert _numbers("ZZ") == _numbers("US") != []
    CrisisLine.objects.create(country="ZZ", name="Line", number="112")
    assert _numbers("ZZ") == ["112"]


def test_with_no_time_every_call_reads(settings):
    settings.PUBLIC_PAGE_SECONDS = 0
    crisis.forget()
    _numbers()
    with CaptureQueriesContext(connection) as captured:
        _numbers()
    assert len(captured.captured_queries) == 1
