"""The waitlist keeps the address of someone looking for treatment encrypted, once per
jurisdiction while they wait, found again by a keyed hash."""

from __future__ import annotations

import pytest
from django.db import connection

from clinic.scheduling import actions
from clinic.scheduling.models import WaitlistEntry, email_key

pytestmark = pytest.mark.django_db


def test_the_address_is_encrypted_and_kept_once_while_waiting():
    first = actions.do_join_waitlist(email="Sam.Marker@Example.org", jurisdiction="US-NY")
    again = actions.do_join_waitlist(email=" sam.marker@example.org ", jurisdiction="US-NY")
    elsewhere = actions.do_join_waitlist(email="sam.marker@example.org", jurisdiction="US-TX")
    assert first.pk == again.pk != elsewhere.pk
    assert WaitlistEntry.objects.get(pk=first.pk).email == "sam.marker@example.org"
    with connection.cursor() as cursor:
        cursor.execute("SELECT email, email_hash FROM scheduling_waitlistentry")
        rows = cursor.fetchall()
    assert rows and all("marker" not in (email + digest).lower() for email, digest in rows)
    assert email_key("SAM.marker@example.org") == first.email_hash != email_key("other@example.org")
