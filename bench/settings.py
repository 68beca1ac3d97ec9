"""The clinic's settings plus a bare "hello" view (bench/urls.py): the yardstick `make bench`
measures every page against, on the same server, through the same middleware."""

from clinic.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
