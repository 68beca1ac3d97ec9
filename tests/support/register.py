"""A stocked register site for tests: a ketamine lot received, and (optionally) a dose from a
signed session record for a patient."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from django.utils import timezone

from clinic.accounts.models import User
from clinic.register.actions import do_add_site, do_receive, do_record_administration
from clinic.register.models import Drug, Entry, Lot, Site

KETAMINE_LOT = "KT-2411"


def stocked_site(staff: User, *, name: str = "Manhattan clinic", quantity: str = "500") -> tuple[Site, Lot]:
    site = do_add_site(actor=staff, name=name)
    entry = do_receive(
        actor=staff,
        site=site,
        drug=Drug.KETAMINE,
        strength="50 mg/mL, 10 mL vial",
        lot_number=KETAMINE_LOT,
        quantity_mg=Decimal(quantity),
        supplier="Acme Pharma Distribution",
        received_at=timezone.now() - dt.timedelta(days=1),
    )
    return site, entry.lot


def administer(site: Site, lot: Lot, *, patient: User, clinician: User, quantity: str = "35") -> Entry:
    return do_record_administration(
        site=site,
        lot=lot,
        quantity_mg=Decimal(quantity),
        session_ref=uuid.uuid4(),
        patient=patient,
        by=clinician,
        at=timezone.now(),
    )
