"""The at-home session's supervisor confirmations and home readings are part of the record, as
its readings are (``0002_session_record_permanent``): append-only from the start, and nothing is
added once the record is signed, on SQLite and PostgreSQL alike. Key rotation may still rewrite
the ciphertext of encrypted columns inside a re-keying transaction (``clinic.rekeying``)."""

from django.db import migrations

from clinic import rekeying

RECORD = "care_sessionrecord"
APPEND_ONLY = (
    ("SupervisorConfirmation", "care_supervisorconfirmation", "supervisor confirmations are append-only"),
    ("HomeReading", "care_homereading", "home readings are append-only"),
)
SIGNED_REFUSAL = "the session record is signed; add an addendum"


def sqlite_up(apps) -> list[str]:
    statements = [rekeying.SQLITE_FLAG_TABLE]
    for model, table, refusal in APPEND_ONLY:
        encrypted, kept = rekeying.columns(apps.get_model("care", model))
        guard = f"WHEN NOT {rekeying.sqlite_rekey_passes(kept)}" if encrypted else ""
        statements += [
            f"""CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} {guard}
                BEGIN SELECT RAISE(ABORT, '{refusal}'); END""",
            f"""CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
                BEGIN SELECT RAISE(ABORT, '{refusal}'); END""",
            f"""CREATE TRIGGER {table}_not_after_signing BEFORE INSERT ON {table}
                WHEN (SELECT signed_at FROM {RECORD} WHERE id = NEW.record_id) IS NOT NULL
                BEGIN SELECT RAISE(ABORT, '{SIGNED_REFUSAL}'); END""",
        ]
    return statements


def sqlite_down() -> list[str]:
    names = []
    for _, table, _ in APPEND_ONLY:
        names += [f"{table}_no_update", f"{table}_no_delete", f"{table}_not_after_signing"]
    return [f"DROP TRIGGER IF EXISTS {name}" for name in names]


def postgres_up(apps) -> list[str]:
    statements = []
    for model, table, refusal in APPEND_ONLY:
        encrypted, _ = rekeying.columns(apps.get_model("care", model))
        rekey = f"IF {rekeying.postgres_rekey_passes(encrypted)} THEN RETURN NEW; END IF;" if encrypted else ""
        statements += [
            f"""CREATE OR REPLACE FUNCTION {table}_refuse() RETURNS trigger AS $$
                BEGIN
                  {rekey}
                  RAISE EXCEPTION '{refusal}';
                END; $$ LANGUAGE plpgsql""",
            f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
                FOR EACH ROW EXECUTE FUNCTION {table}_refuse()""",
            # The function 0002 made for the record's other parts.
            f"""CREATE TRIGGER {table}_not_after_signing BEFORE INSERT ON {table}
                FOR EACH ROW EXECUTE FUNCTION care_record_part_refuse_after_signing()""",
        ]
    return statements


def postgres_down() -> list[str]:
    statements = []
    for _, table, _ in APPEND_ONLY:
        statements += [
            f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
            f"DROP TRIGGER IF EXISTS {table}_not_after_signing ON {table}",
            f"DROP FUNCTION IF EXISTS {table}_refuse()",
        ]
    return statements


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = {"sqlite": sqlite_up, "postgresql": postgres_up}.get(vendor)
    for sql in statements(apps) if statements else []:
        schema_editor.execute(sql)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = {"sqlite": sqlite_down, "postgresql": postgres_down}.get(vendor)
    for sql in statements() if statements else []:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("care", "0004_at_home_supervision")]

    operations = [migrations.RunPython(forwards, backwards)]
