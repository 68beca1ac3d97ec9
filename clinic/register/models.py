"""The controlled-substance register of each clinic site: what came in, what was given, wasted or
moved, what was counted, and how every difference was explained.

Nothing here is ever changed or deleted: database triggers refuse UPDATE and DELETE on every
table (migration 0002), on SQLite and PostgreSQL alike, except the ciphertext-only rewrite of key
rotation (``clinic.rekeying``). A mistake is put right by a new entry that names the one it
corrects. Quantities are milligrams of the drug (``Decimal``, three places); strengths are the
label's words.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.db import models

from clinic.accounts.models import User
from clinic.crypto import EncryptedTextField


def mg_field() -> models.DecimalField:
    """Milligrams to the microgram: up to 999 999 999.999 mg."""
    return models.DecimalField(max_digits=12, decimal_places=3)


class Drug(models.TextChoices):
    KETAMINE = "ketamine", "Ketamine hydrochloride"
    ESKETAMINE = "esketamine", "Esketamine nasal spray"


class Site(models.Model):
    """A place where the clinic keeps stock (one register each)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=120, unique=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Lot(models.Model):
    """One manufacturer's lot of one product at one site, as its label reads. Its row is also the
    lock every withdrawal from the lot takes first (``actions._locked``)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="lots")
    drug = models.CharField(max_length=16, choices=Drug.choices)
    # As printed on the label, e.g. "50 mg/mL, 10 mL vial" or "28 mg per device".
    strength = models.CharField(max_length=80)
    lot_number = models.CharField(max_length=40)
    expires_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["drug", "lot_number"]
        constraints = [
            models.UniqueConstraint(fields=["site", "lot_number"], name="register_lot_one_per_site"),
            models.CheckConstraint(condition=models.Q(drug__in=Drug.values), name="register_lot_drug_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.get_drug_display()} {self.strength}, lot {self.lot_number}"


class EntryKind(models.TextChoices):
    RECEIPT = "receipt", "Received"
    ADMINISTRATION = "administration", "Administered"
    WASTE = "waste", "Wasted (witnessed)"
    TRANSFER_OUT = "transfer_out", "Transferred out"
    TRANSFER_IN = "transfer_in", "Transferred in"
    ADJUSTMENT = "adjustment", "Adjusted to a count"
    CORRECTION = "correction", "Correction"


INCOMING = [EntryKind.RECEIPT, EntryKind.TRANSFER_IN]
OUTGOING = [EntryKind.ADMINISTRATION, EntryKind.WASTE, EntryKind.TRANSFER_OUT]


class Entry(models.Model):
    """One line of a lot's register: the change (signed, mg) and the balance after it.

    ``sequence`` numbers a lot's lines 1, 2, 3…; with ``(lot, sequence)`` unique and the balance
    checked non-negative, two withdrawals that raced past the lock would still not both land.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="entries")
    sequence = models.PositiveIntegerField()
    kind = models.CharField(max_length=16, choices=EntryKind.choices)
    change_mg = mg_field()
    balance_mg = mg_field()
    occurred_at = models.DateTimeField()
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    # Receipt: the supplier (a company, as on the invoice).
    supplier = models.CharField(max_length=120, blank=True)
    # Administration: the signed session record it comes from, and its patient.
    session_ref = models.UUIDField(null=True, blank=True, unique=True)
    patient = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # Waste: what was declared, and the second person who saw it.
    waste = models.OneToOneField(
        "WasteRecord", null=True, blank=True, on_delete=models.PROTECT, related_name="entry"
    )
    witnessed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # Transfers: the other site; an incoming transfer names the outgoing line it matches.
    other_site = models.ForeignKey(Site, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    transfer_of = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="transfer_in"
    )
    # Correction: the line it puts right. Adjustment: the count it follows.
    corrects = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrections"
    )
    count_check = models.OneToOneField(
        "CountCheck", null=True, blank=True, on_delete=models.PROTECT, related_name="adjustment"
    )
    # Why a correction or an adjustment was made, as typed.
    note = EncryptedTextField(blank=True)

    class Meta:
        ordering = ["lot", "sequence"]
        verbose_name_plural = "entries"
        constraints = [
            models.UniqueConstraint(fields=["lot", "sequence"], name="register_entry_sequence_unique"),
            models.CheckConstraint(
                condition=models.Q(balance_mg__gte=0), name="register_balance_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=EntryKind.values), name="register_entry_kind_valid"
            ),
            models.CheckConstraint(
                condition=~models.Q(kind__in=INCOMING) | models.Q(change_mg__gt=0),
                name="register_incoming_adds",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind__in=OUTGOING) | models.Q(change_mg__lt=0),
                name="register_outgoing_takes",
            ),
            models.CheckConstraint(condition=~models.Q(change_mg=0), name="register_entry_changes_something"),
            models.CheckConstraint(
                condition=~models.Q(kind=EntryKind.ADMINISTRATION)
                | models.Q(session_ref__isnull=False, patient__isnull=False),
                name="register_administration_has_session_and_patient",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind=EntryKind.WASTE)
                | (
                    models.Q(waste__isnull=False, witnessed_by__isnull=False)
                    & ~models.Q(witnessed_by=models.F("recorded_by"))
                ),
                name="register_waste_witnessed_by_another",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind=EntryKind.CORRECTION) | models.Q(corrects__isnull=False),
                name="register_correction_names_its_entry",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.lot} #{self.sequence} {self.kind} {self.change_mg} mg"


