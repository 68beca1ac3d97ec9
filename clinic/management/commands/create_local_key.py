from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from clinic.crypto import local_key_file_keys


class Command(BaseCommand):
    help = "Create the embedded run's field encryption key file if it does not exist (0600, git-ignored)."

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            self.stdout.write("Production reads FIELD_ENCRYPTION_KEYS from the environment: nothing to do.")
            return
        path = settings.FIELD_ENCRYPTION_KEY_FILE
        existed = path.exists()
        local_key_file_keys(path)
        self.stdout.write(f"Encryption key file {'kept' if existed else 'created'}: {path}")
