"""Every write to the controlled-substance register. Each is one transaction with its audit row.

Withdrawals cannot overdraw a lot, however many race: each write first locks the lot's row
(``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite the transaction is IMMEDIATE, so writers queue
at BEGIN and the lock is the database's), then reads the balance and appends the next line. The
``(lot, sequence)`` unique key and the non-negative balance check are the database's last word.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from clinic.accounts.models import Role, User
from clinic.audit.actions import Via, audit_record
from clinic.audit.models import Action
from clinic.register.models import (
    CountCheck,
    Drug,
    Entry,
    EntryKind,
    Lot,
    Resolution,
    Site,
    StockCount,
    WasteRecord,
)

ZERO = Decimal(0)
# A clock a few minutes fast on a phone must not make "now" a future time.
FUTURE_SLACK = dt.timedelta(minutes=5)


class RegisterError(Exception):
    """A register write refused, with the sentence to show the person."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def mg(value: Decimal) -> str:
    """A quantity as the register prints it: ``5000 mg``, ``0.5 mg``."""
    text = format(value.normalize(), "f")
    return f"{text} mg"


def balance_of(lot: Lot) -> Decimal:
    last = lot.entries.order_by("-sequence").values_list("balance_mg", flat=True).first()
    return last if last is not None else ZERO


def pending_waste_of(lot: Lot) -> Decimal:
    total = WasteRecord.objects.filter(lot=lot, entry__isnull=True).aggregate(total=Sum("quantity_mg"))[
        "total"
    ]
    return total or ZERO


def _positive(quantity: Decimal, what: str = "The quantity") -> Decimal:
    if not isinstance(quantity, Decimal) or not quantity.is_finite() or quantity <= ZERO:
        raise RegisterError(f"{what} must be more than 0 mg.")
    if quantity != quantity.quantize(Decimal("0.001")):
        raise RegisterError(f"{what} can have at most three decimal places (0.001 mg).")
    return quantity


def _not_future(when: dt.datetime) -> dt.datetime:
    if when > timezone.now() + FUTURE_SLACK:
        raise RegisterError("That time is in the future: the register records what has happened.")
    return when


def _locked(*lots: Lot) -> list[Lot]:
    """The lots' rows locked for this transaction, in key order (two transfers between the same
    lots in opposite directions then cannot deadlock)."""
    rows = {lot.pk: lot for lot in Lot.objects.select_for_update().filter(pk__in=[x.pk for x in lots])}
    return [rows[lot.pk] for lot in sorted(lots, key=lambda x: x.pk)]


def _append(
    *, lot: Lot, kind: EntryKind, change: Decimal, occurred_at: dt.datetime, by: User, **fields: object
) -> Entry:
    """The lot's next line. The caller holds the lot's lock."""
    last = lot.entries.order_by("-sequence").first()
    balance = last.balance_mg if last is not None else ZERO
    if balance + change < ZERO:
        raise RegisterError(
            f"Lot {lot.lot_number} has {mg(balance)} on the register; {mg(-change)} cannot be taken "
            "from it. Record the receipt or the transfer in first, or count the lot."
        )
    return Entry.objects.create(
        lot=lot,
        sequence=(last.sequence if last is not None else 0) + 1,
        kind=kind,
        change_mg=change,
        balance_mg=balance + change,
        occurred_at=occurred_at,
        recorded_at=timezone.now(),
        recorded_by=by,
        **fields,
    )


# Sites and receipts -------------------------------------------------------------------------


@transaction.atomic
def do_add_site(*, actor: User, name: str, via: Via | None = None) -> Site:
    name = " ".join(name.split())
    if not name:
        raise RegisterError("Give the site a name.")
    if Site.objects.filter(name__iexact=name).exists():
        raise RegisterError(f"There is already a site called {name}.")
    site = Site.objects.create(name=name, created_at=timezone.now())
    audit_record(action=Action.REGISTER_SITE_ADDED, actor=actor, subject=site, via=via)
    return site


