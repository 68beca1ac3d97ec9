import datetime
import uuid
import zoneinfo

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from clinic.crypto import EncryptedTextField


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not a known time zone (use a name like America/New_York).")


class Role(models.TextChoices):
    PATIENT = "patient", "Patient"
    CLINICIAN = "clinician", "Clinician"
    STAFF = "staff", "Staff"


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields: object) -> "User":
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields: object) -> "User":
        fields.setdefault("role", Role.STAFF)
        fields.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **fields)


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
    def needs_mfa(self) -> bool:
        """Clinicians and staff reach their areas only with a second factor."""
        return self.role in (Role.CLINICIAN, Role.STAFF)

    def has_mfa(self) -> bool:
        from allauth.mfa.models import Authenticator

        return Authenticator.objects.filter(
            user=self, type__in=[Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN]
        ).exists()

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class Licence(models.Model):
    """A clinician's licence to practise in one jurisdiction (ISO 3166-2, e.g. US-NY).

    Counts only when staff have verified it and it has not expired on the day in question.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    clinician = models.ForeignKey(User, on_delete=models.CASCADE, related_name="licences")
    jurisdiction = models.CharField(max_length=6)
    number = models.CharField(max_length=40)
    expires_on = models.DateField()
    verified_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    verified_at = models.DateTimeField(null=True, blank=True)

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

    def is_valid_on(self, day: datetime.date) -> bool:
        return self.verified_at is not None and self.expires_on >= day


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


def age_on(birth: datetime.date, day: datetime.date) -> int:
    """Whole years of age on ``day`` (a 29 February birthday counts from 1 March)."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))
