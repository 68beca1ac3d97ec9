import uuid

from django.conf import settings
from django.db import models


class Action(models.TextChoices):
    SIGNED_IN = "auth.signed_in", "Signed in"
    SIGN_IN_FAILED = "auth.sign_in_failed", "Sign-in failed"
    SIGNED_OUT = "auth.signed_out", "Signed out"
    SESSION_EXPIRED = "auth.session_expired", "Session expired"
    PASSWORD_CHANGED = "auth.password_changed", "Password changed"
    PASSWORD_RESET = "auth.password_reset", "Password reset"
    MFA_ADDED = "mfa.added", "MFA method added"
    MFA_REMOVED = "mfa.removed", "MFA method removed"
    MFA_RESET = "mfa.recovery_codes_reset", "Recovery codes regenerated"
    USER_INVITED = "user.invited", "Person invited"
    CONTACT_RECEIVED = "contact.received", "Contact message received"
    CONTACT_READ = "contact.read", "Contact message read"
    CONTACT_STATUS = "contact.status_changed", "Contact message status changed"
    AUDIT_VIEWED = "audit.viewed", "Audit log viewed"
    KEYS_ROTATED = "crypto.keys_rotated", "Encryption keys rotated"
    BOOKING_CREATED = "booking.created", "Booking made"
    BOOKING_CANCELLED = "booking.cancelled", "Booking cancelled"
    BOOKING_RESCHEDULED = "booking.rescheduled", "Booking rescheduled"
    BOOKING_NO_SHOW = "booking.no_show", "Marked as no-show"
    BOOKING_VIEWED = "booking.viewed", "Booking opened"
    BOOKING_REMARKED = "booking.remarked", "Booking marked: safety assessment first"
    BOOKING_COMPLETED = "booking.completed", "Booking completed (note signed)"
    WAITLIST_JOINED = "waitlist.joined", "Joined a waitlist"
    AVAILABILITY_CHANGED = "availability.changed", "Availability changed"
    LICENCE_ADDED = "licence.added", "Licence added"
    LICENCE_VERIFIED = "licence.verified", "Licence verified"
    LICENCE_CHANGED = "licence.changed", "Licence changed"
    COVERAGE_LOST = "booking.coverage_lost", "Booking no longer covered by a licence"
    APPOINTMENT_TYPE_CHANGED = "appointment_type.changed", "Appointment type changed"
    INTAKE_STARTED = "intake.started", "Intake started"
    INTAKE_SUBMITTED = "intake.submitted", "Intake submitted"
    INTAKE_VIEWED = "intake.viewed", "Intake opened"
    URGENT_CREATED = "urgent.created", "Urgent item raised"
    URGENT_ACKNOWLEDGED = "urgent.acknowledged", "Urgent item acknowledged"
    URGENT_ESCALATED = "urgent.escalated", "Urgent item escalated to everyone"
    CALLBACK_REQUESTED = "urgent.callback_requested", "Urgent call-back requested"
    BREAK_GLASS = "access.break_glass", "Break-glass access"
    BREAK_GLASS_REVIEWED = "access.break_glass_reviewed", "Break-glass access reviewed"
    ON_CALL_CHANGED = "user.on_call_changed", "On-call changed"
    PROFILE_UPDATED = "profile.updated", "Profile updated"
    VISIT_ATTESTED = "visit.location_attested", "Location attested for a visit"
    VISIT_ADMITTED = "visit.admitted", "Patient admitted"
    VISIT_JOINED = "visit.joined", "Joined the call"
    VISIT_LEFT = "visit.left", "Left the call"
    VISIT_BLOCKED = "visit.blocked_unlicensed", "Visit blocked: no licence where the patient is"
    BOOKING_STARTED = "booking.started", "Booking started (time held)"
    NOTE_SAVED = "note.saved", "Note draft saved"
    NOTE_SIGNED = "note.signed", "Note signed"
    NOTE_ADDENDUM = "note.addendum", "Addendum added"
    NOTE_VIEWED = "note.viewed", "Note opened"
    CHART_VIEWED = "chart.viewed", "Chart opened"
    MESSAGE_READ = "message.read", "Doctor's message read"
    DATA_EXPORTED = "data.exported", "Data downloaded"
    REMINDER_QUEUED = "reminder.queued", "Reminder queued"
    VISIT_VIEWED = "visit.viewed", "Visit opened by the clinician (location, call-back number)"
    DASHBOARD_VIEWED = "dashboard.viewed", "Clinician dashboard opened"
    DAY_VIEWED = "day.viewed", "Staff day view opened"
    BREAK_GLASS_LIST_VIEWED = "access.break_glass_list_viewed", "Break-glass list opened"
    REGISTER_SITE_ADDED = "register.site_added", "Register: site added"
    REGISTER_RECEIVED = "register.received", "Register: stock received"
    REGISTER_ADMINISTERED = "register.administered", "Register: administration recorded"
    REGISTER_WASTE_DECLARED = "register.waste_declared", "Register: waste declared"
    REGISTER_WASTE_WITNESSED = "register.waste_witnessed", "Register: waste witnessed"
    REGISTER_TRANSFERRED = "register.transferred", "Register: stock transferred"
    REGISTER_COUNTED = "register.counted", "Register: stock counted"
    REGISTER_COUNT_CONFIRMED = "register.count_confirmed", "Register: count confirmed by a second person"
    REGISTER_RESOLVED = "register.discrepancy_resolved", "Register: discrepancy resolved"
    REGISTER_CORRECTED = "register.corrected", "Register: entry corrected"
    REGISTER_VIEWED = "register.viewed", "Register: lot opened"
    REGISTER_EXPORTED = "register.exported", "Register: exported for inspection"
    REGISTRY_REQUESTED = "registry.requested", "Outcomes registry snapshot requested"
    REGISTRY_COMPUTED = "registry.computed", "Outcomes registry snapshot computed"
    REGISTRY_VIEWED = "registry.viewed", "Outcomes report opened"
    # Repeated measures (clinic.measures).
    MEASURES_SCHEDULED = "measures.scheduled", "Check-ins scheduled for a course"
    MEASURES_RESCHEDULED = "measures.rescheduled", "Check-ins rescheduled"
    MEASURES_PAUSED = "measures.paused", "Check-ins paused or resumed for a course"
    CHECKIN_ADDED = "checkin.added", "Check-in added by a clinician"
    CHECKIN_WITHDRAWN = "checkin.withdrawn", "Check-in paused by a clinician"
    CHECKIN_SENT = "checkin.sent", "Check-in emailed"
    CHECKIN_REMINDED = "checkin.reminded", "Check-in reminder emailed"
    CHECKIN_MISSED = "checkin.missed", "Check-in missed"
    CHECKIN_LINK_USED = "checkin.link_used", "Check-in link opened"
    CHECKIN_ANSWERED = "checkin.answered", "Check-in answered"
    ATTENTION_RAISED = "attention.raised", "Needs-attention item raised"
    ATTENTION_ACKNOWLEDGED = "attention.acknowledged", "Needs-attention item acknowledged"
    MEASURES_VIEWED = "measures.viewed", "Measures chart opened"
    PROTOCOL_CREATED = "care.protocol_version_created", "Treatment protocol version written"
    PROTOCOL_APPROVED = "care.protocol_approved", "Treatment protocol version approved"
    ROUTE_CHANGED = "care.route_changed", "Treatment route turned on or off"
    LEGAL_BASIS_RULE_CREATED = "care.legal_basis_rule_created", "Legal basis rule configured"
    PLAN_STARTED = "care.plan_started", "Treatment plan started"
    PLAN_ACTIVATED = "care.plan_activated", "Treatment plan ready to book"
    CONTRAINDICATION_REVIEWED = "care.contraindication_reviewed", "Contraindication reviewed"
    TREATMENT_CONSENT_SIGNED = "care.consent_signed", "Treatment consent signed"
    PDMP_RECORDED = "care.pdmp_recorded", "PDMP check recorded"
    LEGAL_BASIS_RECORDED = "care.legal_basis_recorded", "Legal basis recorded"
    SESSION_BOOKED = "care.session_booked", "Treatment session booked"
    SESSION_CANCELLED = "care.session_cancelled", "Treatment session cancelled"
    SESSION_MISSED = "care.session_missed", "Treatment session missed (no-show)"
    CHECKIN_SUBMITTED = "care.checkin_submitted", "Pre-session check-in answered"
    COURSE_VIEWED = "care.course_viewed", "Treatment course opened"
    PLAN_VIEWED = "care.plan_viewed", "Treatment plan opened"
    LAPSING_VIEWED = "care.lapsing_viewed", "Lapsing plans list opened"
    SESSION_RECORD_VIEWED = "session.viewed", "Treatment session record opened"
    SESSION_VITALS = "session.vitals_recorded", "Session vital signs recorded"
    SESSION_OBSERVED = "session.observation_recorded", "Session sedation and dissociation recorded"
    SESSION_DOSED = "session.dose_recorded", "Session dose recorded"
    SESSION_ADVERSE_EVENT = "session.adverse_event_recorded", "Session adverse event recorded"
    SESSION_NO_ADVERSE_EVENTS = "session.no_adverse_events", "Session: no adverse events"
    SESSION_DISCHARGED = "session.discharged", "Patient discharged from a session"
    SESSION_SIGNED = "session.signed", "Session record signed"
    SESSION_ADDENDUM = "session.addendum", "Session record addendum added"
    SESSION_SUPERVISOR_CONFIRMED = (
        "session.supervisor_confirmed",
        "At-home session: supervising adult confirmed",
    )
    SESSION_HOME_READING = "session.home_reading", "At-home session: the patient entered a reading"
    REMS_FORM_VIEWED = "rems.form_viewed", "REMS monitoring form opened"
    REMS_SUBMITTED = "rems.submitted", "REMS monitoring form marked submitted"


