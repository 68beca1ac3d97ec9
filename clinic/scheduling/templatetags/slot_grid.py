"""``{% slot_grid days %}``: the free times of a week as submit buttons of one form.

Each time is a button ``name="start" value="<instant>"``: the browser sends the one clicked, so a
week of a busy clinic (hundreds of times) is one form with its hidden fields and token once,
written in Python rather than through template nodes. Where the times of several doctors are
listed together (``chosen_clinician`` true but not one doctor's id, as when moving a visit to
any doctor), each time keeps its own small form, since the doctor travels with the time."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


def _clock(moment: Any) -> str:
    """Django's ``time:"g:i A"``: 9:05 AM."""
    hour = moment.hour % 12 or 12
    return f"{hour}:{moment.minute:02d} {'AM' if moment.hour < 12 else 'PM'}"


@register.simple_tag(takes_context=True)
def slot_grid(context: template.Context, days: list[Any]) -> SafeString:
    token = context.get("csrf_token")
    token = str(token) if token and str(token) != "NOTPROVIDED" else ""
    csrf = f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(token)}">' if token else ""
    zone = str(context.get("zone", "UTC"))
    tz = ZoneInfo(zone)
    chosen, show_doctor = context.get("chosen_clinician"), context.get("show_doctor")
    per_slot = bool(chosen) and not isinstance(chosen, str)  # each time with its own doctor
    fixed = (
        f'<input type="hidden" name="jurisdiction" value="{escape(context.get("jurisdiction", ""))}">'
        f'<input type="hidden" name="tz" value="{escape(zone)}">'
    )
    if chosen and not per_slot:
        fixed += f'<input type="hidden" name="clinician" value="{escape(chosen)}">'
    opening = f'<form method="post" action="{escape(context.get("hold_url", ""))}">{csrf}{fixed}'
    out: list[str] = [] if per_slot else [opening]
    for d in days:
        stamp = d.day.strftime("%Y%m%d")
        out.append(
            f'<section class="day" aria-labelledby="day-{stamp}">'
            f'<h3 id="day-{stamp}">{d.day:%A}, {d.day:%B} {d.day.day}</h3>'
        )
        if not d.times:
            out.append('<p class="muted">No free times.</p></section>')
            continue
        out.append('<ul class="slot-grid">')
        for slot, doctor, abbreviation in d.rows:
            out.append("<li>")
            if per_slot:
                out.append(opening)
                out.append(f'<input type="hidden" name="clinician" value="{escape(slot.clinician_id)}">')
            out.append(
                f'<button class="slot" type="submit" name="start" value="{slot.start.isoformat()}">'
                f"{_clock(slot.start.astimezone(tz))}"
            )
            if abbreviation:
                out.append(f' <abbr class="slot__zone">{escape(abbreviation)}</abbr>')
            if show_doctor:
                out.append(f'<span class="slot__doctor">{escape(doctor)}</span>')
            out.append("</button></form></li>" if per_slot else "</button></li>")
        out.append("</ul></section>")
    if not per_slot:
        out.append("</form>")
    return mark_safe("".join(out))  # noqa: S308 (every value escaped above)
