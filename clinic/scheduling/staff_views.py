"""Pages for clinicians (their hours and a preview of what patients see) and staff (the day's
bookings, licences, appointment types)."""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from clinic.accounts.decorators import person, role_required
from clinic.accounts.models import Licence, Role, User
from clinic.audit.actions import audit_record
from clinic.audit.models import Action
from clinic.scheduling import actions, availability
from clinic.scheduling.forms import StaffCancelForm
from clinic.scheduling.jurisdictions import JURISDICTIONS, jurisdiction_name
from clinic.scheduling.models import AppointmentType, Booking, DateOverride, TimeOff, WeeklyHours
from clinic.scheduling.slots import group_by_local_day
from clinic.scheduling.tasks import notify_waitlist

PREVIEW_DAYS = 7


class WeeklyHoursForm(forms.ModelForm):
    class Meta:
        model = WeeklyHours
        fields = ["weekday", "start", "end"]
        widgets = {
            "start": forms.TimeInput(attrs={"type": "time"}),
            "end": forms.TimeInput(attrs={"type": "time"}),
        }

    def clean(self) -> dict:
        data = super().clean() or {}
        if data.get("start") and data.get("end") and data["end"] <= data["start"]:
            raise forms.ValidationError("The end must be after the start (split hours that cross midnight).")
        return data


class OverrideForm(forms.Form):
    date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    start = forms.TimeField(required=False, widget=forms.TimeInput(attrs={"type": "time"}))
    end = forms.TimeField(required=False, widget=forms.TimeInput(attrs={"type": "time"}))

    def clean(self) -> dict:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if (start is None) != (end is None):
            raise forms.ValidationError("Give both a start and an end, or neither to close the day.")
        if start and end and end <= start:
            raise forms.ValidationError("The end must be after the start.")
        return data


class TimeOffForm(forms.Form):
    start = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    end = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    note = forms.CharField(required=False, max_length=120)

    def clean(self) -> dict:
        data = super().clean() or {}
        if data.get("start") and data.get("end") and data["end"] <= data["start"]:
            raise forms.ValidationError("The end must be after the start.")
        return data


def _changed(clinician: User, request: HttpRequest, what: str) -> None:
    availability.schedule_changed()
    audit_record(
        action=Action.AVAILABILITY_CHANGED, actor=clinician, subject=clinician, request=request, reason=what
    )
    jurisdictions = list(clinician.licences.values_list("jurisdiction", flat=True))
    transaction.on_commit(lambda: [notify_waitlist.enqueue(jurisdiction=j) for j in jurisdictions])


@role_required(Role.CLINICIAN)
@require_http_methods(["GET", "POST"])
def availability_page(request: HttpRequest) -> HttpResponse:
    clinician: User = request.user  # type: ignore[assignment]
    zone = ZoneInfo(clinician.time_zone)
    kind = request.POST.get("kind", "")
    # Three forms on one page: a prefix each, so their fields and labels have distinct ids.
    weekly_form = WeeklyHoursForm(request.POST if kind == "weekly" else None, prefix="weekly")
    override_form = OverrideForm(request.POST if kind == "override" else None, prefix="override")
    off_form = TimeOffForm(request.POST if kind == "off" else None, prefix="off")
    if request.method == "POST":
        with transaction.atomic():
            if kind == "weekly" and weekly_form.is_valid():
                row = weekly_form.save(commit=False)
                row.clinician = clinician
                row.save()
                _changed(clinician, request, "weekly hours added")
                return redirect("scheduling:availability")
            if kind == "override" and override_form.is_valid():
                data = override_form.cleaned_data
                DateOverride.objects.create(
                    clinician=clinician, date=data["date"], start=data["start"], end=data["end"]
                )
                _changed(clinician, request, "date override added")
                return redirect("scheduling:availability")
            if kind == "off" and off_form.is_valid():
                data = off_form.cleaned_data
                # The form's naive local times are the clinician's wall clock.
                start = data["start"].replace(tzinfo=None)
                end = data["end"].replace(tzinfo=None)
                TimeOff.objects.create(
                    clinician=clinician,
                    start=start.replace(tzinfo=zone).astimezone(dt.UTC),
                    end=end.replace(tzinfo=zone).astimezone(dt.UTC),
                    note=data["note"],
                )
                _changed(clinician, request, "time off added")
                return redirect("scheduling:availability")
    preview = _preview(clinician)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "scheduling/availability.html",
        {
            "weekly": clinician.weekly_hours.all(),
            "overrides": clinician.date_overrides.filter(date__gte=timezone.now().astimezone(zone).date()),
            "time_off": clinician.time_off.filter(end__gte=timezone.now()),
            "licences": clinician.licences.all(),
            "weekly_form": weekly_form,
            "override_form": override_form,
            "off_form": off_form,
            "preview": preview,
            "zone": clinician.time_zone,
        },
        status=status,
    )


