"""Key rotation and the append-only tables: every encrypted column is re-encrypted, signed notes
and addenda included, while their triggers still refuse every other change (SQLite and
PostgreSQL alike)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from clinic import crypto, rekeying
from clinic.audit.models import Action, AuditEvent
from clinic.content.models import ContactMessage
from clinic.visits.models import ConsultNote, Decision, NoteAddendum
from clinic.visits.tests.test_workspace import COMPLETE, make_booking, note_url
from tests.support.personas import client_for

PLAN = COMPLETE["plan"]
ADDENDUM = "BP 150/95 reported by patient afterwards"


def raw(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


def rotate(**kwargs: object) -> str:
    out = io.StringIO()
    call_command("rotate_encryption_keys", stdout=out, **kwargs)
    return out.getvalue()


@pytest.fixture
def signed(frozen, open_clinic, patient, django_capture_on_commit_callbacks):
    """A signed note with an addendum, written through the site as a clinician would."""
    booking = make_booking(patient, django_capture_on_commit_callbacks)
    doctor = client_for(open_clinic)
    doctor.post(note_url("note_save", booking), COMPLETE)
    with django_capture_on_commit_callbacks(execute=True):
        doctor.post(note_url("note_sign", booking))
    doctor.post(note_url("note_addendum", booking), {"text": ADDENDUM})
    note = ConsultNote.objects.get()
    assert note.is_signed and NoteAddendum.objects.filter(note=note).count() == 1
    return note


@pytest.fixture
def new_key(settings):
    """The new key first, the old one kept after it, as the rotation procedure says."""
    old, new = settings.FIELD_ENCRYPTION_KEYS[0], Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new, old]
    return new


def refused(statement: str, params: list) -> bool:
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, params)
    except DatabaseError:
        return True
    return False


# Rotation with signed notes and addenda ------------------------------------------------------


@pytest.mark.django_db
def test_rotation_reencrypts_signed_notes_and_addenda_and_the_old_key_can_go(signed, new_key, settings):
    addendum = NoteAddendum.objects.get()
    message = ContactMessage.objects.create(
        received_at=timezone.now(), name="Rae", email="rae@example.org", message="Hello"
    )
    before = {
        "plan": raw("visits_consultnote", "plan", signed.pk),
        "text": raw("visits_noteaddendum", "text", addendum.pk),
        "message": raw("content_contactmessage", "message", message.pk),
    }
    signed_at, decision = signed.signed_at, signed.decision

    output = rotate()
    assert "visits.ConsultNote: 1 rows re-encrypted" in output
    assert "visits.NoteAddendum: 1 rows re-encrypted" in output
    after = {
        "plan": raw("visits_consultnote", "plan", signed.pk),
        "text": raw("visits_noteaddendum", "text", addendum.pk),
        "message": raw("content_contactmessage", "message", message.pk),
    }
    only_new = Fernet(new_key.encode())
    for name in before:
        assert after[name] != before[name], name
        only_new.decrypt(after[name].encode())  # under the new key alone

    # The old key removed: the same plaintext, and nothing else about the note changed.
    settings.FIELD_ENCRYPTION_KEYS = [new_key]
    note = ConsultNote.objects.get(pk=signed.pk)
    assert note.plan == PLAN and note.reason == COMPLETE["reason"]
    assert note.patient_message == COMPLETE["patient_message"]
    assert (note.signed_at, note.decision) == (signed_at, decision)
    assert NoteAddendum.objects.get(pk=addendum.pk).text == ADDENDUM
    assert ContactMessage.objects.get(pk=message.pk).message == "Hello"
    assert AuditEvent.objects.filter(action=Action.KEYS_ROTATED).count() == 1
    # The flag does not outlive the rotation.
    assert not rekeying.rekeying_in_progress()


@pytest.mark.django_db
def test_a_signed_note_is_still_refused_an_ordinary_update_after_rotation(signed, new_key):
    rotate()
    with pytest.raises(DatabaseError, match="signed notes are permanent"), transaction.atomic():
        ConsultNote.objects.filter(pk=signed.pk).update(plan="rewritten")
    with pytest.raises(DatabaseError, match="signed notes are permanent"), transaction.atomic():
        ConsultNote.objects.filter(pk=signed.pk).update(decision=Decision.NOT_SUITABLE)
    with pytest.raises(DatabaseError), transaction.atomic():
        ConsultNote.objects.filter(pk=signed.pk).delete()
    with pytest.raises(DatabaseError, match="addenda are append-only"), transaction.atomic():
        NoteAddendum.objects.update(text="x")
    with pytest.raises(DatabaseError), transaction.atomic():
        NoteAddendum.objects.all().delete()


@pytest.mark.django_db
def test_during_rekeying_only_ciphertext_may_change(signed, new_key):
    addendum = NoteAddendum.objects.get()
    token = raw("visits_consultnote", "plan", signed.pk)
    with rekeying.rekeying():
        assert rekeying.rekeying_in_progress()
        # Any other column of a signed note or an addendum is still refused...
        for column, value in [
            ("decision", Decision.NOT_SUITABLE.value),
            ("signed_at", None),
            ("author_id", signed.patient_id),
            ("location_confirmed", False),
            ("updated_at", timezone.now() + dt.timedelta(days=1)),
        ]:
            assert refused(
                f"UPDATE visits_consultnote SET {column} = %s WHERE id = %s",  # noqa: S608
                [value, signed.pk],
            ), column
        assert refused(
            "UPDATE visits_consultnote SET plan = %s, decision = %s WHERE id = %s",
            [crypto.rotate(token), Decision.MORE_INFO.value, signed.pk],
        )
        assert refused(
            "UPDATE visits_noteaddendum SET created_at = %s WHERE id = %s",
            [timezone.now() + dt.timedelta(days=1), addendum.pk],
        )
        assert refused("UPDATE visits_noteaddendum SET note_id = note_id + 1 WHERE id = %s", [addendum.pk])
        # ...deleting too, and the audit log takes no change at all.
        assert refused("DELETE FROM visits_consultnote WHERE id = %s", [signed.pk])
        assert refused("DELETE FROM visits_noteaddendum WHERE id = %s", [addendum.pk])
        assert refused("UPDATE audit_auditevent SET reason = %s", ["x"])
        # The ciphertext alone may be rewritten.
        assert not refused(
            "UPDATE visits_consultnote SET plan = %s WHERE id = %s", [crypto.rotate(token), signed.pk]
        )
    assert not rekeying.rekeying_in_progress()
    assert ConsultNote.objects.get(pk=signed.pk).decision == Decision.SUITABLE
    assert ConsultNote.objects.get(pk=signed.pk).plan == PLAN


@pytest.mark.django_db
def test_the_flag_ends_with_its_transaction_even_when_it_fails(signed, new_key):
    with pytest.raises(RuntimeError), rekeying.rekeying():
        raise RuntimeError("rotation failed half-way")
    assert not rekeying.rekeying_in_progress()
    with pytest.raises(DatabaseError), transaction.atomic():
        ConsultNote.objects.filter(pk=signed.pk).update(plan="rewritten")


@pytest.mark.django_db
def test_a_table_that_fails_is_rolled_back_whole_and_nothing_is_half_done(signed, new_key, settings):
    addendum = NoteAddendum.objects.get()
    stray = Fernet(Fernet.generate_key()).encrypt(b"under a key nobody has").decode()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO clinic_rekeying (id) VALUES (1)"
            if connection.vendor == "sqlite"
            else "SELECT set_config('mendwell.rekeying', 'on', true)"
        )
        cursor.execute("UPDATE visits_noteaddendum SET text = %s WHERE id = %s", [stray, addendum.pk])
        cursor.execute(
            "DELETE FROM clinic_rekeying"
            if connection.vendor == "sqlite"
            else "SELECT set_config('mendwell.rekeying', 'off', true)"
        )
    before = raw("visits_consultnote", "plan", signed.pk)
    with pytest.raises(CommandError, match="NoteAddendum row"):
        rotate()
    assert raw("visits_noteaddendum", "text", addendum.pk) == stray
    assert not rekeying.rekeying_in_progress()
    # Tables before it were done; the note is readable under either key still.
    assert ConsultNote.objects.get(pk=signed.pk).plan == PLAN
    assert raw("visits_consultnote", "plan", signed.pk) != before
    assert not AuditEvent.objects.filter(action=Action.KEYS_ROTATED).exists()


@pytest.mark.django_db
def test_rotation_twice_is_harmless(signed, new_key, settings):
    rotate()
    rotate()
    settings.FIELD_ENCRYPTION_KEYS = [new_key]
    assert ConsultNote.objects.get(pk=signed.pk).plan == PLAN
    assert NoteAddendum.objects.get().text == ADDENDUM


# Every append-only table with encrypted columns can be re-keyed --------------------------------


@pytest.mark.django_db
def test_every_encrypted_table_with_update_triggers_reads_the_rekeying_flag():
    tables = [model._meta.db_table for model, _ in crypto.encrypted_fields()]
    assert rekeying.tables_without_rekey_path(connection, tables) == []
    guarded = [t for t in tables if rekeying.update_triggers(connection, t)]
    assert {"visits_consultnote", "visits_noteaddendum"} <= set(guarded)


@pytest.mark.django_db
def test_the_triggers_cover_every_column_the_models_have_now():
    """A column added later must be protected during re-keying too: on SQLite the trigger lists
    every column that is not encrypted, on PostgreSQL it names exactly the encrypted ones."""
    for model in (ConsultNote, NoteAddendum):
        encrypted, kept = rekeying.columns(model)
        (source,) = rekeying.update_triggers(connection, model._meta.db_table)
        if connection.vendor == "sqlite":
            for column in kept:
                assert f'NEW."{column}" IS OLD."{column}"' in source, (model, column)
            for column in encrypted:
                assert f'NEW."{column}"' not in source, (model, column)
        else:
            names = ", ".join(f"'{c}'" for c in encrypted)
            assert f"ARRAY[{names}]::text[]" in source, model


@pytest.mark.django_db
def test_rotation_refuses_to_start_when_an_encrypted_table_cannot_be_rekeyed(signed, new_key):
    """As a later app's table would be if its triggers forgot the flag."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "CREATE TRIGGER test_contact_frozen BEFORE UPDATE ON content_contactmessage "
                "BEGIN SELECT RAISE(ABORT, 'frozen'); END"
            )
        else:
            cursor.execute(
                "CREATE FUNCTION test_contact_frozen() RETURNS trigger AS $$ "
                "BEGIN RAISE EXCEPTION 'frozen'; END; $$ LANGUAGE plpgsql"
            )
            cursor.execute(
                "CREATE TRIGGER test_contact_frozen BEFORE UPDATE ON content_contactmessage "
                "FOR EACH ROW EXECUTE FUNCTION test_contact_frozen()"
            )
    before = raw("visits_consultnote", "plan", signed.pk)
    with pytest.raises(CommandError, match="content_contactmessage"):
        rotate()
    assert raw("visits_consultnote", "plan", signed.pk) == before


