"""Care listens to the layers below it (they never import care)."""

from typing import Any

from django.dispatch import receiver

from clinic.care import actions
from clinic.scheduling.signals import booking_cancelled, booking_no_show


@receiver(booking_cancelled, dispatch_uid="care.follow_cancelled_booking")
def _booking_cancelled(sender: Any, booking: Any, actor: Any = None, via: Any = None, **kwargs: Any) -> None:
    if booking.is_treatment_session:
        actions.follow_cancelled_booking(booking=booking, actor=actor, via=via)


@receiver(booking_no_show, dispatch_uid="care.follow_missed_booking")
def _booking_no_show(sender: Any, booking: Any, actor: Any = None, via: Any = None, **kwargs: Any) -> None:
    if booking.is_treatment_session:
        actions.follow_missed_booking(booking=booking, actor=actor, via=via)
