"""The check-in instruments that are not the intake's, in the intake's own frozen shape
(``clinic.intake.instruments.Instrument``), versioned the same way. PHQ-9, GAD-7 and ASQ are the
intake's, reused as they are (same versions, same scoring).

Sources:

- AUDIT-C: the first three questions of the WHO AUDIT (Babor et al., WHO 2001; public domain), in
  WHO's wording with its 0-4 scores. INSTRUMENTS.md does not list it, and gives no cut-off, so the
  total is recorded and shown to the clinician; no threshold turns it into a flag here.
- Drug use: the single-question screen (Smith et al., Arch Intern Med 2010), in its published
  wording. Any answer other than "Never" is shown to the clinician as reported use.
- Side effects after a session and bladder symptoms: CLINIC-DEFINED items, NOT a validated scale,
  and labelled so on the form. Their kinds follow the side effects the outcomes registry counts
  (``clinic.care.outcomes.AE_KINDS``); any "yes" is shown to the clinician.
"""

from __future__ import annotations

from clinic.intake import instruments as intake_instruments
from clinic.intake.instruments import Choice, Instrument, Item

__all__ = ["NOT_VALIDATED", "current", "get", "is_clinic_defined"]

NOT_VALIDATED = "Clinic-defined questions, not a validated scale."

YES_NO = (Choice("no", "No", 0), Choice("yes", "Yes", 1))

AUDITC_V1 = Instrument(
    key="auditc",
    version=1,
    title="Alcohol (AUDIT-C)",
    prompt="These questions are about drinking alcohol.",
    copyright="AUDIT questions 1-3, World Health Organization (public domain).",
    items=(
        Item(
            key="auditc_1",
            text="How often do you have a drink containing alcohol?",
            choices=(
                Choice("0", "Never", 0),
                Choice("1", "Monthly or less", 1),
                Choice("2", "2 to 4 times a month", 2),
                Choice("3", "2 to 3 times a week", 3),
                Choice("4", "4 or more times a week", 4),
            ),
        ),
        Item(
            key="auditc_2",
            text="How many drinks containing alcohol do you have on a typical day when you are drinking?",
            choices=(
                Choice("0", "1 or 2", 0),
                Choice("1", "3 or 4", 1),
                Choice("2", "5 or 6", 2),
                Choice("3", "7, 8, or 9", 3),
                Choice("4", "10 or more", 4),
            ),
        ),
        Item(
            key="auditc_3",
            text="How often do you have six or more drinks on one occasion?",
            choices=(
                Choice("0", "Never", 0),
                Choice("1", "Less than monthly", 1),
                Choice("2", "Monthly", 2),
                Choice("3", "Weekly", 3),
                Choice("4", "Daily or almost daily", 4),
            ),
        ),
    ),
)

DRUG_USE_V1 = Instrument(
    key="drug_use",
    version=1,
    title="Drug use",
    prompt="This question is about drug use.",
    items=(
        Item(
            key="drug_use_1",
            text=(
                "How many times in the past year have you used an illegal drug or used a prescription "
                "medication for non-medical reasons?"
            ),
            choices=(
                Choice("0", "Never", 0),
                Choice("1", "Once or more", 1),
            ),
        ),
    ),
)

SIDE_EFFECTS_V1 = Instrument(
    key="side_effects",
    version=1,
    title="Since your last session",
    prompt="Since your last session, have you had any of these? " + NOT_VALIDATED,
    items=(
        Item(key="se_nausea", text="Feeling sick or being sick", choices=YES_NO, scored=False),
        Item(key="se_dizziness", text="Dizziness", choices=YES_NO, scored=False),
        Item(key="se_headache", text="Headache", choices=YES_NO, scored=False),
        Item(
            key="se_dissociation",
            text="Feeling unreal or disconnected, lasting after the day of the session",
            choices=YES_NO,
            scored=False,
        ),
        Item(key="se_anxiety", text="Unusual anxiety", choices=YES_NO, scored=False),
        Item(
            key="se_bladder",
            text="Pain or trouble when passing urine",
            choices=YES_NO,
            scored=False,
        ),
        Item(key="se_other", text="Anything else that worried you", choices=YES_NO, scored=False),
        Item(key="se_detail", text="Tell us more (optional)", choices=(), scored=False, required=False),
    ),
)

BLADDER_V1 = Instrument(
    key="bladder",
    version=1,
    title="Bladder",
    prompt="In the past month, have you had any of these? " + NOT_VALIDATED,
    items=(
        Item(key="bl_pain", text="Pain when passing urine", choices=YES_NO, scored=False),
        Item(
            key="bl_often",
            text="Needing to pass urine much more often or urgently",
            choices=YES_NO,
            scored=False,
        ),
        Item(key="bl_blood", text="Blood in your urine", choices=YES_NO, scored=False),
    ),
)

_OWN: dict[tuple[str, int], Instrument] = {
    (i.key, i.version): i for i in (AUDITC_V1, DRUG_USE_V1, SIDE_EFFECTS_V1, BLADDER_V1)
}
CLINIC_DEFINED = frozenset({"side_effects", "bladder"})
INTAKE_KEYS = frozenset({"phq9", "gad7", "asq"})


def is_clinic_defined(key: str) -> bool:
    return key in CLINIC_DEFINED


def current(key: str) -> Instrument:
    if key in INTAKE_KEYS:
        return intake_instruments.current(key)
    return max((i for (k, _), i in _OWN.items() if k == key), key=lambda i: i.version)


def get(key: str, version: int) -> Instrument:
    if key in INTAKE_KEYS:
        return intake_instruments.get(key, version)
    return _OWN[key, version]


def yes_items(instrument: Instrument, answers: dict[str, str]) -> list[Item]:
    """The yes/no items answered "yes" (side effects, bladder)."""
    return [item for item in instrument.items if item.choices == YES_NO and answers.get(item.key) == "yes"]


def auditc_total(answers: dict[str, str]) -> int | None:
    """The AUDIT-C total (0-12), or None when an item is unanswered (never a partial sum)."""
    values = [answers.get(item.key) for item in AUDITC_V1.items]
    if any(v not in {"0", "1", "2", "3", "4"} for v in values):
        return None
    return sum(int(v) for v in values if v is not None)
