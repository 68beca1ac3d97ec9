"""A site's whole register as CSV, for an inspection: every line of every lot in order, then
every count with its confirmation and resolution. Times are UTC (ISO 8601); quantities mg."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator

from clinic.accounts.models import User
from clinic.register.models import CountCheck, Entry, Site, StockCount

ENTRY_HEADER = [
    "site",
    "drug",
    "strength",
    "lot",
    "lot expires",
    "line",
    "entry",
    "occurred at (UTC)",
    "recorded at (UTC)",
    "recorded by",
    "change (mg)",
    "balance (mg)",
    "supplier",
    "patient",
    "patient id",
    "session",
    "witnessed by",
    "other site",
    "corrects line",
    "note",
]
COUNT_HEADER = [
    "site",
    "drug",
    "strength",
    "lot",
    "counted at (UTC)",
    "counted by",
    "counted (mg)",
    "confirmed by",
    "confirmed at (UTC)",
    "register balance (mg)",
    "difference (mg)",
    "resolved by",
    "resolved at (UTC)",
    "resolution",
]


def _safe(value: str) -> str:
    """Text a spreadsheet would run as a formula is quoted (CSV injection)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _when(value: dt.datetime | None) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="seconds") if value else ""


def _who(user: User | None) -> str:
    return _safe(f"{user.display_name or user.email}") if user is not None else ""


def entries_of(site: Site) -> list[Entry]:
    return list(
        Entry.objects.filter(lot__site=site)
        .select_related("lot", "recorded_by", "patient", "witnessed_by", "other_site", "corrects", "waste")
        .order_by("lot__drug", "lot__lot_number", "sequence")
    )


def counts_of(site: Site) -> list[StockCount]:
    return list(
        StockCount.objects.filter(lot__site=site)
        .select_related(
            "lot", "counted_by", "confirmation__confirmed_by", "confirmation__resolution__resolved_by"
        )
        .order_by("counted_at")
    )


def lines(site: Site, entries: list[Entry], counts: list[StockCount]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(ENTRY_HEADER)
    for e in entries:
        writer.writerow(
            [
                _safe(site.name),
                e.lot.get_drug_display(),
                _safe(e.lot.strength),
                _safe(e.lot.lot_number),
                e.lot.expires_on.isoformat() if e.lot.expires_on else "",
                e.sequence,
                e.get_kind_display(),
                _when(e.occurred_at),
                _when(e.recorded_at),
                _who(e.recorded_by),
                f"{e.change_mg:f}",
                f"{e.balance_mg:f}",
                _safe(e.supplier),
                _who(e.patient),
                str(e.patient.public_id) if e.patient else "",
                str(e.session_ref or ""),
                _who(e.witnessed_by),
                _safe(e.other_site.name) if e.other_site else "",
                e.corrects.sequence if e.corrects else "",
                _safe(e.note or (e.waste.reason if e.waste else "")),
            ]
        )
        yield flush()
    writer.writerow([])
    writer.writerow(COUNT_HEADER)
    for c in counts:
        check: CountCheck | None = getattr(c, "confirmation", None)
        resolution = getattr(check, "resolution", None) if check else None
        writer.writerow(
            [
                _safe(site.name),
                c.lot.get_drug_display(),
                _safe(c.lot.strength),
                _safe(c.lot.lot_number),
                _when(c.counted_at),
                _who(c.counted_by),
                f"{c.counted_mg:f}",
                _who(check.confirmed_by) if check else "",
                _when(check.confirmed_at) if check else "",
                f"{check.balance_mg:f}" if check else "",
                f"{check.difference_mg:f}" if check else "",
                _who(resolution.resolved_by) if resolution else "",
                _when(resolution.resolved_at) if resolution else "",
                _safe(resolution.note) if resolution else "",
            ]
        )
        yield flush()