# The reads of personal health data: each page that shows it writes one of these.
READ_ACTIONS = frozenset(
    {
        Action.BOOKING_VIEWED,
        Action.INTAKE_VIEWED,
        Action.NOTE_VIEWED,
        Action.CHART_VIEWED,
        Action.MESSAGE_READ,
        Action.DATA_EXPORTED,
        Action.CONTACT_READ,
        Action.AUDIT_VIEWED,
        Action.VISIT_VIEWED,
        Action.DASHBOARD_VIEWED,
        Action.COURSE_VIEWED,
        Action.PLAN_VIEWED,
        Action.LAPSING_VIEWED,
        Action.DAY_VIEWED,
        Action.BREAK_GLASS_LIST_VIEWED,
        Action.REGISTER_VIEWED,
        Action.REGISTER_EXPORTED,
        Action.MEASURES_VIEWED,
        Action.REGISTRY_VIEWED,
        Action.SESSION_RECORD_VIEWED,
        Action.REMS_FORM_VIEWED,
    }
)


class AuditEvent(models.Model):
    """One thing that happened, who did it, to what, from where. Append-only.

    UPDATE and DELETE are refused by database triggers (migration 0002), on SQLite and
    PostgreSQL alike, so not even a bug in this codebase can rewrite history. Rows hold
    identifiers and fixed codes only: never health data, never text a person typed.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Kept beside the foreign key: a failed sign-in has no user, only the email that was tried.
    actor_label = models.CharField(max_length=254, blank=True)
    # No ``choices`` on the column: the list of actions grows with every app, and a new action
    # must not need a migration. ``audit_record`` accepts only members of ``Action``.
    action = models.CharField(max_length=64, db_index=True)
    subject_type = models.CharField(max_length=64, blank=True)
    subject_id = models.CharField(max_length=64, blank=True, db_index=True)
    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    ip = models.GenericIPAddressField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    reason = models.CharField(max_length=500, blank=True)
    # A page that lists several patients (a dashboard) records them all in its one row: their
    # public ids. Null on every other row (a nullable column is added without rebuilding the
    # table, which would drop the append-only triggers on SQLite).
    patients = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["patient", "-at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.action}"

    def get_action_display(self) -> str:
        """The action's label (the column holds its code)."""
        try:
            return str(Action(self.action).label)
        except ValueError:
            return self.action
