import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from clinic.accounts.actions import do_invite
from clinic.accounts.decorators import role_required
from clinic.accounts.forms import InviteForm, TimeZoneForm
from clinic.accounts.models import Licence, Role, User


@login_required
@require_safe
def home(request: HttpRequest) -> HttpResponse:
    """Where a signed-in person lands: their own area."""
    target = {
        Role.PATIENT: "accounts:patient_home",
        Role.CLINICIAN: "accounts:clinician_home",
        Role.STAFF: "accounts:staff_home",
    }[Role(request.user.role)]  # type: ignore[union-attr]
    return redirect(target)


@login_required
@require_safe
def mfa_required(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/mfa_required.html")


@role_required(Role.PATIENT)
@require_http_methods(["GET", "POST"])
def patient_home(request: HttpRequest) -> HttpResponse:
    from clinic.scheduling.models import Booking

    user: User = request.user  # type: ignore[assignment]
    form = TimeZoneForm(request.POST or None, initial={"time_zone": user.time_zone})
    if request.method == "POST" and form.is_valid():
        user.time_zone = form.cleaned_data["time_zone"]
        user.save(update_fields=["time_zone"])
        messages.success(request, "Time zone saved.")
        return redirect("accounts:patient_home")
    now = timezone.now()
    bookings = Booking.objects.filter(patient=user).select_related("clinician").order_by("-start")
    from clinic.visits.access import window_state

    upcoming = [b for b in bookings if b.end >= now and b.is_active][::-1]
    for booking in upcoming:
        booking.join_open = window_state(booking, now) == "open"  # type: ignore[attr-defined]
    from clinic.visits.models import ConsultNote

    past = [b for b in bookings if not (b.end >= now and b.is_active)][:10]
    with_message = set(
        ConsultNote.objects.filter(booking__in=past, signed_at__isnull=False).values_list(
            "booking_id", flat=True
        )
    )
    for booking in past:
        booking.has_message = booking.pk in with_message  # type: ignore[attr-defined]
    context = {
        "form": form,
        "upcoming": upcoming,
        "past": past,
    }
    return render(
        request, "accounts/patient_home.html", context, status=400 if request.method == "POST" else 200
    )


@role_required(Role.CLINICIAN)
@require_safe
def clinician_home(request: HttpRequest) -> HttpResponse:
    """Urgent items on top (for whoever is on call), then today's and upcoming appointments."""
    from clinic.intake.actions import on_call_clinicians
    from clinic.intake.models import UrgentItem
    from clinic.scheduling.models import Booking, BookingStatus

    clinician: User = request.user  # type: ignore[assignment]
    now = timezone.now()
    urgent = []
    if clinician in on_call_clinicians():
        urgent = list(
            UrgentItem.objects.filter(acknowledged_at__isnull=True)
            .select_related("patient")
            .order_by("created_at")
        )
    upcoming = list(
        Booking.objects.filter(clinician=clinician, status=BookingStatus.CONFIRMED, end__gte=now)
        .select_related("patient", "intake", "patient__patient_profile")
        .order_by("start")[:50]
    )
    from clinic.visits.access import window_state
    from clinic.visits.models import Visit

    visits = {v.booking_id: v for v in Visit.objects.filter(booking__in=upcoming)}
    for booking in upcoming:
        profile = getattr(booking.patient, "patient_profile", None)
        booking.preferred = (profile.preferred_name or profile.legal_name) if profile else ""  # type: ignore[attr-defined]
        booking.join_open = window_state(booking, now) == "open"  # type: ignore[attr-defined]
        visit = visits.get(booking.pk)
        booking.waiting = bool(visit and visit.waiting_since and not visit.admitted_at)  # type: ignore[attr-defined]
    return render(
        request,
        "accounts/clinician_home.html",
        {"urgent": urgent, "upcoming": upcoming, "zone": clinician.time_zone, "on_call": clinician.on_call},
    )


@role_required(Role.STAFF)
@require_safe
def staff_home(request: HttpRequest) -> HttpResponse:
    from clinic.content.models import ContactMessage, ContactStatus
    from clinic.intake.models import BreakGlass

    new_messages = ContactMessage.objects.filter(status=ContactStatus.NEW).count()
    unreviewed = BreakGlass.objects.filter(reviewed_at__isnull=True).count()
    today = timezone.now().date()
    expiring = Licence.objects.filter(
        expires_on__gte=today, expires_on__lte=today + dt.timedelta(days=60)
    ).count()
    return render(
        request,
        "accounts/staff_home.html",
        {"new_messages": new_messages, "unreviewed_break_glass": unreviewed, "expiring": expiring},
    )


@role_required(Role.STAFF)
@require_http_methods(["GET", "POST"])
def people(request: HttpRequest) -> HttpResponse:
    form = InviteForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            invited = do_invite(
                actor=request.user,  # type: ignore[arg-type]
                email=data["email"],
                display_name=data["display_name"],
                role=Role(data["role"]),
                time_zone=data["time_zone"],
                request=request,
            )
            messages.success(request, f"Invitation sent to {invited.email}.")
            return redirect("accounts:people")
    team = User.objects.filter(role__in=[Role.CLINICIAN, Role.STAFF]).order_by("role", "display_name")
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/people.html", {"form": form, "team": team}, status=status)