# Another connection during a rotation --------------------------------------------------------


@pytest.mark.django_db
def test_another_session_does_not_see_the_flag_while_a_rotation_runs(signed, new_key):
    """PostgreSQL: the flag is this transaction's own. A second session, while a re-keying is in
    progress here, runs the real note trigger function on a table of its own and is refused."""
    if connection.vendor != "postgresql":
        pytest.skip(
            "SQLite lets one connection write at a time: while the rotation's transaction is open, "
            "no other connection can start a write at all, and its flag row is never committed."
        )
    import psycopg

    params = connection.get_connection_params()
    other = psycopg.connect(
        **{k: v for k, v in params.items() if k in {"dbname", "host", "port", "user", "password"}}
    )
    try:
        cursor = other.cursor()
        cursor.execute("CREATE TEMP TABLE notes AS SELECT * FROM visits_consultnote WITH NO DATA")
        cursor.execute(
            "CREATE TRIGGER notes_permanent BEFORE UPDATE OR DELETE ON notes "
            "FOR EACH ROW EXECUTE FUNCTION visits_note_refuse_signed()"
        )
        cursor.execute("INSERT INTO notes (id, signed_at, plan, decision) VALUES (1, now(), 'a', 'suitable')")
        other.commit()
        with rekeying.rekeying():
            assert rekeying.rekeying_in_progress()
            cursor.execute("SELECT coalesce(current_setting('mendwell.rekeying', true), '')")
            assert cursor.fetchone() != ("on",)
            with pytest.raises(psycopg.errors.RaiseException, match="signed notes are permanent"):
                cursor.execute("UPDATE notes SET plan = 'b' WHERE id = 1")
            other.rollback()
        # The same update passes in that session only under its own flag: the test can fail.
        cursor.execute("SELECT set_config('mendwell.rekeying', 'on', true)")
        cursor.execute("UPDATE notes SET plan = 'b' WHERE id = 1")
        assert cursor.rowcount == 1
        other.rollback()
    finally:
        other.close()
