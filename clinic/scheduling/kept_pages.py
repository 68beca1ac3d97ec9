"""The slot page as a visitor without a session gets it, kept in this web process until anything
it shows could have changed.

The page is the same for every such visitor (no name, no messages, no hold), except for the CSRF
token of its forms: it is kept with a placeholder where the token goes, and each visitor's own
token is written in when it is served. An entry stands while both hold:

- the page version (``VERSION_KEY`` in the shared cache) is the one read before the page was
  made. It moves on every change a slot page can show: any clinician's schedule
  (``availability.schedule_changed``: bookings, cancellations, moves, hours, overrides, time off,
  the appointment type), and any hold, licence, appointment type or person saved or deleted
  (receivers in ``apps.py``; a sign-in, which saves only ``last_login``, and a new account that
  is not a clinician's do not count);
- the clock has not reached the entry's end: the next whole minute (free times, notice, horizon
  and licence ends all change at whole minutes, so a time that has become too soon is never
  shown), or the first moment a live hold lapses, if sooner (its time comes free again).

Nobody with a session (signed-in or mid-booking) or any cookie but the CSRF one is served from
here. No entry outlives the minute it was made in, so a version change that could not be
written (the cache down) leaves another process's page at most that long. At most
``PUBLIC_PAGE_ENTRIES`` pages per process, the least recently used dropped first; off when
``PUBLIC_PAGE_SECONDS`` is 0. Why by hand: Django's per-view cache keeps a page for a
fixed time, which would show a taken time as free, and cannot keep a page with a CSRF token.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Min
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token

from clinic.accounts.models import Role, User
from clinic.scheduling.models import Hold

logger = logging.getLogger(__name__)

VERSION_KEY = "slots:v:page"
VERSION_SECONDS = 7 * 86400
# Where each visitor's token goes: letters only, so escaping leaves it as it is.
PLACEHOLDER = "keptpagecsrftoken" + "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(24))


@dataclass(frozen=True)
class Kept:
    version: str
    until: dt.datetime
    content: bytes
    content_type: str


_pages: OrderedDict[str, Kept] = OrderedDict()
_lock = threading.Lock()


def changed(**_: object) -> None:
    """Every kept slot page is out of date: now, and again when the current transaction commits
    (a page made between the two from what was true before the commit is not kept either)."""

    def bump() -> None:
        try:
            cache.set(VERSION_KEY, uuid.uuid4().hex, VERSION_SECONDS)
        except Exception:  # a cache that cannot be written must not refuse the change itself
            # This process's pages go now; every other one's end within the minute anyway.
            logger.exception("The kept slot pages' version could not be moved on")
            forget_all()

    bump()
    transaction.on_commit(bump)


def person_saved(
    instance: User, created: bool = False, update_fields: frozenset[str] | None = None, **_: object
) -> None:
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return  # a sign-in
    if created and instance.role != Role.CLINICIAN:
        return  # a new patient, nurse or staff member is on no slot page
    changed()


def may_keep(request: HttpRequest) -> bool:
    return (
        settings.PUBLIC_PAGE_SECONDS > 0
        and set(request.COOKIES) <= {settings.CSRF_COOKIE_NAME}
        and not request.user.is_authenticated
    )


def version() -> str:
    """The current page version (a new one when the shared cache has none)."""
    try:
        found = cache.get(VERSION_KEY)
        if found is None:
            found = uuid.uuid4().hex
            cache.add(VERSION_KEY, found, VERSION_SECONDS)
            found = cache.get(VERSION_KEY, found)
    except Exception:  # no cache to read: a version no page was kept under, so none is served
        logger.exception("The kept slot pages' version could not be read")
        found = uuid.uuid4().hex
    return str(found)


def _serve(request: HttpRequest, kept: Kept) -> HttpResponse:
    content = kept.content.replace(PLACEHOLDER.encode(), get_token(request).encode())
    return HttpResponse(content, content_type=kept.content_type)


def served(request: HttpRequest, key: str, current: str, now: dt.datetime) -> HttpResponse | None:
    """The kept page for ``key``, if it is still what would be made now."""
    with _lock:
        kept = _pages.get(key)
        if kept is not None:
            _pages.move_to_end(key)
    if kept is None or kept.version != current or now >= kept.until:
        return None
    return _serve(request, kept)


def keep(
    request: HttpRequest, key: str, made_at: str, now: dt.datetime, response: HttpResponse
) -> HttpResponse:
    """Keep ``response`` (rendered with ``PLACEHOLDER`` as its CSRF token, under the version
    read before it was made) and give it to this visitor with their token."""
    # Free times, notice, horizon and licence ends change only at whole minutes, each either
    # just at or just after one: a page made strictly between two holds until the next one, a
    # page made exactly at one is given but not kept.
    minute = now.replace(second=0, microsecond=0)
    until = now if minute == now else minute + dt.timedelta(minutes=1)
    lapse = Hold.objects.filter(expires_at__gt=now).aggregate(first=Min("expires_at"))["first"]
    if lapse is not None:
        until = min(until, lapse)
    kept = Kept(made_at, until, response.content, response["Content-Type"])
    with _lock:
        _pages[key] = kept
        _pages.move_to_end(key)
        while len(_pages) > settings.PUBLIC_PAGE_ENTRIES:
            _pages.popitem(last=False)
    return _serve(request, kept)


def forget_all() -> None:
    with _lock:
        _pages.clear()
