"""The treatment consent: a versioned text the patient reads and signs in their account, apart
from the telehealth consent of the intake. A new version is a new key; a plan keeps the version
it started with, and the signature names the version signed."""

from __future__ import annotations

CURRENT_VERSION = "2026-12"

TEXTS: dict[str, tuple[str, ...]] = {
    "2026-12": (
        "Your doctor has suggested a course of ketamine-based treatment for depression. This form "
        "is about that course; it is separate from the consent you gave for video consultations.",
        "Each session is given by the clinic's team, in the clinic or, for an at-home course, "
        "while a clinician watches over video. You will be observed after each dose until the "
        "team is sure you are ready to go home, and you agree to follow the team's instructions "
        "during that time.",
        "The medicine can make you feel detached or unreal, drowsy, dizzy or sick, and it can "
        "raise your blood pressure for a while. These effects usually pass within a few hours. "
        "Your doctor has talked with you about the less common and the longer-term risks, and "
        "what is still unknown about long-term use.",
        "Before each session you will answer a short check-in in your account. If your answers "
        "show you might not be safe, the session will not go ahead and a doctor will contact you.",
        "You must not drive, cycle or operate machinery until the next day after a night's "
        "sleep, and an adult must take you home (or, at home, be with you) after each session.",
        "Tell the team about any new medicines, alcohol or other drugs, and any pregnancy.",
        "You can stop the course at any time, and the team can pause or stop it if it is not "
        "safe to continue. Stopping does not affect the rest of your care with the clinic.",
        "The clinic is not an emergency service. If you are in danger, call your emergency number.",
    ),
}


def consent_text(version: str) -> tuple[str, ...]:
    return TEXTS[version]
