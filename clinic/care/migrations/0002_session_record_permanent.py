"""A signed session record is permanent, on SQLite and PostgreSQL alike: the database refuses to
change or delete it and refuses new readings, observations or adverse events for it. Readings,
observations, adverse events, addenda and REMS submissions are append-only from the start.
Key rotation may still rewrite the ciphertext of encrypted columns (and nothing else) inside a
re-keying transaction (``clinic.rekeying``), as for the consultation notes."""

from django.db import migrations

from clinic import rekeying

RECORD = "care_sessionrecord"
RECORD_REFUSAL = "signed session records are permanent; add an addendum"
# Tables that only ever grow: (model, table, the words of the refusal).
APPEND_ONLY = (
    ("VitalSigns", "care_vitalsigns", "session vital signs are append-only"),
    ("Observation", "care_observation", "session observations are append-only"),
    ("AdverseEvent", "care_adverseevent", "session adverse events are append-only"),
    ("SessionAddendum", "care_sessionaddendum", "session addenda are append-only"),
    ("RemsSubmission", "care_remssubmission", "REMS submissions are append-only"),
)
# Of those, the ones that belong to the record itself: nothing is added once it is signed.
PART_OF_RECORD = ("care_vitalsigns", "care_observation", "care_adverseevent")
SIGNED_REFUSAL = "the session record is signed; add an addendum"


def _sqlite_update_guard(kept: list[str], encrypted: list[str]) -> str:
    # A table without encrypted columns has nothing for a rotation to rewrite.
    return f"AND NOT {rekeying.sqlite_rekey_passes(kept)}" if encrypted else ""


def sqlite_up(apps) -> list[str]:
    encrypted, kept = rekeying.columns(apps.get_model("care", "SessionRecord"))
    statements = [
        rekeying.SQLITE_FLAG_TABLE,
        f"""CREATE TRIGGER care_record_signed_no_update BEFORE UPDATE ON {RECORD}
            WHEN OLD.signed_at IS NOT NULL {_sqlite_update_guard(kept, encrypted)}
            BEGIN SELECT RAISE(ABORT, '{RECORD_REFUSAL}'); END""",
        f"""CREATE TRIGGER care_record_signed_no_delete BEFORE DELETE ON {RECORD}
            WHEN OLD.signed_at IS NOT NULL
            BEGIN SELECT RAISE(ABORT, '{RECORD_REFUSAL}'); END""",
    ]
    for model, table, refusal in APPEND_ONLY:
        encrypted, kept = rekeying.columns(apps.get_model("care", model))
        guard = f"WHEN NOT {rekeying.sqlite_rekey_passes(kept)}" if encrypted else ""
        statements += [
            f"""CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} {guard}
                BEGIN SELECT RAISE(ABORT, '{refusal}'); END""",
            f"""CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
                BEGIN SELECT RAISE(ABORT, '{refusal}'); END""",
        ]
    for table in PART_OF_RECORD:
        statements.append(
            f"""CREATE TRIGGER {table}_not_after_signing BEFORE INSERT ON {table}
                WHEN (SELECT signed_at FROM {RECORD} WHERE id = NEW.record_id) IS NOT NULL
                BEGIN SELECT RAISE(ABORT, '{SIGNED_REFUSAL}'); END"""
        )
    return statements


def sqlite_down() -> list[str]:
    names = ["care_record_signed_no_update", "care_record_signed_no_delete"]
    for _, table, _ in APPEND_ONLY:
        names += [f"{table}_no_update", f"{table}_no_delete"]
    names += [f"{table}_not_after_signing" for table in PART_OF_RECORD]
    return [f"DROP TRIGGER IF EXISTS {name}" for name in names]


def _pg_rekey(encrypted: list[str]) -> str:
    return f"IF {rekeying.postgres_rekey_passes(encrypted)} THEN RETURN NEW; END IF;" if encrypted else ""


def postgres_up(apps) -> list[str]:
    encrypted, _ = rekeying.columns(apps.get_model("care", "SessionRecord"))
    statements = [
        f"""CREATE OR REPLACE FUNCTION care_record_refuse_signed() RETURNS trigger AS $$
            BEGIN
              IF OLD.signed_at IS NOT NULL THEN
                {_pg_rekey(encrypted)}
                RAISE EXCEPTION '{RECORD_REFUSAL}';
              END IF;
              IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
              RETURN NEW;
            END; $$ LANGUAGE plpgsql""",
        f"""CREATE TRIGGER care_record_signed_permanent BEFORE UPDATE OR DELETE ON {RECORD}
            FOR EACH ROW EXECUTE FUNCTION care_record_refuse_signed()""",
        f"""CREATE OR REPLACE FUNCTION care_record_part_refuse_after_signing() RETURNS trigger AS $$
            BEGIN
              IF EXISTS (SELECT 1 FROM {RECORD} WHERE id = NEW.record_id AND signed_at IS NOT NULL) THEN
                RAISE EXCEPTION '{SIGNED_REFUSAL}';
              END IF;
              RETURN NEW;
            END; $$ LANGUAGE plpgsql""",
    ]
    for model, table, refusal in APPEND_ONLY:
        encrypted, _ = rekeying.columns(apps.get_model("care", model))
        statements += [
            f"""CREATE OR REPLACE FUNCTION {table}_refuse() RETURNS trigger AS $$
                BEGIN
                  {_pg_rekey(encrypted)}
                  RAISE EXCEPTION '{refusal}';
                END; $$ LANGUAGE plpgsql""",
            f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
                FOR EACH ROW EXECUTE FUNCTION {table}_refuse()""",
        ]
    for table in PART_OF_RECORD:
        statements.append(
            f"""CREATE TRIGGER {table}_not_after_signing BEFORE INSERT ON {table}
                FOR EACH ROW EXECUTE FUNCTION care_record_part_refuse_after_signing()"""
        )
    return statements


def postgres_down() -> list[str]:
    statements = [f"DROP TRIGGER IF EXISTS care_record_signed_permanent ON {RECORD}"]
    for _, table, _ in APPEND_ONLY:
        statements.append(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
    statements += [f"DROP TRIGGER IF EXISTS {table}_not_after_signing ON {table}" for table in PART_OF_RECORD]
    statements += ["DROP FUNCTION IF EXISTS care_record_refuse_signed()"]
    statements += ["DROP FUNCTION IF EXISTS care_record_part_refuse_after_signing()"]
    statements += [f"DROP FUNCTION IF EXISTS {table}_refuse()" for _, table, _ in APPEND_ONLY]
    return statements


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = {"sqlite": sqlite_up, "postgresql": postgres_up}.get(vendor)
    for sql in statements(apps) if statements else []:
        schema_editor.execute(sql)


def backwards(apps, schema_editor):
    # The flag table stays: other apps' triggers read it too.
    vendor = schema_editor.connection.vendor
    statements = {"sqlite": sqlite_down, "postgresql": postgres_down}.get(vendor)
    for sql in statements() if statements else []:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("care", "0002_session_record")]

    operations = [migrations.RunPython(forwards, backwards)]
