"""A signed session record is permanent in the database itself (SQLite and PostgreSQL alike):
raw SQL cannot change or delete it or add readings to it; readings, observations, events and
addenda are append-only from the start; key rotation still re-encrypts them."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from clinic import rekeying
from clinic.care import session_actions as actions
from clinic.care.models.sessions import (
    AdverseEvent,
    Observation,
    SessionAddendum,
    SessionRecord,
    VitalSigns,
)
from tests.support.treatment_session import make_session

pytestmark = pytest.mark.django_db

NORMAL = {"systolic": 124, "diastolic": 78, "heart_rate": 72, "spo2": 98}


def refused(statement: str, params: list | None = None) -> bool:
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, params or [])
    except DatabaseError:
        return True
    return False


def recorded(frozen, session, clinician, nurse) -> SessionRecord:
    """A complete record, written through the actions, not yet signed."""
    now = timezone.now
    actions.do_record_vitals(actor=nurse, session=session, when="pre_dose", taken_at=now(), **NORMAL)
    actions.do_record_dose(
        actor=clinician, session=session, dose_mg=56, lot_number="LOT-1", dosed_at=now(), hold_reason=""
    )
    frozen.shift(dt.timedelta(minutes=40))
    actions.do_record_vitals(actor=nurse, session=session, when="post_dose", taken_at=now(), **NORMAL)
    check = {"moaas": 5, "cadss_form": "short_6", "cadss_score": 1, "spo2": 97, "respiratory_event": False}
    actions.do_record_observation(actor=nurse, session=session, when="post_dose", taken_at=now(), **check)
    actions.do_record_adverse_event(
        actor=nurse,
        session=session,
        kind="headache",
        severity="mild",
        serious=False,
        action_taken="Water and rest",
        outcome="Resolved",
        noted_at=now(),
    )
    frozen.shift(dt.timedelta(minutes=80))
    actions.do_record_vitals(actor=nurse, session=session, when="discharge", taken_at=now(), **NORMAL)
    actions.do_record_observation(actor=nurse, session=session, when="discharge", taken_at=now(), **check)
    everything = {name: True for name, _ in actions.CHECKLIST}
    actions.do_discharge(actor=nurse, session=session, checklist=everything)
    return SessionRecord.objects.get(session=session)


@pytest.fixture
def signed(frozen, clinician, nurse, patient, staff):
    session = make_session(patient=patient, clinician=clinician, staff=staff, nurse=nurse)
    record = recorded(frozen, session, clinician, nurse)
    with pytest.raises(actions.NotAllowed):
        actions.do_sign(actor=nurse, session=session)
    actions.do_sign(actor=clinician, session=session)
    actions.do_add_addendum(actor=clinician, session=session, text="Escort was the patient's sister")
    record.refresh_from_db()
    assert record.is_signed
    return record


def test_an_unsigned_record_is_refused_signing_while_anything_is_missing(
    frozen, clinician, nurse, patient, staff
):
    session = make_session(patient=patient, clinician=clinician, staff=staff, nurse=nurse)
    actions.do_record_vitals(actor=nurse, session=session, when="pre_dose", taken_at=timezone.now(), **NORMAL)
    with pytest.raises(actions.RecordError) as refusal:
        actions.do_sign(actor=clinician, session=session)
    assert refusal.value.problems[0] == "The dose given and its time"
    assert not SessionRecord.objects.get(session=session).is_signed


def test_a_signed_record_refuses_update_and_delete(signed):
    table = "care_sessionrecord"
    assert refused(f"UPDATE {table} SET lot_number = 'X' WHERE id = %s", [signed.pk])  # noqa: S608
    assert refused(f"UPDATE {table} SET signed_at = NULL WHERE id = %s", [signed.pk])  # noqa: S608
    assert refused(f"DELETE FROM {table} WHERE id = %s", [signed.pk])  # noqa: S608
    signed.refresh_from_db()
    assert signed.lot_number == "LOT-1" and signed.is_signed


def test_its_readings_events_and_addenda_refuse_update_delete_and_new_rows(signed, nurse):
    for model, column, value in (
        (VitalSigns, "systolic", "200"),
        (Observation, "moaas", "0"),
        (AdverseEvent, "severity", "'severe'"),
        (SessionAddendum, "created_at", "created_at"),
    ):
        table = model._meta.db_table
        row = model.objects.filter(record=signed).first()
        assert row is not None, model
        assert refused(f"UPDATE {table} SET {column} = {value} WHERE id = %s", [row.pk]), table  # noqa: S608
        assert refused(f"DELETE FROM {table} WHERE id = %s", [row.pk]), table  # noqa: S608
    now = timezone.now()
    assert refused(
        'INSERT INTO care_vitalsigns (public_id, record_id, "when", taken_at, systolic, diastolic,'
        " heart_rate, spo2, recorded_by_id, recorded_at)"
        " VALUES (%s, %s, 'other', %s, 120, 80, 70, 98, %s, %s)",
        ["7f0b8a9e-3c4d-4e5f-8a6b-7c8d9e0f1a2b", signed.pk, now, nurse.pk, now],
    )
    assert VitalSigns.objects.filter(record=signed).count() == 3


def test_an_unsigned_record_may_still_be_written_but_its_readings_never_change(
    frozen, clinician, nurse, patient, staff
):
    session = make_session(patient=patient, clinician=clinician, staff=staff, nurse=nurse)
    vitals = actions.do_record_vitals(
        actor=nurse, session=session, when="pre_dose", taken_at=timezone.now(), **NORMAL
    )
    record = SessionRecord.objects.get(session=session)
    assert not refused("UPDATE care_sessionrecord SET lot_number = 'L2' WHERE id = %s", [record.pk])
    assert refused("UPDATE care_vitalsigns SET systolic = 200 WHERE id = %s", [vitals.pk])


def test_rotation_reencrypts_a_signed_record_and_its_parts(signed, settings):
    old = settings.FIELD_ENCRYPTION_KEYS[0]
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), old]
    event = AdverseEvent.objects.get(record=signed)

    def stored(table: str, column: str, pk: int) -> str:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608
            return cursor.fetchone()[0]

    before = stored("care_adverseevent", "action_taken", event.pk)
    call_command("rotate_encryption_keys", stdout=io.StringIO())
    assert stored("care_adverseevent", "action_taken", event.pk) != before
    settings.FIELD_ENCRYPTION_KEYS = settings.FIELD_ENCRYPTION_KEYS[:1]
    event.refresh_from_db()
    assert event.action_taken == "Water and rest"
    signed.refresh_from_db()
    assert signed.is_signed
    assert refused("UPDATE care_sessionrecord SET lot_number = 'X' WHERE id = %s", [signed.pk])


def test_every_encrypted_session_table_can_be_rekeyed():
    tables = ["care_sessionrecord", "care_observation", "care_adverseevent", "care_sessionaddendum"]
    assert all(rekeying.update_triggers(connection, t) for t in tables)
    assert rekeying.tables_without_rekey_path(connection, tables) == []
