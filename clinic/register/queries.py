"""Reads of the register for its pages and its export: balances, what waits for a second person,
and the discrepancies still open."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import OuterRef, QuerySet, Subquery

from clinic.register.models import CountCheck, Entry, Lot, Site, StockCount, WasteRecord

ZERO = Decimal(0)


def lots_with_balances(site: Site) -> QuerySet[Lot]:
    """The site's lots, each with ``balance`` (its last line's balance; None before any line)."""
    last = Entry.objects.filter(lot=OuterRef("pk")).order_by("-sequence").values("balance_mg")[:1]
    return site.lots.annotate(balance=Subquery(last)).order_by("drug", "lot_number")


def pending_wastes(site: Site | None = None) -> QuerySet[WasteRecord]:
    rows = WasteRecord.objects.filter(entry__isnull=True).select_related("lot", "lot__site", "recorded_by")
    return rows.filter(lot__site=site) if site is not None else rows


def unconfirmed_counts(site: Site | None = None) -> QuerySet[StockCount]:
    rows = StockCount.objects.filter(confirmation__isnull=True).select_related(
        "lot", "lot__site", "counted_by"
    )
    return rows.filter(lot__site=site) if site is not None else rows


def open_discrepancies(site: Site | None = None) -> QuerySet[CountCheck]:
    rows = (
        CountCheck.objects.exclude(difference_mg=ZERO)
        .filter(resolution__isnull=True)
        .select_related("count", "count__lot", "count__lot__site", "counted_by", "confirmed_by")
    )
    return rows.filter(count__lot__site=site) if site is not None else rows


@dataclass(frozen=True)
class Waiting:
    """What the register asks of staff, for the navigation's count."""

    wastes: int
    counts: int
    discrepancies: int

    @property
    def total(self) -> int:
        return self.wastes + self.counts + self.discrepancies


def waiting() -> Waiting:
    return Waiting(
        wastes=pending_wastes().count(),
        counts=unconfirmed_counts().count(),
        discrepancies=open_discrepancies().count(),
    )
