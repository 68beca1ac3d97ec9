"""Registry snapshots: the aggregates ``clinic.care.outcomes`` computed, kept as they were.

A snapshot is never edited or deleted (database triggers, migration 0002): a figure the clinic
published stays answerable for, with the definitions' versions it was computed under. Only
aggregates are stored, already suppressed; ``cohort_size`` (the number of courses read) is for
staff and is never shown on the public page.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models


class Trigger(models.TextChoices):
    NIGHTLY = "nightly", "Nightly"
    REQUESTED = "requested", "Requested by staff"
    DEMO = "demo", "Demo data"


class SnapshotQuerySet(models.QuerySet["RegistrySnapshot"]):
    def latest_first(self) -> SnapshotQuerySet:
        return self.order_by("-computed_at", "-id")


class RegistrySnapshot(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    computed_at = models.DateTimeField(db_index=True)
    # The snapshot's date, to the month: no date finer than a month leaves the registry.
    as_of_month = models.CharField(max_length=7)
    # {"registry": "1", "measures": "..."}: every definition the figures depend on.
    versions = models.JSONField()
    cohort_size = models.PositiveIntegerField()
    data = models.JSONField()
    trigger = models.CharField(max_length=16, choices=Trigger.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    seconds = models.FloatField(help_text="How long the read and the computation took.")

    objects = SnapshotQuerySet.as_manager()

    class Meta:
        ordering = ["-computed_at", "-id"]

    def __str__(self) -> str:
        return f"registry snapshot {self.as_of_month} ({self.computed_at:%Y-%m-%d %H:%M})"

    @property
    def overall(self) -> dict[str, Any]:
        overall: dict[str, Any] = self.data["overall"]
        return overall
