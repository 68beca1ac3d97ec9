"""The waitlist's addresses are encrypted; one entry per person and jurisdiction while waiting is
kept by a keyed hash of the address instead of the address itself."""

from django.db import migrations, models
from django.db.models import Q

import clinic.crypto
from clinic.scheduling.models import email_key


def hash_and_encrypt(apps, schema_editor):
    WaitlistEntry = apps.get_model("scheduling", "WaitlistEntry")
    for row in WaitlistEntry._base_manager.values("pk", "email").iterator(chunk_size=500):
        WaitlistEntry._base_manager.filter(pk=row["pk"]).update(email_hash=email_key(row["email"]))
    clinic.crypto.encrypt_plaintext_column(WaitlistEntry, "email")


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0010_treatment_sessions")]

    operations = [
        migrations.RemoveConstraint(model_name="waitlistentry", name="waitlist_once_while_waiting"),
        migrations.AddField(
            model_name="waitlistentry", name="email_hash", field=models.CharField(default="", max_length=64)
        ),
        # A plain text column first (a Fernet token is longer than an address), then encrypted.
        migrations.AlterField(model_name="waitlistentry", name="email", field=models.TextField()),
        migrations.RunPython(hash_and_encrypt, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="waitlistentry", name="email", field=clinic.crypto.EncryptedTextField()
        ),
        migrations.AlterField(
            model_name="waitlistentry", name="email_hash", field=models.CharField(max_length=64)
        ),
        migrations.AddConstraint(
            model_name="waitlistentry",
            constraint=models.UniqueConstraint(
                condition=Q(notified_at__isnull=True),
                fields=("email_hash", "jurisdiction"),
                name="waitlist_once_while_waiting",
            ),
        ),
    ]
