"""Public pages as served to a visitor without cookies are kept for a minute in each web process;
nobody with a cookie, no signed-in page and no response setting a cookie is ever served from it."""

import pytest
from django.conf import settings
from django.test import Client

from clinic.content import crisis
from clinic.content.models import CrisisLine
from clinic.middleware import PublicPageCacheMiddleware
from tests.support.personas import client_for


@pytest.fixture
def page_cache(settings):  # noqa: F811 (pytest-django's fixture)
    settings.PUBLIC_PAGE_SECONDS = 60
    PublicPageCacheMiddleware.pages.clear()
    crisis.forget()
    yield
    PublicPageCacheMiddleware.pages.clear()
    crisis.forget()


@pytest.mark.django_db
def test_a_public_page_is_served_again_from_memory_to_visitors_without_cookies(page_cache):
    first = Client().get("/crisis/")
    line = CrisisLine.objects.filter(country=settings.DEFAULT_COUNTRY).first()
    line.name = "Changed name"
    line.save()
    again = Client().get("/crisis/")
    assert again.content == first.content and "Changed name" not in again.content.decode()
    assert "public" in again["Cache-Control"] and again["X-Request-Id"] != first["X-Request-Id"]
    # A visitor with any cookie, and any signed-in person, gets the page made for them.
    with_cookie = Client()
    with_cookie.cookies["csrftoken"] = "x" * 32
    assert "Changed name" in with_cookie.get("/crisis/").content.decode()


@pytest.mark.django_db
def test_signed_in_pages_are_never_kept(page_cache, patient):
    client = client_for(patient)
    client.get("/")
    assert "no-store" in client.get("/")["Cache-Control"]
    assert patient.display_name.encode() not in Client().get("/").content
