"""What people type is ciphertext in the database, and the audit log keeps fixed codes only."""

import re

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.urls import reverse

from clinic.audit.models import Action, AuditEvent
from clinic.scheduling.models import Booking, TimeOff
from clinic.visits.models import BreakGlass
from tests.support.booking import adult, book_as, slot_starts
from tests.support.personas import client_for

pytestmark = pytest.mark.django_db


def stored(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608 (fixed names)
        return cursor.fetchone()[0]


def first_slot() -> str:
    return slot_starts(Client().get("/book/", {"jurisdiction": "US-NY", "tz": "America/New_York"}))[3]


def test_patient_cancel_reason_is_encrypted_and_the_audit_row_says_only_who(
    frozen, open_clinic, patient, django_capture_on_commit_callbacks
):
    client, _ = book_as(adult(patient), first_slot(), django_capture_on_commit_callbacks)
    booking = Booking.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("visits:my_cancel", args=[booking.public_id]), {"reason": "my sister's wedding"})
    booking.refresh_from_db()
    assert booking.cancel_reason == "my sister's wedding"
    raw = stored("scheduling_booking", "cancel_reason", booking.pk)
    assert raw.startswith("gAAAA") and "wedding" not in raw
    event = AuditEvent.objects.get(action=Action.BOOKING_CANCELLED)
    assert event.reason == "by_patient"
    assert not AuditEvent.objects.filter(reason__contains="wedding").exists()


def test_staff_cancel_reason_reaches_the_patient_but_not_the_log(
    frozen, open_clinic, patient, staff, django_capture_on_commit_callbacks
):
    book_as(adult(patient), first_slot(), django_capture_on_commit_callbacks)
    booking = Booking.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        client_for(staff).post(
            reverse("scheduling:staff_cancel", args=[booking.public_id]), {"reason": "Dr Doc is unwell & off"}
        )
    assert "The clinic's note: Dr Doc is unwell & off" in mail.outbox[-1].body  # plain text: no &amp;
    assert AuditEvent.objects.get(action=Action.BOOKING_CANCELLED).reason == "by_clinic"
    assert "unwell" not in stored("scheduling_booking", "cancel_reason", booking.pk)


def test_time_off_note_is_encrypted(frozen, clinician):
    client_for(clinician).post(
        reverse("scheduling:availability"),
        {
            "kind": "off",
            "off-start": "2026-12-20T09:00",
            "off-end": "2026-12-21T09:00",
            "off-note": "surgery",
        },
    )
    row = TimeOff.objects.get()
    assert row.note == "surgery"
    assert "surgery" not in stored("scheduling_timeoff", "note", row.pk)
    assert not AuditEvent.objects.filter(reason__contains="surgery").exists()


def test_break_glass_reason_is_encrypted_and_required(frozen, clinician_elsewhere, patient):
    from tests.support.booking import with_intake

    with_intake(patient)
    url = reverse("visits:patient_intake", args=[patient.public_id])
    doctor = client_for(clinician_elsewhere)
    assert doctor.post(url, {"reason": "          "}).status_code == 400
    assert not BreakGlass.objects.exists()
    doctor.post(url, {"reason": "Called the clinic at night, asking for help"})
    grant = BreakGlass.objects.get()
    assert grant.reason == "Called the clinic at night, asking for help"
    assert "night" not in stored("visits_breakglass", "reason", grant.pk)
    event = AuditEvent.objects.get(action=Action.BREAK_GLASS)
    assert event.reason == "" and event.subject_id == str(grant.public_id)


def test_a_failed_sign_in_logs_the_account_or_a_fingerprint_never_the_typed_text(patient):
    client = Client()
    client.post(reverse("account_login"), {"login": patient.email.upper(), "password": "wrong-password-1"})
    client.post(reverse("account_login"), {"login": "hunter2.typed@example.org", "password": "x"})
    client.post(reverse("account_login"), {"login": "hunter2.typed@example.org", "password": "y"})
    rows = list(AuditEvent.objects.filter(action=Action.SIGN_IN_FAILED).order_by("id"))
    assert rows[0].actor_label == patient.email and rows[0].subject_id == str(patient.public_id)
    unknown = [row.actor_label for row in rows[1:]]
    assert all(label.startswith("unknown address #") for label in unknown)
    assert len(set(unknown)) == 1, "the same unknown address gets the same fingerprint"
    assert not AuditEvent.objects.filter(actor_label__contains="hunter2").exists()


