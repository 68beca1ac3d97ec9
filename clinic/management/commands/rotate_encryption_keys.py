"""Re-encrypt every encrypted value under the newest key in FIELD_ENCRYPTION_KEYS.

Rotation: put the new key first in FIELD_ENCRYPTION_KEYS (keep the old ones after it), deploy,
run this command, then remove the old keys.
"""

from allauth.mfa.models import Authenticator
from django.core.management.base import BaseCommand
from django.db import transaction

from clinic import crypto
from clinic.audit.actions import audit_record
from clinic.audit.models import Action


class Command(BaseCommand):
    help = "Re-encrypt all encrypted fields (and MFA secrets) under the newest key."

    def handle(self, *args: object, **options: object) -> None:
        total = 0
        for model, fields in crypto.encrypted_fields():
            count = 0
            # Reading decrypts with whichever key matches; saving encrypts with the newest.
            for obj in model._base_manager.only("pk", *fields).iterator(chunk_size=500):
                with transaction.atomic():
                    obj.save(update_fields=fields)
                count += 1
            self.stdout.write(f"{model._meta.label}: {count} rows re-encrypted")
            total += count
        count = 0
        for auth in Authenticator.objects.filter(type=Authenticator.Type.TOTP).iterator():
            auth.data["secret"] = crypto.rotate(auth.data["secret"])
            auth.save(update_fields=["data"])
            count += 1
        for auth in Authenticator.objects.filter(type=Authenticator.Type.RECOVERY_CODES).iterator():
            auth.data["seed"] = crypto.rotate(auth.data["seed"])
            auth.save(update_fields=["data"])
            count += 1
        self.stdout.write(f"mfa.Authenticator: {count} secrets re-encrypted")
        with transaction.atomic():
            audit_record(
                action=Action.KEYS_ROTATED, actor_label="manage.py", reason=f"{total + count} values"
            )
        self.stdout.write(self.style.SUCCESS("Done. Old keys can now be removed from FIELD_ENCRYPTION_KEYS."))