@transaction.atomic
def do_receive(
    *,
    actor: User,
    site: Site,
    drug: Drug,
    strength: str,
    lot_number: str,
    quantity_mg: Decimal,
    supplier: str,
    received_at: dt.datetime,
    expires_on: dt.date | None = None,
    via: Via | None = None,
) -> Entry:
    """Stock arrives at a site: into the lot its label names (created on its first receipt)."""
    quantity = _positive(quantity_mg)
    _not_future(received_at)
    strength, lot_number, supplier = strength.strip(), lot_number.strip(), supplier.strip()
    if not (strength and lot_number and supplier):
        raise RegisterError(
            "Give the strength, the lot number and the supplier as the label and invoice show them."
        )
    # get_or_create: a second receipt of a new lot at the same moment finds the first one's row.
    lot, _ = Lot.objects.get_or_create(
        site=site,
        lot_number=lot_number,
        defaults={"drug": drug, "strength": strength, "expires_on": expires_on, "created_at": timezone.now()},
    )
    if lot.drug != drug or lot.strength != strength:
        raise RegisterError(
            f"Lot {lot_number} is on this site's register as {lot.get_drug_display()} {lot.strength}. "
            "Check the label: one lot number is one product."
        )
    (lot,) = _locked(lot)
    entry = _append(
        lot=lot, kind=EntryKind.RECEIPT, change=quantity, occurred_at=received_at, by=actor, supplier=supplier
    )
    audit_record(
        action=Action.REGISTER_RECEIVED, actor=actor, subject=entry, via=via, reason=str(lot.public_id)
    )
    return entry


# Administrations: from signed session records only ------------------------------------------


@transaction.atomic
def do_record_administration(
    *,
    site: Site,
    lot: Lot | str,
    quantity_mg: Decimal,
    session_ref: uuid.UUID,
    patient: User,
    by: User,
    at: dt.datetime,
    via: Via | None = None,
) -> Entry:
    """The register line of a dose given in a signed session record (``lot``: the lot or its
    number as recorded on the session). Called when the record is signed, never typed again.

    Idempotent per ``session_ref``: a second call with the same session returns the line the
    first wrote; the same session with another lot or quantity is refused, since a signed record
    cannot change. Raises ``RegisterError`` when the lot is unknown at the site or would go below
    zero, and nothing is written.
    """
    quantity = _positive(quantity_mg, "The dose")
    if patient.role != Role.PATIENT:
        raise RegisterError("An administration is given to a patient.")
    if by.role != Role.CLINICIAN:
        raise RegisterError("Only the prescribing clinician who signs the session records its dose.")
    if isinstance(lot, str):
        found = Lot.objects.filter(site=site, lot_number=lot.strip()).first()
        if found is None:
            raise RegisterError(
                f"Lot {lot.strip()} is not on the register of {site}: record its receipt first."
            )
        lot = found
    elif lot.site_id != site.pk:
        raise RegisterError(f"Lot {lot.lot_number} belongs to another site's register.")
    (lot,) = _locked(lot)
    existing = Entry.objects.filter(session_ref=session_ref).first()
    if existing is not None:
        if (
            existing.lot_id == lot.pk
            and existing.change_mg == -quantity
            and existing.patient_id == patient.pk
        ):
            return existing
        raise RegisterError(
            "This session's administration is already on the register with another lot or dose."
        )
    entry = _append(
        lot=lot,
        kind=EntryKind.ADMINISTRATION,
        change=-quantity,
        occurred_at=at,
        by=by,
        session_ref=session_ref,
        patient=patient,
    )
    audit_record(
        action=Action.REGISTER_ADMINISTERED,
        actor=by,
        subject=entry,
        patient=patient,
        via=via,
        reason=str(session_ref),
    )
    return entry


# Waste, witnessed ------------------------------------------------------------------------------


