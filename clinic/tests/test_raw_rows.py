"""What anyone reading the database sees: a scripted journey types a unique marker into every
free-text field a person fills (through the pages, as they would), the worker sends every email
and every emailed link is followed; then every column of every table is read raw, the task,
session and cache tables included, and no marker and no raw token is found.

Runs on whichever database the suite runs on (SQLite by default; PostgreSQL with DATABASE_URL).
"""

from __future__ import annotations

import base64
import datetime as dt
import pickle  # noqa: S403 (the test's own cache rows)
import re
from dataclasses import dataclass, field

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from clinic.intake.models import IntakeResponse, UrgentItem, UrgentKind
from clinic.register.models import Site
from clinic.scheduling.models import Booking, BookingStatus
from clinic.sessions import SessionStore
from tests.support.booking import confirm, hold, slot_starts
from tests.support.intake import GAD7, section
from tests.support.personas import client_for
from tests.support.worker import run_worker, use_database_queue

pytestmark = pytest.mark.django_db


@dataclass
class Markers:
    """One marker per field, lower case (some fields fold case), letters only around a counter."""

    typed: dict[str, str] = field(default_factory=dict)
    phones: dict[str, str] = field(default_factory=dict)

    def __call__(self, what: str) -> str:
        self.typed[what] = f"zqmark{len(self.typed):02d}xqv"
        return self.typed[what]

    def phone(self, what: str) -> str:
        number = f"212555{len(self.phones):04d}"
        self.phones[what] = number
        return f"+1 {number[:3]} {number[3:6]} {number[6:]}"


def ok(response, what: str) -> None:
    assert response.status_code in (200, 302), f"{what}: {response.status_code} {response.content[:300]!r}"
    assert "errorlist" not in response.content.decode(), f"{what}: the form refused its input"


def answer_intake(client: Client, mark: Markers) -> IntakeResponse:
    start = client.get(reverse("intake:start"))
    intake = IntakeResponse.objects.get(
        public_id=re.search(r"/intake/([0-9a-f-]+)/", start["Location"]).group(1)  # type: ignore[union-attr]
    )
    legal_name = mark("legal name")
    steps = [
        (
            "about",
            {
                "legal_name": legal_name,
                "preferred_name": mark("preferred name"),
                "date_of_birth": "1988-04-02",
                "phone": mark.phone("profile phone"),
                "emergency_contact_name": mark("emergency contact"),
                "emergency_contact_phone": mark.phone("emergency phone"),
                "home_address": mark("home address"),
                "country": "US",
            },
        ),
        (
            "phq9",
            {
                **{f"phq9_{n}": "1" for n in range(1, 10)},
                "phq9_9": "0",
                "phq9_difficulty": "somewhat_difficult",
            },
        ),
        ("gad7", GAD7),
        ("asq", {"asq1": "no", "asq2": "no", "asq3": "no", "asq4": "no"}),
        ("conditions", section("conditions")),
        ("medicines", {**section("medicines"), "medicines_list": mark("medicines list")}),
        ("past_treatment", section("past_treatment")),
        ("consent", {"agree": "on", "typed_name": legal_name}),
    ]
    for step, data in steps:
        response = client.post(reverse("intake:step", args=[intake.public_id, step]), data)
        assert response.status_code == 302 and "/help-now/" not in response["Location"], step
    intake.refresh_from_db()
    assert intake.submitted_at is not None
    return intake


def book(client: Client, capture, start: str) -> Booking:
    before = set(Booking.objects.values_list("pk", flat=True))
    held = hold(client, start)
    assert held.status_code == 302, held.content.decode()[:300]
    with capture(execute=True):
        done = confirm(client, held)
    assert done.status_code == 302, done.content.decode()[:300]
    return Booking.objects.exclude(pk__in=before).get()


def free_starts(day: str | None = None) -> list[str]:
    query = {"jurisdiction": "US-NY", "tz": "America/New_York", **({"start": day} if day else {})}
    return slot_starts(Client().get("/book/", query))


