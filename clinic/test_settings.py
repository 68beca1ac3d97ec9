"""The settings pytest runs with: the project's settings, then what tests need instead.

Processes that tests start (browser, contention and worker tests) choose their own environment
and load ``clinic.settings``.
"""

import os

os.environ.setdefault("DJANGO_ENV", "test")

from clinic.settings import *  # noqa: E402, F403
from clinic.settings import DJANGO_ENV, STORAGES  # noqa: E402

if DJANGO_ENV == "test":
    # Fast hashing, mail in memory, tasks run at once (unless a test names a backend), static
    # files from the source tree, and a fixed key (tests read ciphertext, never this key's use).
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    PUBLIC_PAGE_SECONDS = 0  # tests change content between requests; one test turns it on
    if "TASKS_BACKEND" not in os.environ:
        TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"
    if not os.environ.get("FIELD_ENCRYPTION_KEYS"):
        FIELD_ENCRYPTION_KEYS = ["wP0w3pO5bGJd0qB1kq3lq8y7S4m0fS1Yx6TzvGn1pVQ="]
