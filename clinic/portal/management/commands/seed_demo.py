"""Seed a demo clinic: clinicians with licences in different states and zones, staff and
patients, each able to sign in at once. Idempotent: a second run changes nothing and prints
the same logins."""

import datetime as dt

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from clinic import crypto
from clinic.accounts.models import Licence, Role, User
from clinic.care.demo import seed_care
from clinic.outcomes import demo as outcomes_demo
from clinic.register.demo import seed_register
from clinic.scheduling.availability import schedule_changed
from clinic.scheduling.models import WeeklyHours

DEMO_PASSWORD = "mendwell-demo-2026"  # noqa: S105  (demo only; seed_demo refuses production)

CLINICIANS = [
    ("maya.chen@demo.mendwell.example", "Dr Maya Chen", "America/New_York", ["US-NY", "US-NJ", "US-CA"]),
    (
        "daniel.okafor@demo.mendwell.example",
        "Dr Daniel Okafor",
        "America/Chicago",
        ["US-IL", "US-TX", "US-NY"],
    ),
    ("sofia.reyes@demo.mendwell.example", "Dr Sofia Reyes", "America/Los_Angeles", ["US-CA", "US-WA"]),
]
# Weekly hours in each clinician's own zone: (weekdays, start, end).
HOURS = {
    "maya.chen@demo.mendwell.example": [
        (range(0, 5), dt.time(9), dt.time(12)),
        (range(0, 4), dt.time(14), dt.time(17)),
    ],
    "daniel.okafor@demo.mendwell.example": [(range(0, 5), dt.time(10), dt.time(16))],
    "sofia.reyes@demo.mendwell.example": [
        (range(1, 6), dt.time(8), dt.time(13)),
        (range(1, 5), dt.time(16), dt.time(19)),
    ],
}
STAFF = [("jordan.lee@demo.mendwell.example", "Jordan Lee", "America/New_York")]
NURSES = [("riley.brooks@demo.mendwell.example", "Riley Brooks, RN", "America/New_York", ["US-NY"])]
PATIENTS = [
    ("alex.rivera@demo.mendwell.example", "Alex Rivera", "America/New_York"),
    ("sam.patel@demo.mendwell.example", "Sam Patel", "America/Denver"),
]


class Command(BaseCommand):
    help = "Create the demo clinic (idempotent) and print how to sign in as each person."

    def handle(self, *args: object, **options: object) -> None:
        if settings.PRODUCTION:
            raise CommandError(
                "seed_demo creates accounts with a known password; it never runs in production."
            )
        with transaction.atomic():
            staff = [self._person(email, name, zone, Role.STAFF) for email, name, zone in STAFF]
            clinicians = [
                (self._person(email, name, zone, Role.CLINICIAN), states)
                for email, name, zone, states in CLINICIANS
            ]
            nurses = [
                (self._person(email, name, zone, Role.NURSE), states) for email, name, zone, states in NURSES
            ]
            patients = [self._person(email, name, zone, Role.PATIENT) for email, name, zone in PATIENTS]
            for clinician, _states in clinicians:
                if not WeeklyHours.objects.filter(clinician=clinician).exists():
                    for days, start, end in HOURS[clinician.email]:
                        for weekday in days:
                            WeeklyHours.objects.create(
                                clinician=clinician, weekday=weekday, start=start, end=end
                            )
            for clinician, states in clinicians + nurses:
                for n, state in enumerate(states):
                    Licence.objects.get_or_create(
                        clinician=clinician,
                        jurisdiction=state,
                        defaults={
                            "number": f"{state[3:]}-{100000 + clinician.pk * 10 + n}",
                            "expires_on": timezone.now().date() + dt.timedelta(days=700),
                            "verified_by": staff[0],
                            "verified_at": timezone.now(),
                        },
                    )
            seed_register(staff[0])
        schedule_changed()
        seed_care(staff=staff[0], clinician=clinicians[0][0], patient=patients[0])
        outcomes_demo.seed()
        schedule_changed()  # the demo's own bookings were written directly: drop every free-time entry
        self._print(staff, [c for c, _ in clinicians], [n for n, _ in nurses], patients)

    def _person(self, email: str, name: str, zone: str, role: Role) -> User:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(
                email, DEMO_PASSWORD, role=role, display_name=name, time_zone=zone
            )
            EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
            if role != Role.PATIENT:
                TOTP.activate(user, generate_totp_secret())
                RecoveryCodes.activate(user)
        return user

    def _print(
        self, staff: list[User], clinicians: list[User], nurses: list[User], patients: list[User]
    ) -> None:
        out = self.stdout.write
        out("")
        out(self.style.SUCCESS("Demo clinic ready. Every demo password is: " + DEMO_PASSWORD))
        out("Clinicians, nurses and staff also need a second factor: add the TOTP secret to an authenticator")
        out("app, or get the current code with `make totp EMAIL=...`, or use a recovery code once.")
        for title, people in (
            ("Staff", staff),
            ("Clinicians", clinicians),
            ("Nurses", nurses),
            ("Patients", patients),
        ):
            out("")
            out(self.style.MIGRATE_HEADING(title))
            for user in people:
                line = f"  {user.email:<40} {user.display_name}"
                if user.role in (Role.CLINICIAN, Role.NURSE):
                    states = ", ".join(licence.jurisdiction for licence in user.licences.all())
                    line += f" ({user.time_zone}; licensed in {states})"
                out(line)
                totp = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
                if totp:
                    out(f"      TOTP secret: {crypto.decrypt(totp.data['secret'])}")
                codes = Authenticator.objects.filter(
                    user=user, type=Authenticator.Type.RECOVERY_CODES
                ).first()
                if codes:
                    out(f"      recovery codes: {' '.join(RecoveryCodes(codes).get_unused_codes()[:3])}")
        out("")