def journey(frozen, open_clinic, clinician_elsewhere, patient, staff, capture) -> Markers:
    mark = Markers()
    # A visitor writes to the clinic.
    ok(
        Client().post(
            reverse("content:contact"),
            {
                "name": mark("contact name"),
                "email": f"{mark('contact email')}@example.org",
                "phone": mark.phone("contact phone"),
                "message": mark("contact message"),
            },
        ),
        "contact",
    )
    # The patient answers the questionnaire, books, and cancels with a reason.
    me = client_for(patient)
    answer_intake(me, mark)
    first = book(me, capture, free_starts()[0])
    with capture(execute=True):
        ok(
            me.post(reverse("visits:my_cancel", args=[first.public_id]), {"reason": mark("patient cancel")}),
            "cancel",
        )
    # Books again; on the day, says where they are; the clinician writes and signs the note.
    second = book(me, capture, free_starts()[1])
    frozen.move_to(second.start - dt.timedelta(minutes=5))
    me = client_for(patient)
    ok(
        me.post(
            reverse("visits:attest", args=[second.public_id]),
            {"jurisdiction": "US-NY", "address": mark("attested address"), "phone": mark.phone("call-back")},
        ),
        "attest",
    )
    doctor = client_for(open_clinic)
    frozen.move_to(second.start + dt.timedelta(minutes=5))
    note = {
        "identity_method": "photo_id",
        "location_confirmed": "on",
        "others_present": mark("others present"),
        "reason": mark("note reason"),
        "history_reviewed": mark("history reviewed"),
        "risk_level": "low",
        "safety_plan": mark("safety plan"),
        "contraindications_reviewed": mark("contraindications"),
        "plan": mark("plan"),
        "follow_up": mark("follow-up"),
        "decision": "suitable",
        "decision_reason": mark("decision reason"),
        "patient_message": mark("patient message"),
    }
    saved = doctor.post(reverse("visits:note_save", args=[second.public_id]), note)
    assert saved.status_code in (200, 302), saved.content[:300]
    with capture(execute=True):
        signed = doctor.post(reverse("visits:note_sign", args=[second.public_id]))
    assert signed.status_code == 302
    second.refresh_from_db()
    assert second.status == BookingStatus.COMPLETED
    ok(
        doctor.post(reverse("visits:note_addendum", args=[second.public_id]), {"text": mark("addendum")}),
        "addendum",
    )
    # The clinician takes time off with a note, and answers an urgent call-back with an outcome.
    ok(
        doctor.post(
            reverse("scheduling:availability"),
            {
                "kind": "off",
                "off-start": (second.start + dt.timedelta(days=20)).strftime("%Y-%m-%dT09:00"),
                "off-end": (second.start + dt.timedelta(days=21)).strftime("%Y-%m-%dT09:00"),
                "off-note": mark("time-off note"),
            },
        ),
        "time off",
    )
    urgent = UrgentItem.objects.create(
        patient=patient, intake=second.intake, kind=UrgentKind.CALLBACK, phone="", created_at=timezone.now()
    )
    with capture(execute=True):
        ok(
            doctor.post(
                reverse("intake:acknowledge", args=[urgent.public_id]), {"outcome": mark("urgent outcome")}
            ),
            "urgent outcome",
        )
    urgent.refresh_from_db()
    assert urgent.outcome == mark.typed["urgent outcome"]
    # Another clinician breaks the glass, with a reason.
    ok(
        client_for(clinician_elsewhere).post(
            reverse("visits:patient_intake", args=[patient.public_id]), {"reason": mark("break-glass reason")}
        ),
        "break glass",
    )
    # A third booking, which the clinic cancels with a reason the patient is told.
    me = client_for(patient)
    third = book(me, capture, free_starts((second.start + dt.timedelta(days=2)).date().isoformat())[0])
    with capture(execute=True):
        ok(
            client_for(staff).post(
                reverse("scheduling:staff_cancel", args=[third.public_id]), {"reason": mark("staff cancel")}
            ),
            "staff cancel",
        )
    return mark


def follow_every_emailed_link(patient) -> set[str]:
    """GET every link of every email (as a visitor and as the patient); the raw tokens found."""
    tokens = set()
    links = set()
    for message in mail.outbox:
        bodies = [str(message.body)] + [str(alt[0]) for alt in getattr(message, "alternatives", [])]
        for text in bodies:
            for url in re.findall(r"https?://[^/\s\"'<>]+(/[^\s\"'<>]*)", text):
                links.add(url.rstrip(".,)"))
    assert any("/manage/" in link for link in links), "the journey's emails carry manage links"
    for link in sorted(links):
        for client in (Client(), client_for(patient)):
            assert client.get(link).status_code < 500, link
        found = re.search(r"/manage/([^/\s]+)/", link)
        if found:
            tokens.add(found.group(1))
    return tokens


