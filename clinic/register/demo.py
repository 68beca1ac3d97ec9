"""The demo clinic's register: one site with a ketamine lot and an esketamine lot received.

The strengths are demo labels, not figures from the clinic's reference facts: a real clinic
types what its own labels say."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from clinic.accounts.models import User
from clinic.register.actions import do_add_site, do_receive
from clinic.register.models import Drug, Site

DEMO_SITE = "Mendwell clinic, Manhattan (demo)"
# (drug, strength as on the label, lot number, quantity in mg, supplier)
DEMO_RECEIPTS = [
    (
        Drug.KETAMINE,
        "50 mg/mL, 10 mL vial (demo label)",
        "DEMO-K-2611",
        Decimal("5000"),
        "Demo Wholesale Pharmacy",
    ),
    (
        Drug.ESKETAMINE,
        "28 mg per nasal spray device (demo label)",
        "DEMO-E-2611",
        Decimal("672"),
        "Demo Specialty Distributor",
    ),
]


def seed_register(staff: User) -> Site:
    """The demo site and its receipts, once: a second run finds the site and adds nothing."""
    site = Site.objects.filter(name=DEMO_SITE).first()
    if site is not None:
        return site
    site = do_add_site(actor=staff, name=DEMO_SITE)
    received = timezone.now() - dt.timedelta(days=3)
    for drug, strength, lot_number, quantity, supplier in DEMO_RECEIPTS:
        do_receive(
            actor=staff,
            site=site,
            drug=drug,
            strength=strength,
            lot_number=lot_number,
            quantity_mg=quantity,
            supplier=supplier,
            received_at=received,
            expires_on=(received + dt.timedelta(days=540)).date(),
        )
    return site
