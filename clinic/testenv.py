"""Loaded by pytest before Django (see pyproject's addopts): tests run with DJANGO_ENV=test."""

import os

os.environ.setdefault("DJANGO_ENV", "test")
