"""Signalling for the built-in 1:1 video room. Media never passes through the server: this only
relays WebRTC offers, answers and ICE candidates between the booked patient and the booked
clinician."""

from __future__ import annotations

import json
from typing import Any

from asgiref.sync import async_to_sync
from channels.generic.websocket import JsonWebsocketConsumer
from django.db import transaction
from django.utils import timezone

from clinic.audit.models import Action
from clinic.visits.access import participant_booking, visit_for, window_state
from clinic.visits.models import Attendance

ALLOWED_KINDS = {"hello", "hello-ack", "reset", "description", "candidate", "bye"}
MAX_MESSAGE = 64 * 1024


class VisitConsumer(JsonWebsocketConsumer):
    role: str = ""
    group: str = ""
    attendance_id: int | None = None

    def connect(self) -> None:
        user = self.scope.get("user")
        found = participant_booking(user, self.scope["url_route"]["kwargs"]["booking_id"]) if user else None
        if found is None:
            self.close(code=4404)
            return
        booking, role = found
        visit = visit_for(booking)
        # The patient reaches the call only once admitted, and nobody outside the window.
        if window_state(booking) != "open" or (role == "patient" and visit.admitted_at is None):
            self.close(code=4403)
            return
        self.role = role
        self.group = f"visit.{visit.public_id.hex}"
        async_to_sync(self.channel_layer.group_add)(self.group, self.channel_name)
        self.accept()
        with transaction.atomic():
            attendance = Attendance.objects.create(
                visit=visit, user=user, role=role, joined_at=timezone.now()
            )
            from clinic.audit.actions import audit_record

            audit_record(
                action=Action.VISIT_JOINED, actor=user, subject=visit, patient=booking.patient, reason=role
            )
        self.attendance_id = attendance.pk

    def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        if text_data is None or len(text_data) > MAX_MESSAGE:
            return
        try:
            content = json.loads(text_data)
        except ValueError:
            return
        if not isinstance(content, dict) or content.get("kind") not in ALLOWED_KINDS:
            return
        async_to_sync(self.channel_layer.group_send)(
            self.group, {"type": "relay", "sender_role": self.role, "message": content}
        )

    def relay(self, event: dict[str, Any]) -> None:
        # Only to the other participant: never back to the sender's side.
        if event["sender_role"] != self.role:
            self.send_json(event["message"])

    def disconnect(self, code: int) -> None:
        if not self.group:
            return
        async_to_sync(self.channel_layer.group_send)(
            self.group, {"type": "relay", "sender_role": self.role, "message": {"kind": "bye"}}
        )
        async_to_sync(self.channel_layer.group_discard)(self.group, self.channel_name)
        if self.attendance_id is not None:
            with transaction.atomic():
                attendance = Attendance.objects.select_related("visit__booking__patient", "user").get(
                    pk=self.attendance_id
                )
                attendance.left_at = timezone.now()
                attendance.save(update_fields=["left_at"])
                from clinic.audit.actions import audit_record

                audit_record(
                    action=Action.VISIT_LEFT,
                    actor=attendance.user,
                    subject=attendance.visit,
                    patient=attendance.visit.booking.patient,
                    reason=self.role,
                )
