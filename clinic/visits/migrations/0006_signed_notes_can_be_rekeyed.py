"""Signed notes and addenda stay permanent, except that key rotation may rewrite the ciphertext
of their encrypted columns (and nothing else) inside a re-keying transaction
(``clinic.rekeying``). Deleting is refused as before."""

from django.db import migrations

from clinic import rekeying

NOTE_REFUSAL = "signed notes are permanent; add an addendum"
ADDENDUM_REFUSAL = "addenda are append-only"

SQLITE_OLD = {
    "visits_note_signed_no_update": f"""CREATE TRIGGER visits_note_signed_no_update BEFORE UPDATE ON visits_consultnote
       WHEN OLD.signed_at IS NOT NULL
       BEGIN SELECT RAISE(ABORT, '{NOTE_REFUSAL}'); END""",
    "visits_addendum_no_update": f"""CREATE TRIGGER visits_addendum_no_update BEFORE UPDATE ON visits_noteaddendum
       BEGIN SELECT RAISE(ABORT, '{ADDENDUM_REFUSAL}'); END""",
}
POSTGRES_OLD = [
    f"""CREATE OR REPLACE FUNCTION visits_note_refuse_signed() RETURNS trigger AS $$
       BEGIN
         IF OLD.signed_at IS NOT NULL THEN
           RAISE EXCEPTION '{NOTE_REFUSAL}';
         END IF;
         IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
         RETURN NEW;
       END; $$ LANGUAGE plpgsql""",
    f"""CREATE OR REPLACE FUNCTION visits_addendum_refuse() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION '{ADDENDUM_REFUSAL}'; END; $$ LANGUAGE plpgsql""",
]


def sqlite_new(apps) -> dict[str, str]:
    _, note_kept = rekeying.columns(apps.get_model("visits", "ConsultNote"))
    _, addendum_kept = rekeying.columns(apps.get_model("visits", "NoteAddendum"))
    return {
        "visits_note_signed_no_update": f"""CREATE TRIGGER visits_note_signed_no_update BEFORE UPDATE ON visits_consultnote
           WHEN OLD.signed_at IS NOT NULL AND NOT {rekeying.sqlite_rekey_passes(note_kept)}
           BEGIN SELECT RAISE(ABORT, '{NOTE_REFUSAL}'); END""",
        "visits_addendum_no_update": f"""CREATE TRIGGER visits_addendum_no_update BEFORE UPDATE ON visits_noteaddendum
           WHEN NOT {rekeying.sqlite_rekey_passes(addendum_kept)}
           BEGIN SELECT RAISE(ABORT, '{ADDENDUM_REFUSAL}'); END""",
    }


def postgres_new(apps) -> list[str]:
    note_encrypted, _ = rekeying.columns(apps.get_model("visits", "ConsultNote"))
    addendum_encrypted, _ = rekeying.columns(apps.get_model("visits", "NoteAddendum"))
    return [
        f"""CREATE OR REPLACE FUNCTION visits_note_refuse_signed() RETURNS trigger AS $$
           BEGIN
             IF OLD.signed_at IS NOT NULL THEN
               IF {rekeying.postgres_rekey_passes(note_encrypted)} THEN RETURN NEW; END IF;
               RAISE EXCEPTION '{NOTE_REFUSAL}';
             END IF;
             IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
             RETURN NEW;
           END; $$ LANGUAGE plpgsql""",
        f"""CREATE OR REPLACE FUNCTION visits_addendum_refuse() RETURNS trigger AS $$
           BEGIN
             IF {rekeying.postgres_rekey_passes(addendum_encrypted)} THEN RETURN NEW; END IF;
             RAISE EXCEPTION '{ADDENDUM_REFUSAL}';
           END; $$ LANGUAGE plpgsql""",
    ]


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(rekeying.SQLITE_FLAG_TABLE)
        for name, sql in sqlite_new(apps).items():
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")
            schema_editor.execute(sql)
    elif vendor == "postgresql":
        for sql in postgres_new(apps):
            schema_editor.execute(sql)


def backwards(apps, schema_editor):
    # The flag table stays: other apps' triggers may read it, and it is empty between rotations.
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for name, sql in SQLITE_OLD.items():
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")
            schema_editor.execute(sql)
    elif vendor == "postgresql":
        for sql in POSTGRES_OLD:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("visits", "0005_layers")]

    operations = [migrations.RunPython(forwards, backwards)]
