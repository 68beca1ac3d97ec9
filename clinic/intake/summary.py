"""What an intake summary shows, as plain values for a template: answers with their wording,
flags for the clinician's judgement, medicines and history. Used by the patient's own page and,
downward, by the clinician's pages in ``visits``."""

from __future__ import annotations

from typing import Any

from clinic.intake import instruments, scoring
from clinic.intake.models import IntakeResponse


def summary(intake: IntakeResponse, answers: dict[str, Any], *, for_patient: bool = False) -> dict[str, Any]:
    """Everything a summary page shows, from the versions the answers were given on."""
    versions = intake.versions or {}

    def answered(key: str) -> list[dict[str, Any]]:
        instrument = instruments.get(key, versions.get(key, instruments.current(key).version))
        rows = []
        for item in instrument.items:
            value = answers.get(item.key)
            label = next((c.label for c in item.choices if c.value == value), value or "")
            if item.key == "asq5" and value is None:
                continue
            rows.append({"key": item.key, "text": item.text, "answer": label})
        return rows

    checklist = instruments.get_checklist("history", versions.get("history", 1))
    flags = [
        {
            "label": flag.label,
            "kind": str(flag.kind),
            "answer": next((c.label for c in flag.choices if c.value == answers.get(flag.key)), ""),
        }
        for flag in checklist.flags
    ]
    raised = [f for f in flags if f["answer"] == "Yes" and f["kind"] in scoring.JUDGEMENT_KINDS]
    medicines = [f for f in flags if f["answer"] == "Yes" and f["kind"] == "medication"]
    history = [f for f in flags if f["kind"] == "treatment_history"]
    return {
        "phq9_rows": answered("phq9"),
        "gad7_rows": answered("gad7"),
        "asq_rows": answered("asq"),
        "raised_flags": raised,
        "medicines": medicines,
        "medicines_list": answers.get("medicines_list", ""),
        "conditions_other": answers.get("conditions_other", ""),
        "substances_other": answers.get("substances_other", ""),
        "history": history,
        "phq9_meaning": scoring.band_meaning("phq9", intake.phq9_band) if intake.phq9_band else "",
        "gad7_meaning": scoring.band_meaning("gad7", intake.gad7_band) if intake.gad7_band else "",
        "for_patient": for_patient,
    }