def _preview(clinician: User) -> list[tuple[str, list]]:
    """Exactly the slots patients are offered, per jurisdiction the clinician is licensed in."""
    now = timezone.now()
    result = []
    for licence in clinician.licences.all():
        found, _ = availability.free_slots(
            jurisdiction=licence.jurisdiction,
            appointment_type=actions.consultation_type(),
            start=now,
            end=now + dt.timedelta(days=PREVIEW_DAYS),
            clinician_ids=[str(clinician.public_id)],
        )
        result.append(
            (jurisdiction_name(licence.jurisdiction), group_by_local_day(found, clinician.time_zone))
        )
    return result


@role_required(Role.CLINICIAN)
@require_POST
def availability_delete(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    model = {"weekly": WeeklyHours, "override": DateOverride, "off": TimeOff}.get(kind)
    if model is None:
        raise Http404
    clinician: User = request.user  # type: ignore[assignment]
    with transaction.atomic():
        deleted, _ = model.objects.filter(pk=pk, clinician=clinician).delete()  # type: ignore[attr-defined]
        if not deleted:
            raise Http404
        _changed(clinician, request, f"{kind} removed")
    return redirect("scheduling:availability")


# Staff ----------------------------------------------------------------------------------------


@role_required(Role.STAFF)
@require_safe
def day_view(request: HttpRequest) -> HttpResponse:
    staff: User = request.user  # type: ignore[assignment]
    zone = ZoneInfo(staff.time_zone)
    try:
        day = dt.date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        day = timezone.now().astimezone(zone).date()
    start = dt.datetime.combine(day, dt.time.min, tzinfo=zone)
    end = start + dt.timedelta(days=1)
    bookings = (
        Booking.objects.filter(start__gte=start, start__lt=end)
        .select_related("clinician", "patient", "appointment_type", "intake")
        .order_by("clinician__display_name", "start")
    )
    by_clinician: dict[str, list[Booking]] = {}
    for booking in bookings:
        by_clinician.setdefault(booking.clinician.display_name or booking.clinician.email, []).append(booking)
    return render(
        request,
        "scheduling/day.html",
        {
            "day": day,
            "zone": staff.time_zone,
            "by_clinician": by_clinician,
            "prev": day - dt.timedelta(days=1),
            "next": day + dt.timedelta(days=1),
            "now": timezone.now(),
            "cancel_form": StaffCancelForm(),
        },
    )


def _staff_booking(booking_id: uuid.UUID) -> Booking:
    return get_object_or_404(Booking.objects.select_related("patient", "clinician"), public_id=booking_id)


@role_required(Role.STAFF)
@require_POST
def staff_cancel(request: HttpRequest, booking_id: uuid.UUID) -> HttpResponse:
    booking = _staff_booking(booking_id)
    form = StaffCancelForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give a reason: the patient is told why.")
    else:
        try:
            actions.do_cancel(
                actor=person(request), booking=booking, reason=form.cleaned_data["reason"], request=request
            )
            messages.success(request, "Cancelled; the patient has been emailed.")
        except actions.BookingError as exc:
            messages.error(request, exc.message)
    return redirect(f"{_day_url()}?date={booking.start.astimezone(request.user.zone).date().isoformat()}")  # type: ignore[union-attr]


@role_required(Role.STAFF)
@require_POST
def staff_no_show(request: HttpRequest, booking_id: uuid.UUID) -> HttpResponse:
    booking = _staff_booking(booking_id)
    try:
        actions.do_mark_no_show(actor=request.user, booking=booking, request=request)  # type: ignore[arg-type]
        messages.success(request, "Marked as a no-show.")
    except actions.BookingError as exc:
        messages.error(request, exc.message)
    return redirect(f"{_day_url()}?date={booking.start.astimezone(request.user.zone).date().isoformat()}")  # type: ignore[union-attr]


def _day_url() -> str:
    from django.urls import reverse

    return reverse("scheduling:day")


class LicenceForm(forms.ModelForm):
    jurisdiction = forms.ChoiceField(choices=list(JURISDICTIONS.items()))

    class Meta:
        model = Licence
        fields = ["clinician", "jurisdiction", "number", "expires_on"]
        widgets = {"expires_on": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["clinician"].queryset = User.objects.filter(role=Role.CLINICIAN)  # type: ignore[attr-defined]

    def clean(self) -> dict:
        data = super().clean() or {}
        if data.get("expires_on") and data["expires_on"] < timezone.now().date():
            raise forms.ValidationError("This licence has already expired.")
        return data


@role_required(Role.STAFF)
@require_http_methods(["GET", "POST"])
def licences(request: HttpRequest) -> HttpResponse:
    form = LicenceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.save()
        availability.schedule_changed()
        messages.success(request, "Licence added. Verify it against the state board before it counts.")
        return redirect("scheduling:licences")
    soon = timezone.now().date() + dt.timedelta(days=60)
    rows = Licence.objects.select_related("clinician", "verified_by").order_by(
        "clinician__display_name", "jurisdiction"
    )
    return render(
        request,
        "scheduling/licences.html",
        {"form": form, "licences": rows, "soon": soon, "today": timezone.now().date()},
        status=400 if request.method == "POST" else 200,
    )


@role_required(Role.STAFF)
@require_POST
def verify_licence(request: HttpRequest, licence_id: uuid.UUID) -> HttpResponse:
    with transaction.atomic():
        licence = get_object_or_404(Licence.objects.select_for_update(), public_id=licence_id)
        if licence.verified_at is None:
            licence.verified_by = request.user  # type: ignore[assignment]
            licence.verified_at = timezone.now()
            licence.save(update_fields=["verified_by", "verified_at"])
            audit_record(
                action=Action.LICENCE_VERIFIED,
                actor=request.user,  # type: ignore[arg-type]
                subject=licence,
                request=request,
                reason=licence.jurisdiction,
            )
            jurisdiction = licence.jurisdiction
            availability.schedule_changed()
            transaction.on_commit(lambda: notify_waitlist.enqueue(jurisdiction=jurisdiction))
    messages.success(request, "Licence verified.")
    return redirect("scheduling:licences")


class AppointmentTypeForm(forms.ModelForm):
    class Meta:
        model = AppointmentType
        fields = [
            "name",
            "duration_minutes",
            "buffer_before_minutes",
            "buffer_after_minutes",
            "min_notice_minutes",
            "horizon_days",
            "max_per_day",
            "cancel_cutoff_hours",
        ]


@role_required(Role.STAFF)
@require_http_methods(["GET", "POST"])
def appointment_types(request: HttpRequest) -> HttpResponse:
    types = list(AppointmentType.objects.all())
    forms_by_type = []
    status = 200
    for appointment_type in types:
        prefix = appointment_type.kind
        bound = request.method == "POST" and request.POST.get("kind") == appointment_type.kind
        form = AppointmentTypeForm(request.POST if bound else None, instance=appointment_type, prefix=prefix)
        if bound:
            if form.is_valid():
                with transaction.atomic():
                    form.save()
                    availability.schedule_changed()
                    audit_record(
                        action=Action.APPOINTMENT_TYPE_CHANGED,
                        actor=request.user,  # type: ignore[arg-type]
                        subject=appointment_type,
                        request=request,
                    )
                messages.success(request, f"{appointment_type.name} saved.")
                return redirect("scheduling:appointment_types")
            status = 400
        forms_by_type.append((appointment_type, form))
    return render(request, "scheduling/appointment_types.html", {"forms": forms_by_type}, status=status)
