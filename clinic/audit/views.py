import datetime as dt

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from clinic.accounts.decorators import role_required
from clinic.accounts.models import Role
from clinic.audit.actions import audit_record
from clinic.audit.forms import AuditFilterForm
from clinic.audit.models import Action, AuditEvent


@role_required(Role.STAFF)
@require_safe
def audit_log(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    events = AuditEvent.objects.select_related("actor", "patient")
    if form.is_valid():
        data = form.cleaned_data
        if data["actor"]:
            events = events.filter(actor_label__icontains=data["actor"])
        if data["action"]:
            events = events.filter(action=data["action"])
        if data["patient"]:
            events = events.filter(patient__public_id=data["patient"])
        if data["subject"]:
            events = events.filter(subject_id=data["subject"])
        if data["since"]:
            events = events.filter(at__gte=dt.datetime.combine(data["since"], dt.time.min, tzinfo=dt.UTC))
        if data["until"]:
            events = events.filter(
                at__lt=dt.datetime.combine(data["until"] + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
            )
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    # Reading the log is itself an event: who looked at whose history.
    audit_record(action=Action.AUDIT_VIEWED, actor=request.user, request=request)  # type: ignore[arg-type]
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "audit/log.html", {"form": form, "page": page, "query": query.urlencode()})