class WasteRecord(models.Model):
    """Waste someone declares (what is left in a vial, a dropped device). It counts against the
    lot only when a second person, signed in as themselves, witnesses it: then its register
    line is written (``Entry.waste``). Until then it is pending."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="wastes")
    quantity_mg = mg_field()
    reason = EncryptedTextField()
    occurred_at = models.DateTimeField()
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["recorded_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity_mg__gt=0), name="register_waste_positive"),
        ]

    def __str__(self) -> str:
        return f"Waste of {self.quantity_mg} mg from {self.lot}"


class StockCount(models.Model):
    """A physical count of a lot by one person, complete when a second person confirms it in
    their own session (``CountCheck``)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="counts")
    counted_mg = mg_field()
    counted_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    counted_at = models.DateTimeField()

    class Meta:
        ordering = ["counted_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(counted_mg__gte=0), name="register_count_not_negative"),
        ]

    def __str__(self) -> str:
        return f"Count of {self.lot}: {self.counted_mg} mg"


class CountCheck(models.Model):
    """The second person's confirmation of a count, and how it compared with the register's
    balance at that moment. A difference is a discrepancy until a ``Resolution`` explains it."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    count = models.OneToOneField(StockCount, on_delete=models.PROTECT, related_name="confirmation")
    # Copied from the count so that the database itself refuses one person counting twice.
    counted_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    confirmed_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    confirmed_at = models.DateTimeField()
    balance_mg = mg_field()
    difference_mg = mg_field()

    class Meta:
        ordering = ["confirmed_at"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(confirmed_by=models.F("counted_by")), name="register_count_by_two_people"
            ),
        ]

    def __str__(self) -> str:
        return f"Check of {self.count}"

    @property
    def is_discrepancy(self) -> bool:
        return self.difference_mg != Decimal(0)


class Resolution(models.Model):
    """How staff explained a discrepancy, and the adjustment line when they brought the balance
    to the count."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    count_check = models.OneToOneField(CountCheck, on_delete=models.PROTECT, related_name="resolution")
    note = EncryptedTextField()
    resolved_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    resolved_at = models.DateTimeField()

    class Meta:
        ordering = ["resolved_at"]

    def __str__(self) -> str:
        return f"Resolution of {self.count_check}"
