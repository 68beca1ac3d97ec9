"""The visit's websocket, for its two participants only (the booked patient and the booked
clinician) and only while the visit is open.

- Before admission it is the waiting room's line: both sides receive the visit's status the
  moment it changes (the patient arrives, is blocked for location, is let in), and the patient's
  device check ("ready") reaches the clinician. Nothing else passes.
- Once the patient is admitted it also relays the WebRTC negotiation (offers, answers, ICE
  candidates) between the two. Media never passes through the server.
"""

from __future__ import annotations

import json
from typing import Any

from asgiref.sync import async_to_sync
from channels.generic.websocket import JsonWebsocketConsumer

from clinic.scheduling.models import Booking
from clinic.visits.access import WindowState, participant_booking, visit_for, window_state
from clinic.visits.actions import do_join_call, do_leave_call
from clinic.visits.live import group_for, status_of
from clinic.visits.models import Participant, Visit

# The call's negotiation: relayed only between admitted participants.
SIGNALLING = {"hello", "hello-ack", "reset", "description", "candidate", "bye"}
# The waiting patient's device check, for the clinician deciding whom to admit.
READY_MEDIA = {"video", "audio", "none"}
MAX_MESSAGE = 64 * 1024


class VisitConsumer(JsonWebsocketConsumer):
    role: Participant | None = None
    group: str = ""
    booking_pk: int = 0
    admitted: bool = False
    attendance_id: int | None = None

    def connect(self) -> None:
        user = self.scope.get("user")
        found = participant_booking(user, self.scope["url_route"]["kwargs"]["booking_id"]) if user else None
        if found is None:
            self.close(code=4404)
            return
        booking, role = found
        if window_state(booking) != WindowState.OPEN:
            self.close(code=4403)
            return
        visit = visit_for(booking)
        self.role = role
        self.booking_pk = booking.pk
        self.group = group_for(visit)
        async_to_sync(self.channel_layer.group_add)(self.group, self.channel_name)
        self.accept()
        self._update(booking, visit)
        # The other side learns someone arrived (a waiting patient answers with its device check).
        self._to_other({"kind": "present", "role": self.role})

    # From the browser ----------------------------------------------------------------------

    def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        if text_data is None or len(text_data) > MAX_MESSAGE:
            return
        try:
            content = json.loads(text_data)
        except ValueError:
            return
        if not isinstance(content, dict):
            return
        kind = content.get("kind")
        if kind == "ready" and self.role == Participant.PATIENT and content.get("media") in READY_MEDIA:
            self._to_other({"kind": "ready", "media": content["media"]})
        elif kind in SIGNALLING and self.admitted:
            self._to_other(content)

    def _to_other(self, message: dict[str, Any]) -> None:
        async_to_sync(self.channel_layer.group_send)(
            self.group, {"type": "relay", "sender_role": self.role, "message": message}
        )

    # From the channel layer ----------------------------------------------------------------

    def relay(self, event: dict[str, Any]) -> None:
        # Only to the other participant, never back to the sender's side; and no negotiation
        # reaches a socket that is not in the call.
        if event["sender_role"] == self.role:
            return
        if event["message"].get("kind") in SIGNALLING and not self.admitted:
            return
        self.send_json(event["message"])

    def visit_changed(self, event: dict[str, Any]) -> None:
        """The visit changed (pushed after commit): read it again and tell the browser."""
        booking = (
            Booking.objects.select_related("patient", "clinician", "appointment_type")
            .filter(pk=self.booking_pk)
            .first()
        )
        visit = Visit.objects.filter(booking_id=self.booking_pk).first()
        if booking is None or visit is None:
            return
        self._update(booking, visit)

    def _update(self, booking: Booking, visit: Visit) -> None:
        """Follow admission (join the call, or leave it when the patient must be let in again)
        and send the current status."""
        admitted = visit.admitted_at is not None
        assert self.role is not None
        if admitted and self.attendance_id is None:
            self.attendance_id = do_join_call(user=self.scope["user"], visit=visit, role=self.role).pk
        elif not admitted and self.attendance_id is not None:
            do_leave_call(attendance_id=self.attendance_id)
            self.attendance_id = None
        self.admitted = admitted
        self.send_json({"kind": "status", **status_of(booking, visit)})

    def disconnect(self, code: int) -> None:
        if not self.group:
            return
        if self.admitted:
            self._to_other({"kind": "bye"})
        self._to_other({"kind": "gone", "role": self.role})
        async_to_sync(self.channel_layer.group_discard)(self.group, self.channel_name)
        if self.attendance_id is not None:
            do_leave_call(attendance_id=self.attendance_id)
