"""The register is append-only: the database refuses UPDATE and DELETE on lots, entries, waste,
counts, their confirmations and resolutions, on SQLite and PostgreSQL alike. Key rotation may
still rewrite the ciphertext of encrypted columns and nothing else (``clinic.rekeying``).

On SQLite a migration that rebuilds one of these tables (most ALTERs) drops its triggers: such a
migration must create them again."""

from django.db import migrations

from clinic import rekeying

REFUSAL = "the controlled-substance register is append-only; record a correction"
MODELS = ["Lot", "Entry", "WasteRecord", "StockCount", "CountCheck", "Resolution"]


def tables(apps):
    for name in MODELS:
        model = apps.get_model("register", name)
        encrypted, kept = rekeying.columns(model)
        yield model._meta.db_table, encrypted, kept


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(rekeying.SQLITE_FLAG_TABLE)
    for table, encrypted, kept in tables(apps):
        if vendor == "sqlite":
            schema_editor.execute(
                f"""CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
                    WHEN NOT {rekeying.sqlite_rekey_passes(kept)}
                    BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"""
            )
            schema_editor.execute(
                f"""CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
                    BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"""
            )
        elif vendor == "postgresql":
            passes = rekeying.postgres_rekey_passes(encrypted) if encrypted else "false"
            schema_editor.execute(
                f"""CREATE OR REPLACE FUNCTION {table}_refuse() RETURNS trigger AS $$
                    BEGIN
                      IF {passes} THEN RETURN NEW; END IF;
                      RAISE EXCEPTION '{REFUSAL}';
                    END; $$ LANGUAGE plpgsql"""
            )
            schema_editor.execute(
                f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
                    FOR EACH ROW EXECUTE FUNCTION {table}_refuse()"""
            )


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table, _, _ in tables(apps):
        if vendor == "sqlite":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
        elif vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            schema_editor.execute(f"DROP FUNCTION IF EXISTS {table}_refuse()")


class Migration(migrations.Migration):
    dependencies = [("register", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
