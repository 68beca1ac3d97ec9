"""A patient's signature of the treatment consent and a PDMP check are permanent records: the
database refuses to change or delete them, on SQLite and PostgreSQL alike, except that key
rotation may rewrite the ciphertext of their encrypted columns inside a re-keying transaction
(``clinic.rekeying``). A renewal is a new row."""

from django.db import migrations

from clinic import rekeying

TABLES = {
    "care_treatmentconsentsignature": ("TreatmentConsentSignature", "treatment consent signatures are permanent"),
    "care_pdmpcheck": ("PdmpCheck", "PDMP checks are permanent; record a new check"),
}


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table, (model_name, refusal) in TABLES.items():
        encrypted, kept = rekeying.columns(apps.get_model("care", model_name))
        if vendor == "sqlite":
            schema_editor.execute(rekeying.SQLITE_FLAG_TABLE)
            schema_editor.execute(
                f"""CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
                    WHEN NOT {rekeying.sqlite_rekey_passes(kept)}
                    BEGIN SELECT RAISE(ABORT, '{refusal}'); END"""
            )
            schema_editor.execute(
                f"""CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
                    BEGIN SELECT RAISE(ABORT, '{refusal}'); END"""
            )
        elif vendor == "postgresql":
            schema_editor.execute(
                f"""CREATE OR REPLACE FUNCTION {table}_refuse() RETURNS trigger AS $$
                    BEGIN
                      IF TG_OP = 'UPDATE' AND {rekeying.postgres_rekey_passes(encrypted)} THEN RETURN NEW; END IF;
                      RAISE EXCEPTION '{refusal}';
                    END; $$ LANGUAGE plpgsql"""
            )
            schema_editor.execute(
                f"""CREATE TRIGGER {table}_permanent BEFORE UPDATE OR DELETE ON {table}
                    FOR EACH ROW EXECUTE FUNCTION {table}_refuse()"""
            )


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in TABLES:
        if vendor == "sqlite":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
        elif vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_permanent ON {table}")
            schema_editor.execute(f"DROP FUNCTION IF EXISTS {table}_refuse()")


class Migration(migrations.Migration):
    dependencies = [("care", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
