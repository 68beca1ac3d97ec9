"""Answering the intake questionnaire as a patient does, through HTTP."""

import re

from django.test import Client
from django.urls import reverse

from clinic.intake import instruments
from clinic.intake.models import IntakeResponse

ABOUT = {
    "legal_name": "Patricia Patient",
    "preferred_name": "Pat",
    "date_of_birth": "1988-04-02",
    "phone": "+1 212 555 0100",
    "emergency_contact_name": "Sam Patient",
    "emergency_contact_phone": "+1 212 555 0199",
    "home_address": "1 Main St, Albany NY",
    "country": "US",
}


def phq9(item9="0", each="1"):
    answers = {f"phq9_{n}": each for n in range(1, 9)}
    answers["phq9_9"] = item9
    answers["phq9_difficulty"] = "somewhat_difficult"
    return answers


GAD7 = {f"gad7_{n}": "1" for n in range(1, 8)}
ASQ_NO = {"asq1": "no", "asq2": "no", "asq3": "no", "asq4": "no"}


def section(key: str, value: str = "no") -> dict:
    checklist = instruments.current_checklist()
    flags = next(s for s in checklist.sections if s.key == key).flags
    return {
        flag.key: (flag.choices[0].value if flag.key == "antidepressants_tried" else value)
        for flag in flags
        if flag.required
    }


def step_url(intake: IntakeResponse, step: str) -> str:
    return reverse("intake:step", args=[intake.public_id, step])


def post_step(client: Client, intake: IntakeResponse, step: str, data: dict):
    return client.post(step_url(intake, step), data)


def fill(client: Client, *, asq=None, asq5=None, item9="0", conditions=None, stop_before=None):
    """Answer every step as a patient would; return the last response and the intake."""
    start = client.get(reverse("intake:start"))
    intake = IntakeResponse.objects.get(
        public_id=re.search(r"/intake/([0-9a-f-]+)/", start["Location"]).group(1)
    )
    steps = [
        ("about", ABOUT),
        ("phq9", phq9(item9)),
        ("gad7", GAD7),
        ("asq", asq or ASQ_NO),
    ]
    if asq5 is not None:
        steps.append(("asq5", {"asq5": asq5}))
    steps += [
        ("conditions", conditions or section("conditions")),
        ("medicines", {**section("medicines"), "medicines_list": "sertraline 100 mg"}),
        ("past_treatment", section("past_treatment")),
        ("consent", {"agree": "on", "typed_name": "patricia  patient"}),
    ]
    response = None
    for name, data in steps:
        if name == stop_before:
            break
        response = post_step(client, intake, name, data)
        if response.status_code != 302 or "/help-now/" in response.get("Location", ""):
            break
    intake.refresh_from_db()
    return response, intake
