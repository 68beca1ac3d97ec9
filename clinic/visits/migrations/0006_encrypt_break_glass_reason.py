"""The break-glass reason is typed by a clinician and may name clinical detail: encrypted at
rest. Its "not empty" check moves to the action (the database cannot see through the cipher).

The column becomes plain text first, existing rows are encrypted in place, then the field is
the encrypted one. Reversing leaves the rows encrypted (data fixes are not undone)."""

from django.db import migrations, models

import clinic.crypto


def encrypt_existing(apps, schema_editor):
    clinic.crypto.encrypt_plaintext_column(apps.get_model("visits", "BreakGlass"), "reason")


class Migration(migrations.Migration):
    dependencies = [("visits", "0005_layers")]

    operations = [
        migrations.RemoveConstraint(model_name="breakglass", name="breakglass_reason_required"),
        migrations.AlterField(model_name="breakglass", name="reason", field=models.TextField()),
        migrations.RunPython(encrypt_existing, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="breakglass", name="reason", field=clinic.crypto.EncryptedTextField()
        ),
    ]
