"""On PostgreSQL, two active bookings of one clinician can never overlap, buffers included: an
exclusion constraint over (clinician, [blocked_start, blocked_end)). SQLite has no such
constraint; there the booking transaction is IMMEDIATE and re-checks (scheduling.actions)."""

from django.db import migrations

UP = [
    "CREATE EXTENSION IF NOT EXISTS btree_gist",
    """ALTER TABLE scheduling_booking ADD CONSTRAINT booking_no_overlap
       EXCLUDE USING gist (clinician_id WITH =, tstzrange(blocked_start, blocked_end, '[)') WITH &&)
       WHERE (status = 'confirmed')""",
]
DOWN = ["ALTER TABLE scheduling_booking DROP CONSTRAINT IF EXISTS booking_no_overlap"]


def run(statements):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for sql in statements:
                schema_editor.execute(sql)

    return apply


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0002_seed_appointment_types")]

    operations = [migrations.RunPython(run(UP), run(DOWN))]
