import stat

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from clinic import crypto
from clinic.content.models import ContactMessage


def raw_row(message: ContactMessage) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, email, phone, message FROM content_contactmessage WHERE id = %s", [message.pk]
        )
        return cursor.fetchone()


def new_message(text: str = "I have been feeling low since spring") -> ContactMessage:
    return ContactMessage.objects.create(
        received_at=timezone.now(), name="Rae Reader", email="rae@example.org", phone="555 0100", message=text
    )


@pytest.mark.django_db
def test_health_data_is_ciphertext_at_rest_and_plain_in_the_app():
    message = new_message()
    row = raw_row(message)
    for plain, stored in zip(["Rae Reader", "rae@example.org", "555 0100", "feeling low"], row, strict=True):
        assert plain not in stored
        assert stored.startswith("gAAAA")  # a Fernet token
    assert ContactMessage.objects.get(pk=message.pk).message == "I have been feeling low since spring"


@pytest.mark.django_db
def test_key_rotation_reencrypts_everything_under_the_newest_key(settings, patient):
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP

    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    message = new_message()
    TOTP.activate(patient, "JBSWY3DPEHPK3PXP")
    before = raw_row(message)

    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    call_command("rotate_encryption_keys", stdout=open("/dev/null", "w"))
    after = raw_row(message)
    assert after != before

    # The old key can now go: every value reads with the new key alone.
    settings.FIELD_ENCRYPTION_KEYS = [new_key]
    assert ContactMessage.objects.get(pk=message.pk).message == "I have been feeling low since spring"
    totp = Authenticator.objects.get(user=patient, type=Authenticator.Type.TOTP)
    assert crypto.decrypt(totp.data["secret"]) == "JBSWY3DPEHPK3PXP"


@pytest.mark.django_db
def test_a_value_under_an_unknown_key_fails_loudly(settings):
    message = new_message()
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(Exception, match="cannot be decrypted"):
        ContactMessage.objects.get(pk=message.pk)


@pytest.mark.django_db
def test_mfa_secrets_are_encrypted_at_rest(patient):
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP

    TOTP.activate(patient, "JBSWY3DPEHPK3PXP")
    with connection.cursor() as cursor:
        cursor.execute("SELECT data FROM mfa_authenticator WHERE user_id = %s", [patient.pk])
        (data,) = cursor.fetchone()
    assert "JBSWY3DPEHPK3PXP" not in str(data)
    assert Authenticator.objects.filter(user=patient).count() == 1


def test_local_key_file_is_created_private_and_reused(tmp_path):
    path = tmp_path / "var" / "field.key"
    keys = crypto.local_key_file_keys(path)
    assert len(keys) == 1
    Fernet(keys[0].encode())  # a valid key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert crypto.local_key_file_keys(path) == keys
