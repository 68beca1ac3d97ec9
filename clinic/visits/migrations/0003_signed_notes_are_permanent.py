"""A signed note cannot be changed or deleted, and an addendum cannot be changed or deleted at
all: the database refuses, on SQLite and PostgreSQL alike."""

from django.db import migrations

SQLITE_UP = [
    """CREATE TRIGGER visits_note_signed_no_update BEFORE UPDATE ON visits_consultnote
       WHEN OLD.signed_at IS NOT NULL
       BEGIN SELECT RAISE(ABORT, 'signed notes are permanent; add an addendum'); END""",
    """CREATE TRIGGER visits_note_signed_no_delete BEFORE DELETE ON visits_consultnote
       WHEN OLD.signed_at IS NOT NULL
       BEGIN SELECT RAISE(ABORT, 'signed notes are permanent'); END""",
    """CREATE TRIGGER visits_addendum_no_update BEFORE UPDATE ON visits_noteaddendum
       BEGIN SELECT RAISE(ABORT, 'addenda are append-only'); END""",
    """CREATE TRIGGER visits_addendum_no_delete BEFORE DELETE ON visits_noteaddendum
       BEGIN SELECT RAISE(ABORT, 'addenda are append-only'); END""",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS visits_note_signed_no_update",
    "DROP TRIGGER IF EXISTS visits_note_signed_no_delete",
    "DROP TRIGGER IF EXISTS visits_addendum_no_update",
    "DROP TRIGGER IF EXISTS visits_addendum_no_delete",
]
POSTGRES_UP = [
    """CREATE OR REPLACE FUNCTION visits_note_refuse_signed() RETURNS trigger AS $$
       BEGIN
         IF OLD.signed_at IS NOT NULL THEN
           RAISE EXCEPTION 'signed notes are permanent; add an addendum';
         END IF;
         IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
         RETURN NEW;
       END; $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER visits_note_signed_permanent BEFORE UPDATE OR DELETE ON visits_consultnote
       FOR EACH ROW EXECUTE FUNCTION visits_note_refuse_signed()""",
    """CREATE OR REPLACE FUNCTION visits_addendum_refuse() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'addenda are append-only'; END; $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER visits_addendum_append_only BEFORE UPDATE OR DELETE ON visits_noteaddendum
       FOR EACH ROW EXECUTE FUNCTION visits_addendum_refuse()""",
]
POSTGRES_DOWN = [
    "DROP TRIGGER IF EXISTS visits_note_signed_permanent ON visits_consultnote",
    "DROP TRIGGER IF EXISTS visits_addendum_append_only ON visits_noteaddendum",
    "DROP FUNCTION IF EXISTS visits_note_refuse_signed()",
    "DROP FUNCTION IF EXISTS visits_addendum_refuse()",
]


def run(statements_by_vendor):
    def apply(apps, schema_editor):
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return apply


class Migration(migrations.Migration):
    dependencies = [("visits", "0002_consultnote_noteaddendum_and_more")]

    operations = [
        migrations.RunPython(
            run({"sqlite": SQLITE_UP, "postgresql": POSTGRES_UP}),
            run({"sqlite": SQLITE_DOWN, "postgresql": POSTGRES_DOWN}),
        )
    ]
