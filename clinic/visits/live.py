"""The visit's live state, as both participants' pages see it: one payload for the status poll
and the websocket, and the push that tells the open sockets at once when it changes.

The push carries no personal data: it only says "look again", and each consumer reads the
visit itself with its own participant's rights.
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from clinic.accounts.jurisdictions import jurisdiction_name
from clinic.scheduling.models import Booking
from clinic.visits.access import clinician_licensed_for, window_state
from clinic.visits.models import Visit

log = logging.getLogger(__name__)


def group_for(visit: Visit) -> str:
    """The channel-layer group of a visit's two sockets."""
    return f"visit.{visit.public_id.hex}"


def is_blocked(booking: Booking, visit: Visit) -> bool:
    """The patient said where they are, and their clinician holds no licence covering the
    visit there: the visit cannot start until they say otherwise."""
    return (
        visit.attested_at is not None
        and visit.admitted_at is None
        and visit.waiting_since is None
        and not clinician_licensed_for(booking, visit.attested_jurisdiction)
    )


def status_of(booking: Booking, visit: Visit) -> dict[str, Any]:
    present = {a.role for a in visit.attendance.filter(left_at__isnull=True)}
    return {
        "window": window_state(booking),
        "attested_at": visit.attested_at.isoformat() if visit.attested_at else None,
        "place": jurisdiction_name(visit.attested_jurisdiction) if visit.attested_jurisdiction else "",
        "blocked": is_blocked(booking, visit),
        "waiting": visit.waiting_since is not None and visit.admitted_at is None,
        "admitted": visit.admitted_at is not None,
        "admitted_at": visit.admitted_at.isoformat() if visit.admitted_at else None,
        "clinician_in_call": "clinician" in present,
        "patient_in_call": "patient" in present,
    }


def visit_changed(visit: Visit) -> None:
    """Tell the visit's open sockets to read the visit again. Called after the change commits
    (``transaction.on_commit``): a consumer reading before the commit would see the old state.
    Best effort: the pages also poll while their socket is down."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group_for(visit), {"type": "visit.changed"})
    except Exception:  # the change is committed; a lost push only costs a poll's delay
        log.exception("Could not push the change of %s", visit)