def test_sessions_are_encrypted_at_rest_and_older_signed_ones_still_read(patient):
    from django.contrib.sessions.backends.db import SessionStore as PlainStore
    from django.contrib.sessions.models import Session

    from clinic.sessions import SessionStore

    client = client_for(patient)
    session = client.session
    session["intake_next"] = "/book/confirm/typed-secret/"
    session.save()
    raw = Session.objects.get(session_key=session.session_key).session_data
    assert raw.startswith("gAAAA") and "typed-secret" not in raw
    assert SessionStore(session.session_key)["intake_next"] == "/book/confirm/typed-secret/"
    assert client.get(reverse("portal:patient_home")).status_code == 200  # still signed in
    old = PlainStore()
    old["kept"] = "yes"
    old.create()
    assert SessionStore(old.session_key)["kept"] == "yes"
    Session.objects.filter(session_key=old.session_key).update(session_data="gAAAAnot-a-real-token")
    assert dict(SessionStore(old.session_key).items()) == {}


def test_the_booked_page_does_not_keep_the_manage_token_in_the_session(
    frozen, open_clinic, patient, django_capture_on_commit_callbacks
):
    from django.contrib.sessions.models import Session

    from clinic.sessions import SessionStore

    client, done = book_as(adult(patient), first_slot(), django_capture_on_commit_callbacks)
    token = re.search(r"/manage/([^/\s]+)/", str(mail.outbox[0].body)).group(1)  # type: ignore[union-attr]
    page = client.get(done["Location"]).content.decode()
    booking = Booking.objects.get()
    assert reverse("visits:my_appointment", args=[booking.public_id]) in page
    assert token not in page
    rows = list(Session.objects.all())
    assert rows
    for row in rows:
        decoded = SessionStore().decode(row.session_data)
        assert decoded  # really opened: the check below is not vacuous
        assert token not in str(decoded) and token not in row.session_data


# Every text column is either encrypted or listed here with why it is not --------------------

# Django's and the libraries' own tables, by app label.
LIBRARY_TABLES = {
    "admin": "superusers' change log: object ids and each model's __str__, which names no person",
    "auth": "permission and group names",
    "contenttypes": "model names",
    "sessions": "session_data is encrypted by clinic.sessions (tested above)",
    "account": "allauth's sign-in addresses (the account's identifier) and hashed confirmation keys",
    "mfa": "allauth's authenticators: secrets and seeds encrypted by clinic.accounts.adapter.MFAAdapter",
    "django_tasks_database": "task rows hold identifiers and sealed secrets only (test_email_queue)",
}
# Text columns that are not free text someone types: codes, identifiers, hashes, choices made
# from a list, or names the clinic itself publishes.
NOT_TYPED = {
    "audit.AuditEvent.actor_label": "the actor's account address, or a keyed fingerprint of an unknown one",
    "audit.AuditEvent.action": "a fixed code",
    "audit.AuditEvent.subject_type": "a model name",
    "audit.AuditEvent.subject_id": "a public id",
    "audit.AuditEvent.request_id": "a request id",
    "audit.AuditEvent.reason": "a fixed code (by_patient, by_clinic, a day), never typed text",
    "audit.AuditEvent.patients": "public ids",
    "accounts.User.password": "a password hash",
    "accounts.User.email": "the account's identifier, needed to sign in",
    "accounts.User.display_name": "a clinician's or staff member's name as published to patients",
    "accounts.User.time_zone": "chosen from the zone list",
    "accounts.Licence.jurisdiction": "chosen from the jurisdiction list",
    "care.ContraindicationReview.flag_key": "the intake flag's fixed code",
    "care.LegalBasisRule.name": "the clinic's name for a legal basis, about no person",
    "care.PdmpCheck.state": "chosen from the jurisdiction list",
    "care.PreSessionCheckIn.asq_result": "a fixed code from the scoring",
    "care.PreSessionCheckIn.triage": "a fixed code from the triage",
    "care.Protocol.name": "the clinic's name for a protocol, about no person",
    "care.ProtocolVersion.checkins": "fixed codes of the check-in items",
    "care.TreatmentConsentSignature.version": "the consent text's version",
    "care.TreatmentPlan.consent_version": "the consent text's version",
    "care.TreatmentPlan.jurisdiction": "chosen from the jurisdiction list",
    "measures.AttentionItem.definitions_version": "the definitions' version",
    "measures.CheckIn.asq_result": "a fixed code from the scoring",
    "measures.CheckIn.definitions_version": "the definitions' version",
    "measures.CheckIn.instruments": "fixed instrument codes",
    "measures.CheckIn.purposes": "fixed codes",
    "measures.CheckIn.token_hash": "a hash of the emailed link's token",
    "measures.CheckIn.triage": "a fixed code from the triage",
    "measures.CheckIn.versions": "instrument versions",
    "measures.CheckIn.withdrawn_reason": "a fixed code (sessions moved, paused)",
    "measures.Schedule.sessions": "the course's session dates",
    "measures.Schedule.zone": "chosen from the zone list",
    "register.Site.name": "a clinic site's published name",
    "register.Lot.lot_number": "the manufacturer's lot number as printed on the pack",
    "register.Lot.strength": "the product's strength as printed on the label",
    "register.Entry.supplier": "the supplying company's name",
    "accounts.Licence.number": "a public licence number, typed by staff",
    "accounts.PatientProfile.country": "chosen from the country list",
    "content.CrisisLine.country": "published crisis line",
    "content.CrisisLine.name": "published crisis line",
    "content.CrisisLine.number": "published crisis line",
    "content.CrisisLine.how": "published crisis line",
    "scheduling.AppointmentType.name": "clinic settings",
    "scheduling.Hold.jurisdiction": "chosen from the jurisdiction list",
    "scheduling.Hold.patient_time_zone": "chosen from the zone list",
    "scheduling.Hold.session_key_hash": "a hash",
    "scheduling.Booking.jurisdiction": "chosen from the jurisdiction list",
    "scheduling.Booking.patient_time_zone": "chosen from the zone list",
    "scheduling.Booking.idempotency_key": "a UUID the client sends",
    "scheduling.Booking.manage_token_hash": "a hash",
    "scheduling.Booking.ics_uid": "a generated id",
    "scheduling.WaitlistEntry.email_hash": "a keyed hash of the encrypted address",
    "scheduling.WaitlistEntry.jurisdiction": "chosen from the jurisdiction list",
    "intake.IntakeResponse.step": "a step name",
    "intake.IntakeResponse.versions": "instrument versions",
    "intake.IntakeResponse.phq9_band": "a computed band",
    "intake.IntakeResponse.gad7_band": "a computed band",
    "intake.IntakeResponse.asq_result": "a computed result",
    "intake.IntakeResponse.consent_version": "a version",
    "visits.Visit.room": "a generated room name",
    "visits.Visit.attested_jurisdiction": "chosen from the jurisdiction list",
    "care.SessionRecord.lot_number": "the lot number printed on the medicine's label",
    "outcomes.RegistrySnapshot.as_of_month": "a month, computed",
    "outcomes.RegistrySnapshot.data": "computed, suppressed aggregates and the definitions' fixed wording",
    "outcomes.RegistrySnapshot.versions": "definition version codes",
}


