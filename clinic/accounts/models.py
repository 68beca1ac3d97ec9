from __future__ import annotations

import datetime
import uuid
import zoneinfo

from allauth.mfa.models import Authenticator
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone

from clinic.accounts.jurisdictions import end_of_day
from clinic.accounts.validators import validate_time_zone
from clinic.crypto import EncryptedTextField

__all__ = ["Licence", "PatientProfile", "Role", "User", "is_nurse", "validate_time_zone"]


class Role(models.TextChoices):
    PATIENT = "patient", "Patient"
    CLINICIAN = "clinician", "Clinician"
    # Licensed; during treatment sessions records vitals and observations for the patients
    # they are scheduled with, never a dose, never a signature. Reads no patient data otherwise.
    NURSE = "nurse", "Nurse"
    STAFF = "staff", "Staff"


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields: object) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields: object) -> User:
        fields.setdefault("role", Role.STAFF)
        fields.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **fields)

    def on_call(self) -> list[User]:
        """Who gets urgent items: the clinicians staff put on call. With nobody on call, every
        active clinician does: an urgent screen must never land in an empty room."""
        active = self.filter(role=Role.CLINICIAN, is_active=True)
        return list(active.filter(on_call=True)) or list(active)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in. Email is the login; the role decides which area they reach.

    ``is_staff`` keeps Django's meaning (may open the admin site) and is separate from the
    clinic's staff role.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    email = models.EmailField(unique=True)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.PATIENT)
    display_name = models.CharField(max_length=150, blank=True)
    time_zone = models.CharField(max_length=64, default="America/New_York", validators=[validate_time_zone])
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)
    invited_by = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Clinicians only: staff set who is on call; they receive urgent screens at once.
    on_call = models.BooleanField(default=False)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []  # noqa: RUF012

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(role__in=Role.values), name="user_role_valid"),
        ]

    def __str__(self) -> str:
        return self.display_name or self.email

    @property
    def is_patient(self) -> bool:
        return self.role == Role.PATIENT

    @property
    def is_clinician(self) -> bool:
        return self.role == Role.CLINICIAN

    @property
    def is_clinic_staff(self) -> bool:
        return self.role == Role.STAFF

    @property
    def is_nurse(self) -> bool:
        return self.role == Role.NURSE

    @property
    def needs_mfa(self) -> bool:
        """Clinicians, nurses and staff reach their areas only with a second factor."""
        return self.role in (Role.CLINICIAN, Role.NURSE, Role.STAFF)

    def has_mfa(self) -> bool:
        return Authenticator.objects.filter(
            user=self, type__in=[Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN]
        ).exists()

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


def is_nurse(user: object) -> bool:
    """A signed-in nurse (anonymous visitors and every other role: False)."""
    return isinstance(user, User) and user.role == Role.NURSE


class LicenceQuerySet(models.QuerySet["Licence"]):
    def usable(self, jurisdiction: str, *, from_: datetime.datetime) -> LicenceQuerySet:
        """Verified licences for ``jurisdiction`` of active clinicians that may still be valid
        at some instant from ``from_`` on. A coarse filter in SQL (a day either side); the exact
        instant is ``Licence.valid_until``."""
        return self.filter(
            jurisdiction=jurisdiction,
            verified_at__isnull=False,
            expires_on__gte=(from_ - datetime.timedelta(days=1)).date(),
            clinician__is_active=True,
            clinician__role=Role.CLINICIAN,
        )


class Licence(models.Model):
    """A clinician's or nurse's licence to practise in one jurisdiction (ISO 3166-2, e.g. US-NY).
    Only clinicians' licences offer them for bookings (``usable``).

    Counts only when staff have verified it, and only until the end of its expiry date in the
    jurisdiction's own time zone (``valid_until``): the one rule slots, holds, bookings,
    reschedules and the visit all use.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    clinician = models.ForeignKey(User, on_delete=models.CASCADE, related_name="licences")
    jurisdiction = models.CharField(max_length=6)
    number = models.CharField(max_length=40)
    expires_on = models.DateField()
    verified_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    verified_at = models.DateTimeField(null=True, blank=True)

    objects = LicenceQuerySet.as_manager()

    class Meta:
        ordering = ["jurisdiction"]
        constraints = [
            models.UniqueConstraint(
                fields=["clinician", "jurisdiction"], name="licence_one_per_jurisdiction"
            ),
            models.CheckConstraint(
                condition=models.Q(verified_by__isnull=True, verified_at__isnull=True)
                | models.Q(verified_by__isnull=False, verified_at__isnull=False),
                name="licence_verified_by_and_at_together",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.jurisdiction} {self.number}"

    @property
    def valid_until(self) -> datetime.datetime:
        """The instant this licence stops counting: the end of its expiry date in the
        jurisdiction (``accounts.jurisdictions.end_of_day``)."""
        return end_of_day(self.jurisdiction, self.expires_on)

    def is_valid_at(self, instant: datetime.datetime) -> bool:
        return self.verified_at is not None and instant < self.valid_until

    def covers(self, start: datetime.datetime, end: datetime.datetime) -> bool:
        """Valid for a whole visit: verified, and not expiring before it ends."""
        return self.verified_at is not None and end <= self.valid_until


class PatientProfile(models.Model):
    """What the clinic knows about a patient beyond their login. Personal data is encrypted."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="patient_profile")
    # ISO date, encrypted: needed in the application (age checks), never in a query.
    date_of_birth = EncryptedTextField(blank=True)
    legal_name = EncryptedTextField(blank=True)
    preferred_name = EncryptedTextField(blank=True)
    phone = EncryptedTextField(blank=True)
    emergency_contact_name = EncryptedTextField(blank=True)
    emergency_contact_phone = EncryptedTextField(blank=True)
    home_address = EncryptedTextField(blank=True)
    # Plain: it chooses which crisis numbers to show, nothing more.
    country = models.CharField(max_length=2, default="US")

    def __str__(self) -> str:
        return f"Profile of {self.user}"

    @property
    def birth_date(self) -> datetime.date | None:
        return datetime.date.fromisoformat(self.date_of_birth) if self.date_of_birth else None
