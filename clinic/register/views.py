"""The staff's pages of the controlled-substance register: sites, each site's lots and what waits
for a second person, each lot's lines, and the CSV for an inspection.

Every write goes through ``clinic.register.actions``; a refused write re-renders its page with
the reason (400 for a form that does not parse, 409 for one the register refuses) and changes
nothing. The lot page and the export name patients, so each writes a read row listing them.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from clinic.accounts.decorators import AuthedRequest, role_required
from clinic.accounts.models import Role, User
from clinic.audit.actions import Via, audit_record
from clinic.audit.models import Action
from clinic.register import actions, export, queries
from clinic.register.actions import RegisterError
from clinic.register.forms import (
    CorrectForm,
    CountForm,
    ReceiveForm,
    ResolveForm,
    SiteForm,
    TransferForm,
    WasteForm,
    when_in,
)
from clinic.register.models import CountCheck, Drug, Lot, Site, StockCount, WasteRecord


def _refused(request: AuthedRequest, exc: RegisterError) -> None:
    messages.error(request, exc.message)


# Sites -------------------------------------------------------------------------------------------


@role_required(Role.STAFF)
@require_http_methods(["GET", "POST"])
def index(request: AuthedRequest) -> HttpResponse:
    form = SiteForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                site = actions.do_add_site(
                    actor=request.user, name=form.cleaned_data["name"], via=Via.of(request)
                )
            except RegisterError as exc:
                form.add_error("name", exc.message)
                status = 409
            else:
                messages.success(request, f"{site.name} added. Record its first receipt.")
                return redirect("register:site", site_id=site.public_id)
    sites = [
        {
            "site": site,
            "lots": queries.lots_with_balances(site),
            "wastes": queries.pending_wastes(site).count(),
            "counts": queries.unconfirmed_counts(site).count(),
            "discrepancies": queries.open_discrepancies(site).count(),
        }
        for site in Site.objects.all()
    ]
    return render(request, "register/index.html", {"form": form, "sites": sites}, status=status)


def _site_page(
    request: AuthedRequest, site: Site, *, receive: ReceiveForm | None = None, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "register/site.html",
        {
            "site": site,
            "lots": queries.lots_with_balances(site),
            "wastes": queries.pending_wastes(site).order_by("recorded_at"),
            "counts": queries.unconfirmed_counts(site).order_by("counted_at"),
            "discrepancies": queries.open_discrepancies(site).order_by("confirmed_at"),
            "receive": receive or ReceiveForm(),
            "resolve": ResolveForm(),
            "zone": request.user.time_zone,
        },
        status=status,
    )


@role_required(Role.STAFF)
@require_safe
def site(request: AuthedRequest, site_id: uuid.UUID) -> HttpResponse:
    return _site_page(request, get_object_or_404(Site, public_id=site_id))


@role_required(Role.STAFF)
@require_POST
def receive(request: AuthedRequest, site_id: uuid.UUID) -> HttpResponse:
    place = get_object_or_404(Site, public_id=site_id)
    form = ReceiveForm(request.POST)
    if not form.is_valid():
        return _site_page(request, place, receive=form, status=400)
    data = form.cleaned_data
    try:
        entry = actions.do_receive(
            actor=request.user,
            site=place,
            drug=Drug(data["drug"]),
            strength=data["strength"],
            lot_number=data["lot_number"],
            expires_on=data["expires_on"],
            quantity_mg=data["quantity_mg"],
            supplier=data["supplier"],
            received_at=when_in(data["received_at"], request.user.time_zone),
            via=Via.of(request),
        )
    except RegisterError as exc:
        _refused(request, exc)
        return _site_page(request, place, receive=form, status=409)
    messages.success(request, f"Received {actions.mg(entry.change_mg)} into lot {entry.lot.lot_number}.")
    return redirect("register:site", site_id=place.public_id)


@role_required(Role.STAFF)
@require_POST
def witness(request: AuthedRequest, waste_id: uuid.UUID) -> HttpResponse:
    waste = get_object_or_404(WasteRecord.objects.select_related("lot", "lot__site"), public_id=waste_id)
    try:
        actions.do_witness_waste(actor=request.user, waste=waste, via=Via.of(request))
    except RegisterError as exc:
        _refused(request, exc)
        return _site_page(request, waste.lot.site, status=409)
    messages.success(request, f"Waste of {actions.mg(waste.quantity_mg)} witnessed; the balance is updated.")
    return redirect("register:site", site_id=waste.lot.site.public_id)


@role_required(Role.STAFF)
@require_POST
def confirm_count(request: AuthedRequest, count_id: uuid.UUID) -> HttpResponse:
    count = get_object_or_404(StockCount.objects.select_related("lot", "lot__site"), public_id=count_id)
    form = CountForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give your own count in mg (0 or more, up to three decimal places).")
        return _site_page(request, count.lot.site, status=400)
    try:
        check = actions.do_confirm_count(
            actor=request.user, count=count, counted_mg=form.cleaned_data["counted_mg"], via=Via.of(request)
        )
    except RegisterError as exc:
        _refused(request, exc)
        return _site_page(request, count.lot.site, status=409)
    if check.is_discrepancy:
        messages.warning(
            request,
            f"Count confirmed: {actions.mg(check.difference_mg)} against the register. "
            "Resolve the discrepancy below.",
        )
    else:
        messages.success(request, "Count confirmed: it matches the register.")
    return redirect("register:site", site_id=count.lot.site.public_id)


@role_required(Role.STAFF)
@require_POST
def resolve(request: AuthedRequest, check_id: uuid.UUID) -> HttpResponse:
    check = get_object_or_404(
        CountCheck.objects.select_related("count", "count__lot", "count__lot__site"), public_id=check_id
    )
    place = check.count.lot.site
    form = ResolveForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Explain what was found and done (at least 10 characters).")
        return _site_page(request, place, status=400)
    try:
        actions.do_resolve_discrepancy(
            actor=request.user,
            check=check,
            note=form.cleaned_data["note"],
            adjust=form.cleaned_data["adjust"],
            via=Via.of(request),
        )
    except RegisterError as exc:
        _refused(request, exc)
        return _site_page(request, place, status=409)
    messages.success(request, "Discrepancy resolved.")
    return redirect("register:site", site_id=place.public_id)


# Lots --------------------------------------------------------------------------------------------


def _lot_page(request: AuthedRequest, lot: Lot, *, status: int = 200, **forms: Any) -> HttpResponse:
    entries = list(
        lot.entries.select_related(
            "recorded_by", "patient", "witnessed_by", "other_site", "corrects", "waste"
        )
    )
    patients = {e.patient for e in entries if e.patient is not None}
    with transaction.atomic():
        audit_record(
            action=Action.REGISTER_VIEWED,
            actor=request.user,
            subject=lot,
            via=Via.of(request),
            patients=patients,
        )
    context = {
        "lot": lot,
        "site": lot.site,
        "entries": entries,
        "balance": entries[-1].balance_mg if entries else None,
        "pending": actions.pending_waste_of(lot),
        "zone": request.user.time_zone,
        "waste": WasteForm(),
        "transfer": TransferForm(site=lot.site),
        "count": CountForm(),
        "correct": CorrectForm(),
        **forms,
    }
    return render(request, "register/lot.html", context, status=status)


def _lot_or_404(lot_id: uuid.UUID) -> Lot:
    return get_object_or_404(Lot.objects.select_related("site"), public_id=lot_id)


@role_required(Role.STAFF)
@require_safe
def lot(request: AuthedRequest, lot_id: uuid.UUID) -> HttpResponse:
    return _lot_page(request, _lot_or_404(lot_id))


@role_required(Role.STAFF)
@require_POST
def waste(request: AuthedRequest, lot_id: uuid.UUID) -> HttpResponse:
    found = _lot_or_404(lot_id)
    form = WasteForm(request.POST)
    if not form.is_valid():
        return _lot_page(request, found, waste=form, status=400)
    data = form.cleaned_data
    try:
        actions.do_declare_waste(
            actor=request.user,
            lot=found,
            quantity_mg=data["quantity_mg"],
            reason=data["reason"],
            occurred_at=when_in(data["occurred_at"], request.user.time_zone),
            via=Via.of(request),
        )
    except RegisterError as exc:
        _refused(request, exc)
        return _lot_page(request, found, waste=form, status=409)
    messages.success(request, "Waste recorded. Another person must now witness it, signed in as themselves.")
    return redirect("register:lot", lot_id=found.public_id)


@role_required(Role.STAFF)
@require_POST
def transfer(request: AuthedRequest, lot_id: uuid.UUID) -> HttpResponse:
    found = _lot_or_404(lot_id)
    form = TransferForm(request.POST, site=found.site)
    if not form.is_valid():
        return _lot_page(request, found, transfer=form, status=400)
    data = form.cleaned_data
    try:
        out, _ = actions.do_transfer(
            actor=request.user,
            lot=found,
            to_site=data["to_site"],
            quantity_mg=data["quantity_mg"],
            occurred_at=when_in(data["occurred_at"], request.user.time_zone),
            via=Via.of(request),
        )
    except RegisterError as exc:
        _refused(request, exc)
        return _lot_page(request, found, transfer=form, status=409)
    messages.success(request, f"Transferred {actions.mg(-out.change_mg)} to {data['to_site']}.")
    return redirect("register:lot", lot_id=found.public_id)


@role_required(Role.STAFF)
@require_POST
def count(request: AuthedRequest, lot_id: uuid.UUID) -> HttpResponse:
    found = _lot_or_404(lot_id)
    form = CountForm(request.POST)
    if not form.is_valid():
        return _lot_page(request, found, count=form, status=400)
    try:
        actions.do_record_count(
            actor=request.user, lot=found, counted_mg=form.cleaned_data["counted_mg"], via=Via.of(request)
        )
    except RegisterError as exc:
        _refused(request, exc)
        return _lot_page(request, found, count=form, status=409)
    messages.success(request, "Count recorded. A second person must now confirm it, signed in as themselves.")
    return redirect("register:lot", lot_id=found.public_id)


@role_required(Role.STAFF)
@require_POST
def correct(request: AuthedRequest, lot_id: uuid.UUID) -> HttpResponse:
    found = _lot_or_404(lot_id)
    form = CorrectForm(request.POST)
    if not form.is_valid():
        return _lot_page(request, found, correct=form, status=400)
    entry = found.entries.filter(sequence=form.cleaned_data["line"]).first()
    if entry is None:
        form.add_error("line", f"This lot has no line {form.cleaned_data['line']}.")
        return _lot_page(request, found, correct=form, status=400)
    try:
        actions.do_correct_entry(
            actor=request.user,
            entry=entry,
            change_mg=form.cleaned_data["change_mg"],
            note=form.cleaned_data["note"],
            via=Via.of(request),
        )
    except RegisterError as exc:
        _refused(request, exc)
        return _lot_page(request, found, correct=form, status=409)
    messages.success(request, f"Line {entry.sequence} corrected by a new line.")
    return redirect("register:lot", lot_id=found.public_id)


# The inspection export ---------------------------------------------------------------------------


@role_required(Role.STAFF)
@require_safe
def export_csv(request: AuthedRequest, site_id: uuid.UUID) -> HttpResponse:
    place = get_object_or_404(Site, public_id=site_id)
    entries = export.entries_of(place)
    counts = export.counts_of(place)
    patients: set[User] = {e.patient for e in entries if e.patient is not None}
    with transaction.atomic():
        audit_record(
            action=Action.REGISTER_EXPORTED,
            actor=request.user,
            subject=place,
            via=Via.of(request),
            patients=patients,
        )
    response = HttpResponse(
        "".join(export.lines(place, entries, counts)), content_type="text/csv; charset=utf-8"
    )
    day = timezone.now().date().isoformat()
    response["Content-Disposition"] = (
        f'attachment; filename="register-{slugify(place.name) or "site"}-{day}.csv"'
    )
    return response
