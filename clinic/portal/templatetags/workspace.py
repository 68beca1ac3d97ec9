"""``{% workspace_nav %}``: the navigation of clinicians and staff, with the counts that tell
them where they are needed (urgent items for whoever is on call; new messages for staff)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import template
from django.urls import reverse

from clinic.accounts.models import Role, User
from clinic.care.session_actions import rems_forms_waiting
from clinic.content.models import ContactMessage, ContactStatus
from clinic.intake.models import UrgentItem
from clinic.register.queries import waiting as register_waiting

register = template.Library()


@dataclass(frozen=True)
class Link:
    label: str
    url: str
    count: int | None = None
    count_label: str = ""
    alert: bool = False
    current: bool = False


def _links(user: User) -> list[Link]:
    if user.role == Role.CLINICIAN:
        on_call = user in User.objects.on_call()
        urgent = UrgentItem.objects.filter(acknowledged_at__isnull=True).count() if on_call else 0
        return [
            Link("Today", reverse("portal:clinician_home")),
            Link("Patients", reverse("portal:patients")),
            Link(
                "Urgent",
                reverse("portal:clinician_home") + "#urgent-title",
                # Urgent items go to whoever is on call: the others see no count to chase.
                count=urgent if on_call else None,
                count_label="waiting",
                alert=urgent > 0,
            ),
            Link("Availability", reverse("scheduling:availability")),
            Link("Protocols", reverse("care:protocols")),
            Link("Outcomes", reverse("outcomes:report")),
            Link("Security", reverse("mfa_index")),
        ]
    if user.role == Role.NURSE:
        return [
            Link("Today", reverse("portal:nurse_home")),
            Link("Security", reverse("mfa_index")),
        ]
    if user.role == Role.STAFF:
        new = ContactMessage.objects.filter(status=ContactStatus.NEW).count()
        return [
            Link("Today", reverse("scheduling:day")),
            Link("Inbox", reverse("content:inbox"), count=new, count_label="new"),
            Link("Licences", reverse("scheduling:licences")),
            Link("Protocols", reverse("care:protocols")),
            Link("People", reverse("accounts:people")),
            Link(
                "Register",
                reverse("register:index"),
                # Waste to witness, counts to confirm and discrepancies to resolve.
                count=register_waiting().total or None,
                count_label="waiting",
            ),
            Link(
                "REMS forms",
                reverse("care:rems_due"),
                count=rems_forms_waiting() or None,
                count_label="to submit",
            ),
            Link("Reports", reverse("portal:funnel")),
            Link("Outcomes", reverse("outcomes:report")),
            Link("Audit", reverse("portal:audit_log")),
        ]
    return []


def _mark_current(links: list[Link], path: str) -> list[Link]:
    """The link whose address is the longest prefix of the page's path is the current one."""
    best = max(
        (link for link in links if "#" not in link.url and path.startswith(link.url)),
        key=lambda link: len(link.url),
        default=None,
    )
    return [
        Link(link.label, link.url, link.count, link.count_label, link.alert, link is best) for link in links
    ]


@register.inclusion_tag("portal/_workspace_nav.html", takes_context=True)
def workspace_nav(context: template.Context) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if request is None or not isinstance(user, User):
        return {"links": []}
    return {"links": _mark_current(_links(user), request.path)}