def cell_texts(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, memoryview | bytes | bytearray):
        return [bytes(value).decode("latin-1")]
    return [str(value)]


def unpickled(text: str) -> str:
    """A database cache value: base64 of a pickle (Django's DatabaseCache)."""
    try:
        return repr(pickle.loads(base64.b64decode(text)))  # noqa: S301 (rows this test wrote)
    except Exception:
        return ""


def test_no_marker_and_no_raw_token_in_any_column_of_any_table(
    frozen,
    open_clinic,
    clinician_elsewhere,
    patient,
    staff,
    settings,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    use_database_queue(settings, monkeypatch)
    mark = journey(
        frozen, open_clinic, clinician_elsewhere, patient, staff, django_capture_on_commit_callbacks
    )
    run_worker()
    assert len(mail.outbox) >= 4
    tokens = follow_every_emailed_link(patient)
    assert tokens
    run_worker()
    needles = {**{v: k for k, v in mark.typed.items()}, **{t: "a manage token" for t in tokens}}
    phones = {v: k for k, v in mark.phones.items()}
    found, rows_read = scan(needles, phones)
    assert rows_read > 100
    assert not found, "\n".join(sorted(set(found)))
    # The markers really went in, and the scan sees a marker where one lies in the clear.
    assert len(mark.typed) >= 20 and len(mark.phones) >= 4
    assert_stored(mark, patient)
    # A column that is plain on purpose (a site's published name) holding a marker is found.
    Site.objects.create(name=f"Site {mark.typed['plan']}", created_at=timezone.now())
    assert scan(needles, phones)[0] == ["register_site: plan"]


def scan(needles: dict[str, str], phones: dict[str, str]) -> tuple[list[str], int]:
    """Every cell of every table (cache values unpickled, sessions also opened): which needles."""
    found: list[str] = []
    tables = connection.introspection.table_names()
    assert {"django_tasks_database_dbtaskresult", "django_session", "mendwell_cache"} <= set(tables), tables
    rows_read = 0
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 (introspected)
            for row in cursor.fetchall():
                rows_read += 1
                for value in row:
                    for text in cell_texts(value):
                        if table == "mendwell_cache":
                            text += unpickled(text)
                        lowered = text.lower()
                        found += [f"{table}: {what}" for needle, what in needles.items() if needle in lowered]
                        digits = re.sub(r"\D", "", text)
                        found += [f"{table}: {what}" for number, what in phones.items() if number in digits]
        # Sessions are ciphertext at rest; opened, they keep no marker and no manage token either.
        cursor.execute("SELECT session_data FROM django_session")
        for (data,) in cursor.fetchall():
            opened = str(SessionStore().decode(data)).lower()
            found += [f"session (opened): {what}" for needle, what in needles.items() if needle in opened]
    return found, rows_read


def assert_stored(mark: Markers, patient) -> None:
    """Each field holds its marker, read through the models (decrypted)."""
    from clinic.accounts.models import PatientProfile
    from clinic.content.models import ContactMessage
    from clinic.scheduling.models import TimeOff
    from clinic.visits.models import BreakGlass, ConsultNote, NoteAddendum, Visit

    profile = PatientProfile.objects.get(user=patient)
    note = ConsultNote.objects.get()
    stored = {
        "legal name": profile.legal_name,
        "preferred name": profile.preferred_name,
        "emergency contact": profile.emergency_contact_name,
        "home address": profile.home_address,
        "contact name": ContactMessage.objects.get().name,
        "contact message": ContactMessage.objects.get().message,
        "patient cancel": Booking.objects.get(cancelled_by=patient).cancel_reason,
        "staff cancel": Booking.objects.exclude(cancelled_by=patient)
        .get(cancel_reason__isnull=False, status=BookingStatus.CANCELLED)
        .cancel_reason,
        "attested address": Visit.objects.get().attested_address,
        "others present": note.others_present,
        "plan": note.plan,
        "patient message": note.patient_message,
        "addendum": NoteAddendum.objects.get().text,
        "time-off note": TimeOff.objects.get().note,
        "break-glass reason": BreakGlass.objects.get().reason,
    }
    for what, value in stored.items():
        assert value == mark.typed[what], what
    intake = IntakeResponse.objects.exclude(submitted_at=None).get()
    assert mark.typed["medicines list"] in intake.answers_json
