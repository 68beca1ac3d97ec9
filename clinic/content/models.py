import uuid

from django.db import models

from clinic.crypto import EncryptedTextField


class CrisisLine(models.Model):
    """An emergency or crisis number for one country, shown on every crisis panel.

    Seeded from shared clinical facts; a clinic must verify and edit them (admin) before going
    live.
    """

    country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2, e.g. US")
    name = models.CharField(max_length=120)
    number = models.CharField(max_length=40)
    how = models.CharField(max_length=120, blank=True, help_text="e.g. 'Call or text'")
    is_emergency = models.BooleanField(default=False)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["country", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["country", "name"], name="crisis_line_unique")]

    def __str__(self) -> str:
        return f"{self.country} {self.name} {self.number}"

    @property
    def tel(self) -> str:
        return "".join(ch for ch in self.number if ch.isdigit() or ch == "+")


class ContactStatus(models.TextChoices):
    NEW = "new", "New"
    ANSWERED = "answered", "Answered"
    CLOSED = "closed", "Closed"


class ContactMessage(models.Model):
    """A message from the public contact form. Everything a person typed is encrypted."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    received_at = models.DateTimeField(db_index=True)
    name = EncryptedTextField()
    email = EncryptedTextField()
    phone = EncryptedTextField(blank=True)
    message = EncryptedTextField()
    status = models.CharField(max_length=16, choices=ContactStatus.choices, default=ContactStatus.NEW)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=ContactStatus.values), name="contact_status_valid"
            )
        ]

    def __str__(self) -> str:
        return f"Contact message {self.public_id}"
