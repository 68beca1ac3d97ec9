"""Print the current TOTP code of a demo account, so the demo can be tried without a phone."""

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from clinic import crypto


class Command(BaseCommand):
    help = "Print the current TOTP code for EMAIL (demo and development only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")

    def handle(self, *args: object, email: str, **options: object) -> None:
        if settings.PRODUCTION:
            raise CommandError("Not available in production.")
        totp = Authenticator.objects.filter(user__email=email.lower(), type=Authenticator.Type.TOTP).first()
        if totp is None:
            raise CommandError(f"No authenticator app is set up for {email}.")
        counter = int(timezone.now().timestamp()) // 30
        self.stdout.write(format_hotp_value(hotp_value(crypto.decrypt(totp.data["secret"]), counter)))