@transaction.atomic
def do_declare_waste(
    *,
    actor: User,
    lot: Lot,
    quantity_mg: Decimal,
    reason: str,
    occurred_at: dt.datetime,
    via: Via | None = None,
) -> WasteRecord:
    """Waste someone has seen to: pending until a second person witnesses it."""
    quantity = _positive(quantity_mg)
    _not_future(occurred_at)
    reason = reason.strip()
    if len(reason) < 3:
        raise RegisterError("Say why the drug was wasted (for example: residual in the vial after the dose).")
    (lot,) = _locked(lot)
    available = balance_of(lot) - pending_waste_of(lot)
    if quantity > available:
        raise RegisterError(
            f"Lot {lot.lot_number} has {mg(available)} left after the waste already waiting for a witness; "
            f"{mg(quantity)} cannot be wasted from it."
        )
    waste = WasteRecord.objects.create(
        lot=lot,
        quantity_mg=quantity,
        reason=reason,
        occurred_at=occurred_at,
        recorded_by=actor,
        recorded_at=timezone.now(),
    )
    audit_record(
        action=Action.REGISTER_WASTE_DECLARED, actor=actor, subject=waste, via=via, reason=str(lot.public_id)
    )
    return waste


@transaction.atomic
def do_witness_waste(*, actor: User, waste: WasteRecord, via: Via | None = None) -> Entry:
    """A second person, signed in as themselves, confirms the waste: it leaves the balance."""
    if waste.recorded_by_id == actor.pk:
        raise RegisterError("You declared this waste: another person must witness it.")
    (lot,) = _locked(waste.lot)
    if Entry.objects.filter(waste=waste).exists():
        raise RegisterError("This waste has already been witnessed.")
    entry = _append(
        lot=lot,
        kind=EntryKind.WASTE,
        change=-waste.quantity_mg,
        occurred_at=waste.occurred_at,
        by=waste.recorded_by,
        waste=waste,
        witnessed_by=actor,
    )
    audit_record(
        action=Action.REGISTER_WASTE_WITNESSED,
        actor=actor,
        subject=entry,
        via=via,
        reason=str(waste.public_id),
    )
    return entry


# Transfers -------------------------------------------------------------------------------------


@transaction.atomic
def do_transfer(
    *,
    actor: User,
    lot: Lot,
    to_site: Site,
    quantity_mg: Decimal,
    occurred_at: dt.datetime,
    via: Via | None = None,
) -> tuple[Entry, Entry]:
    """Stock moves from one site to another: a line out of this lot, a line into the same lot
    number at the other site (created there on its first transfer)."""
    quantity = _positive(quantity_mg)
    _not_future(occurred_at)
    if to_site.pk == lot.site_id:
        raise RegisterError("Choose another site: a transfer moves stock between two sites.")
    target, _ = Lot.objects.get_or_create(
        site=to_site,
        lot_number=lot.lot_number,
        defaults={
            "drug": lot.drug,
            "strength": lot.strength,
            "expires_on": lot.expires_on,
            "created_at": timezone.now(),
        },
    )
    if (target.drug, target.strength) != (lot.drug, lot.strength):
        raise RegisterError(f"Lot {lot.lot_number} is on {to_site}'s register as another product.")
    source, target = sorted(_locked(lot, target), key=lambda x: x.pk != lot.pk)
    out = _append(
        lot=source,
        kind=EntryKind.TRANSFER_OUT,
        change=-quantity,
        occurred_at=occurred_at,
        by=actor,
        other_site=to_site,
    )
    into = _append(
        lot=target,
        kind=EntryKind.TRANSFER_IN,
        change=quantity,
        occurred_at=occurred_at,
        by=actor,
        other_site=source.site,
        transfer_of=out,
    )
    audit_record(
        action=Action.REGISTER_TRANSFERRED, actor=actor, subject=out, via=via, reason=str(into.public_id)
    )
    return out, into


# Counts and discrepancies ----------------------------------------------------------------------


@transaction.atomic
def do_record_count(*, actor: User, lot: Lot, counted_mg: Decimal, via: Via | None = None) -> StockCount:
    """The first of the two people who count a lot records what they found."""
    if not isinstance(counted_mg, Decimal) or not counted_mg.is_finite() or counted_mg < ZERO:
        raise RegisterError("The count must be 0 mg or more.")
    if counted_mg != counted_mg.quantize(Decimal("0.001")):
        raise RegisterError("The count can have at most three decimal places (0.001 mg).")
    count = StockCount.objects.create(
        lot=lot, counted_mg=counted_mg, counted_by=actor, counted_at=timezone.now()
    )
    audit_record(
        action=Action.REGISTER_COUNTED, actor=actor, subject=count, via=via, reason=str(lot.public_id)
    )
    return count