def test_every_text_column_is_encrypted_or_listed_as_not_typed_text():
    """A new model field a person fills fails here until it is an ``EncryptedTextField`` (or is
    listed above with why it is not typed text). Fields with choices are codes."""
    from django.apps import apps
    from django.db import models

    from clinic.crypto import EncryptedTextField

    plain = []
    for model in apps.get_models():
        if model._meta.app_label in LIBRARY_TABLES:
            continue
        for field in model._meta.concrete_fields:
            text = isinstance(field, models.CharField | models.TextField | models.JSONField)
            if text and not isinstance(field, EncryptedTextField) and not field.choices:
                plain.append(f"{model._meta.label}.{field.name}")
    unlisted = sorted(set(plain) - set(NOT_TYPED))
    assert not unlisted, f"plain text columns: encrypt them or list them in NOT_TYPED: {unlisted}"
    assert not set(NOT_TYPED) - set(plain), "NOT_TYPED lists columns that are gone or encrypted"


def test_the_free_text_fields_people_fill_are_encrypted():
    """The list the README and the privacy note give, checked against the models."""
    from clinic.crypto import encrypted_fields

    encrypted = {f"{model._meta.label}.{name}" for model, names in encrypted_fields() for name in names}
    assert {
        "scheduling.Booking.cancel_reason",
        "scheduling.TimeOff.note",
        "visits.BreakGlass.reason",
        "visits.Visit.attested_address",
        "visits.Visit.callback_phone",
        "visits.ConsultNote.others_present",
        "visits.ConsultNote.reason",
        "visits.ConsultNote.plan",
        "visits.ConsultNote.patient_message",
        "visits.NoteAddendum.text",
        "content.ContactMessage.message",
        "content.ContactMessage.name",
        "intake.IntakeResponse.answers_json",
        "intake.UrgentItem.outcome",
        "accounts.PatientProfile.home_address",
    } <= encrypted
