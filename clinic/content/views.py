from django.conf import settings
from django.contrib import messages
from django.db import connection
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_tasks_db.models import DBTaskResult

from clinic.accounts.decorators import role_required
from clinic.accounts.models import Role
from clinic.audit.actions import Via, audit_record, client_ip
from clinic.audit.models import Action
from clinic.content import pages
from clinic.content.actions import do_receive_contact, do_set_contact_status
from clinic.content.crisis import country_for, crisis_lines
from clinic.content.forms import ContactForm, ContactStatusForm
from clinic.content.models import ContactMessage, ContactStatus, CrisisLine
from clinic.ratelimit import hit
from clinic.views import public_page


@public_page
@require_safe
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "content/home.html", {"pages": pages.all_pages()})


@public_page
@require_safe
def learn_index(request: HttpRequest) -> HttpResponse:
    return render(request, "content/learn_index.html", {"pages": pages.all_pages()})


@public_page
@require_safe
def learn_page(request: HttpRequest, slug: str) -> HttpResponse:
    page = pages.get_page(slug)
    if page is None:
        raise Http404("No such page.")
    others = [p for p in pages.all_pages() if p.slug != slug]
    return render(request, "content/learn_page.html", {"page": page, "others": others})


@public_page
@require_safe
def crisis(request: HttpRequest) -> HttpResponse:
    by_country: dict[str, list[CrisisLine]] = {}
    for line in CrisisLine.objects.order_by("country", "order", "id"):
        by_country.setdefault(line.country, []).append(line)
    chosen = request.GET.get("country", "").upper()
    if chosen not in by_country:
        chosen = ""
    return render(
        request,
        "content/crisis.html",
        {
            "lines": crisis_lines(chosen or country_for(request.user)),
            "by_country": by_country,
            "chosen": chosen,
        },
    )


@public_page
@require_safe
def static_page(request: HttpRequest, template: str) -> HttpResponse:
    return render(request, template)


@require_http_methods(["GET", "POST"])
def contact(request: HttpRequest) -> HttpResponse:
    form = ContactForm(request.POST or None)
    if request.method == "POST":
        if hit(group="contact", key=client_ip(request) or "unknown", rate=settings.CONTACT_RATE):
            return render(request, "content/contact.html", {"form": form, "rate_limited": True}, status=429)
        if form.is_valid():
            data = form.cleaned_data
            if not data["website"]:
                do_receive_contact(
                    name=data["name"],
                    email=data["email"],
                    phone=data["phone"],
                    message=data["message"],
                    via=Via.of(request),
                )
            # A bot that filled the honeypot sees the same page and learns nothing.
            return redirect("content:contact_thanks")
        return render(request, "content/contact.html", {"form": form}, status=400)
    return render(request, "content/contact.html", {"form": form})


@require_safe
def contact_thanks(request: HttpRequest) -> HttpResponse:
    return render(request, "content/contact_thanks.html", {"lines": crisis_lines()})


@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """Database reachable? Worker keeping up? 200 when both are fine, 503 otherwise."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        database = "ok"
    except Exception:  # noqa: BLE001 — any failure here means "not ok"
        database = "unavailable"
    worker = _worker_status() if database == "ok" else {"status": "unknown"}
    healthy = database == "ok" and worker["status"] in {"ok", "idle"}
    return JsonResponse({"database": database, "worker": worker}, status=200 if healthy else 503)


def _worker_status() -> dict:
    # With the database queue, a worker that is alive keeps the oldest waiting task young.
    if settings.TASKS_BACKEND != "database":
        return {"status": "ok", "backend": settings.TASKS_BACKEND}
    waiting = DBTaskResult.objects.ready()
    oldest = waiting.order_by("enqueued_at").values_list("enqueued_at", flat=True).first()
    if oldest is None:
        return {"status": "idle", "queued": 0}
    age = (timezone.now() - oldest).total_seconds()
    return {
        "status": "ok" if age < 120 else "stalled",
        "queued": waiting.count(),
        "oldest_seconds": round(age),
    }


# Staff: the contact inbox -------------------------------------------------------------------


@role_required(Role.STAFF)
@require_safe
def inbox(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", ContactStatus.NEW)
    if status not in ContactStatus.values:
        status = ContactStatus.NEW
    items = ContactMessage.objects.filter(status=status).defer("message", "phone")[:200]
    counts = dict(ContactMessage.objects.values_list("status").annotate(n=Count("id")))
    tabs = [(value, label, counts.get(value, 0)) for value, label in ContactStatus.choices]
    return render(request, "content/inbox.html", {"items": items, "status": status, "tabs": tabs})


@role_required(Role.STAFF)
@require_safe
def inbox_message(request: HttpRequest, public_id: str) -> HttpResponse:
    item = get_object_or_404(ContactMessage, public_id=public_id)
    audit_record(action=Action.CONTACT_READ, actor=request.user, subject=item, via=Via.of(request))  # type: ignore[arg-type]
    return render(request, "content/inbox_message.html", {"item": item, "form": ContactStatusForm()})


@role_required(Role.STAFF)
@require_POST
def inbox_status(request: HttpRequest, public_id: str) -> HttpResponse:
    item = get_object_or_404(ContactMessage, public_id=public_id)
    form = ContactStatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose new, answered or closed.")
        return redirect("content:inbox_message", public_id=item.public_id)
    status = ContactStatus(form.cleaned_data["status"])
    do_set_contact_status(actor=request.user, message=item, status=status, via=Via.of(request))  # type: ignore[arg-type]
    messages.success(request, f"Marked as {status.label.lower()}.")
    return redirect("content:inbox")
