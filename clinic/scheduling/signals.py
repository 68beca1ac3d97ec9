"""What scheduling tells the layers above it, without knowing them.

``booking_cancelled`` is sent inside ``do_cancel``'s transaction, after the booking is saved, with
``booking``, ``actor`` and ``via``: a receiver's writes commit or roll back with the cancellation.
The treatment course listens so a session whose booking was cancelled (by the patient, staff or
the manage link) leaves the course's timeline and its check-ins follow.

``booking_no_show`` is sent inside ``do_mark_no_show``'s transaction the same way: the course
marks the session missed.
"""

from django.dispatch import Signal

booking_cancelled = Signal()
booking_no_show = Signal()