@transaction.atomic
def do_confirm_count(
    *, actor: User, count: StockCount, counted_mg: Decimal, via: Via | None = None
) -> CountCheck:
    """The second person counts the lot themselves, without seeing the first figure, and
    confirms it when both agree; the count is then compared with the balance. Any difference
    is a discrepancy to resolve."""
    if count.counted_by_id == actor.pk:
        raise RegisterError("You recorded this count: a second person must confirm it.")
    (lot,) = _locked(count.lot)
    if CountCheck.objects.filter(count=count).exists():
        raise RegisterError("This count has already been confirmed.")
    if counted_mg != count.counted_mg:
        raise RegisterError(
            f"Your count differs from {count.counted_by}'s. Count the lot again together, then confirm."
        )
    balance = balance_of(lot)
    check = CountCheck.objects.create(
        count=count,
        counted_by=count.counted_by,
        confirmed_by=actor,
        confirmed_at=timezone.now(),
        balance_mg=balance,
        difference_mg=count.counted_mg - balance,
    )
    audit_record(
        action=Action.REGISTER_COUNT_CONFIRMED,
        actor=actor,
        subject=check,
        via=via,
        reason="discrepancy" if check.is_discrepancy else "matches",
    )
    return check


@transaction.atomic
def do_resolve_discrepancy(
    *, actor: User, check: CountCheck, note: str, adjust: bool, via: Via | None = None
) -> Resolution:
    """Staff explain a discrepancy; with ``adjust`` the balance is brought to the count by an
    adjustment line that names the count."""
    if actor.role != Role.STAFF:
        raise RegisterError("Only clinic staff resolve discrepancies.")
    note = note.strip()
    if len(note) < 10:
        raise RegisterError("Explain what was found and done (at least 10 characters).")
    (lot,) = _locked(check.count.lot)
    if not check.is_discrepancy:
        raise RegisterError("This count matched the register: there is nothing to resolve.")
    if Resolution.objects.filter(count_check=check).exists():
        raise RegisterError("This discrepancy has already been resolved.")
    resolution = Resolution.objects.create(
        count_check=check, note=note, resolved_by=actor, resolved_at=timezone.now()
    )
    if adjust:
        _append(
            lot=lot,
            kind=EntryKind.ADJUSTMENT,
            change=check.difference_mg,
            occurred_at=check.confirmed_at,
            by=actor,
            count_check=check,
            note=note,
        )
    audit_record(
        action=Action.REGISTER_RESOLVED,
        actor=actor,
        subject=resolution,
        via=via,
        reason="adjusted" if adjust else "explained",
    )
    return resolution


# Corrections -----------------------------------------------------------------------------------


@transaction.atomic
def do_correct_entry(
    *, actor: User, entry: Entry, change_mg: Decimal, note: str, via: Via | None = None
) -> Entry:
    """A mistake put right: a new line that names the line it corrects and changes the balance
    by ``change_mg`` (negative to take away). The corrected line stays as it was."""
    if not isinstance(change_mg, Decimal) or not change_mg.is_finite() or change_mg == ZERO:
        raise RegisterError(
            "A correction changes the balance: give the difference in mg (negative to take away)."
        )
    if change_mg != change_mg.quantize(Decimal("0.001")):
        raise RegisterError("The correction can have at most three decimal places (0.001 mg).")
    note = note.strip()
    if len(note) < 10:
        raise RegisterError("Explain the mistake being corrected (at least 10 characters).")
    (lot,) = _locked(entry.lot)
    correction = _append(
        lot=lot,
        kind=EntryKind.CORRECTION,
        change=change_mg,
        occurred_at=timezone.now(),
        by=actor,
        corrects=entry,
        note=note,
        patient_id=entry.patient_id,
    )
    audit_record(
        action=Action.REGISTER_CORRECTED,
        actor=actor,
        subject=correction,
        patient=entry.patient,
        via=via,
        reason=str(entry.public_id),
    )
    return correction
