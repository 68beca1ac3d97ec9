"""The booking cancel reason and the time-off note are typed by people: encrypted at rest.

The column becomes plain text first (a cipher token is longer than the old limits), existing
rows are encrypted in place, then the field is the encrypted one. Reversing leaves the rows
encrypted (data fixes are not undone)."""

from django.db import migrations, models

import clinic.crypto


def encrypt_existing(apps, schema_editor):
    clinic.crypto.encrypt_plaintext_column(apps.get_model("scheduling", "Booking"), "cancel_reason")
    clinic.crypto.encrypt_plaintext_column(apps.get_model("scheduling", "TimeOff"), "note")


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0006_availability_public_ids")]

    operations = [
        migrations.AlterField(model_name="booking", name="cancel_reason", field=models.TextField(blank=True)),
        migrations.AlterField(model_name="timeoff", name="note", field=models.TextField(blank=True)),
        migrations.RunPython(encrypt_existing, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="booking", name="cancel_reason", field=clinic.crypto.EncryptedTextField(blank=True)
        ),
        migrations.AlterField(
            model_name="timeoff", name="note", field=clinic.crypto.EncryptedTextField(blank=True)
        ),
    ]
