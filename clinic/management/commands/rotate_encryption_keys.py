"""Re-encrypt every encrypted value under the newest key in FIELD_ENCRYPTION_KEYS.

Rotation: put the new key first in FIELD_ENCRYPTION_KEYS (keep the old ones after it), deploy,
run this command, then remove the old keys.

Each table is re-encrypted in one transaction, inside ``clinic.rekeying.rekeying()``, so the
append-only tables (signed notes, addenda, and any other whose triggers read the re-keying flag)
accept the rewrite of their ciphertext while still refusing every other change. Stored tokens are
rewritten with ``MultiFernet.rotate``: the same plaintext, under the newest key. A table that fails
is rolled back whole and the command stops; running it again is safe.
"""

from __future__ import annotations

from allauth.mfa.models import Authenticator
from cryptography.fernet import InvalidToken
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction

from clinic import crypto, rekeying
from clinic.audit.actions import audit_record
from clinic.audit.models import Action

BATCH = 500


class Command(BaseCommand):
    help = "Re-encrypt all encrypted fields (and MFA secrets) under the newest key."

    def handle(self, *args: object, **options: object) -> None:
        connection = connections[DEFAULT_DB_ALIAS]
        tables = crypto.encrypted_fields()
        blocked = rekeying.tables_without_rekey_path(connection, [m._meta.db_table for m, _ in tables])
        if blocked:
            raise CommandError(
                "These tables refuse updates and do not allow re-keying, so rotation would fail in "
                f"them: {', '.join(blocked)}. Their triggers must read the re-keying flag "
                "(see clinic/rekeying.py). Nothing was changed."
            )
        total = 0
        for model, fields in tables:
            count = self._rotate_table(model, fields)
            self.stdout.write(f"{model._meta.label}: {count} rows re-encrypted")
            total += count
        count = self._rotate_mfa()
        self.stdout.write(f"mfa.Authenticator: {count} secrets re-encrypted")
        with transaction.atomic():
            audit_record(
                action=Action.KEYS_ROTATED, actor_label="manage.py", reason=f"{total + count} values"
            )
        self.stdout.write(self.style.SUCCESS("Done. Old keys can now be removed from FIELD_ENCRYPTION_KEYS."))

    def _rotate_table(self, model: type[models.Model], fields: list[str]) -> int:
        """Rewrite every stored token of ``fields``, one transaction for the whole table."""
        meta = model._meta
        table = meta.db_table
        pk = str(meta.pk.column)
        columns = [str(meta.get_field(name).column) for name in fields]  # type: ignore[union-attr]
        with rekeying.rekeying() as connection:
            qn = connection.ops.quote_name
            # Rows stay locked until the table is done, so no edit slips in between read and write.
            lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
            # Identifiers come from the models' own metadata, quoted; values are parameters.
            read = f"SELECT {qn(pk)}, {', '.join(qn(c) for c in columns)} FROM {qn(table)}"  # noqa: S608
            page = f" ORDER BY {qn(pk)} LIMIT {BATCH}{lock}"
            update = (
                f"UPDATE {qn(table)} SET {', '.join(f'{qn(c)} = %s' for c in columns)} WHERE {qn(pk)} = %s"  # noqa: S608
            )
            count = 0
            with connection.cursor() as cursor:
                cursor.execute(read + page)
                rows = cursor.fetchall()
                while rows:
                    for key, *tokens in rows:
                        try:
                            rotated = [None if token is None else crypto.rotate(token) for token in tokens]
                        except InvalidToken:
                            raise CommandError(
                                f"{meta.label} row {key}: a value cannot be decrypted with any key in "
                                "FIELD_ENCRYPTION_KEYS. Nothing in this table was changed."
                            ) from None
                        cursor.execute(update, [*rotated, key])
                        count += 1
                    cursor.execute(f"{read} WHERE {qn(pk)} > %s{page}", [rows[-1][0]])
                    rows = cursor.fetchall()
        return count

    def _rotate_mfa(self) -> int:
        count = 0
        with transaction.atomic():
            for kind, key in (
                (Authenticator.Type.TOTP, "secret"),
                (Authenticator.Type.RECOVERY_CODES, "seed"),
            ):
                for auth in Authenticator.objects.select_for_update().filter(type=kind):
                    auth.data[key] = crypto.rotate(auth.data[key])
                    auth.save(update_fields=["data"])
                    count += 1
        return count
