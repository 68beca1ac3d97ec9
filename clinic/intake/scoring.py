"""Scores, screen results and triage, from plain answers: no ORM, no Django.

Answers are one plain mapping of item key -> choice value string (``instruments``), usually a
whole intake's answers at once: keys that belong to other instruments are ignored. A missing
answer (absent, ``None`` or ``""``) is never a zero: a form with a missing item has no valid
total (INSTRUMENTS.md), so it raises ``IncompleteError`` naming every missing item. An answer
that is not one of the item's choice values raises ``InvalidAnswerError``.

Every scoring function takes the instrument ``version`` the answers were given under; ``None``
means the current one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from clinic.intake.instruments import Checklist, Flag, Instrument, Item, current, current_checklist, get

__all__ = [
    "AsqOutcome",
    "AsqResult",
    "Band",
    "GadResult",
    "IncompleteError",
    "InvalidAnswerError",
    "PhqResult",
    "ScoringError",
    "Triage",
    "band_meaning",
    "checklist_flags",
    "needs_asq5",
    "score_asq",
    "score_gad7",
    "score_phq9",
    "triage",
]


class ScoringError(ValueError):
    """Answers that cannot be scored."""


class IncompleteError(ScoringError):
    """Required items are unanswered. ``missing`` lists their keys in form order."""

    def __init__(self, missing: list[str]) -> None:
        super().__init__("unanswered: " + ", ".join(missing))
        self.missing = missing


class InvalidAnswerError(ScoringError):
    """``value`` is not one of the choice values of item ``key``."""

    def __init__(self, key: str, value: object) -> None:
        super().__init__(f"{value!r} is not a valid answer to {key}")
        self.key = key
        self.value = value


class Band(StrEnum):
    MINIMAL = "minimal"
    MILD = "mild"
    MODERATE = "moderate"
    MODERATELY_SEVERE = "moderately_severe"  # PHQ-9 only
    SEVERE = "severe"


class AsqOutcome(StrEnum):
    NEGATIVE = "negative"
    NON_ACUTE = "non_acute_positive"
    ACUTE = "acute_positive"


class Triage(StrEnum):
    ROUTINE = "routine"
    SAFETY_FIRST = "safety_assessment_first"
    ACUTE = "acute"


@dataclass(frozen=True)
class PhqResult:
    total: int
    band: Band
    item9: int
    difficulty: str | None  # the difficulty choice value, or None when not answered


@dataclass(frozen=True)
class GadResult:
    total: int
    band: Band


@dataclass(frozen=True)
class AsqResult:
    result: AsqOutcome
    needs_q5: bool
    declined: bool  # the patient declined at least one question that counted
    q5_declined: bool = False  # question 5 itself declined: acute for alerting (INSTRUMENTS.md)


# Inclusive (low, high, band) rows from INSTRUMENTS.md.
PHQ9_BANDS: tuple[tuple[int, int, Band], ...] = (
    (0, 4, Band.MINIMAL),
    (5, 9, Band.MILD),
    (10, 14, Band.MODERATE),
    (15, 19, Band.MODERATELY_SEVERE),
    (20, 27, Band.SEVERE),
)
GAD7_BANDS: tuple[tuple[int, int, Band], ...] = (
    (0, 4, Band.MINIMAL),
    (5, 9, Band.MILD),
    (10, 14, Band.MODERATE),
    (15, 21, Band.SEVERE),
)

YES, NO, DECLINED = "yes", "no", "declined"
ASQ_SCREEN = ("asq1", "asq2", "asq3", "asq4")
ASQ_ACUITY = "asq5"


# --- Shared checks ------------------------------------------------------------------------------


def _instrument(key: str, version: int | None) -> Instrument:
    return current(key) if version is None else get(key, version)


def _answer(answers: Mapping[str, Any], key: str) -> Any:
    """The raw answer, or None when unanswered ("" is how an empty form field arrives)."""
    value = answers.get(key)
    return None if value is None or value == "" else value


def _check(item_key: str, value: Any, allowed: Iterable[str]) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise InvalidAnswerError(item_key, value)
    return value


def _checked_choices(answers: Mapping[str, Any], items: Iterable[Item]) -> dict[str, str]:
    """Validated answers to the ``items`` that have choices, keyed by item. The first answer that
    is not a choice raises ``InvalidAnswerError``; otherwise all unanswered required items raise
    one ``IncompleteError``. Answers to other keys are ignored."""
    chosen: dict[str, str] = {}
    missing: list[str] = []
    for item in items:
        if not item.choices:
            continue  # free text: recorded, never scored
        value = _answer(answers, item.key)
        if value is None:
            if item.required:
                missing.append(item.key)
            continue
        chosen[item.key] = _check(item.key, value, (choice.value for choice in item.choices))
    if missing:
        raise IncompleteError(missing)
    return chosen


def _scores(instrument: Instrument, chosen: Mapping[str, str]) -> list[int]:
    scores = []
    for item in instrument.items:
        if not item.scored:
            continue
        score = next(choice.score for choice in item.choices if choice.value == chosen[item.key])
        if score is None:  # a definition error, not a patient's: scored choices carry scores
            raise ValueError(f"{instrument.key} v{instrument.version} item {item.key} has an unscored choice")
        scores.append(score)
    return scores


def _band(total: int, table: tuple[tuple[int, int, Band], ...]) -> Band:
    for low, high, band in table:
        if low <= total <= high:
            return band
    raise ValueError(f"total {total} is outside the scale")


# --- PHQ-9 and GAD-7 ----------------------------------------------------------------------------


def score_phq9(answers: Mapping[str, Any], *, version: int | None = None) -> PhqResult:
    """Total (0-27), band, item 9 and the difficulty answer.

    Item 9 is returned on its own because any score ≥ 1 there needs same-day clinician follow-up
    whatever the total (INSTRUMENTS.md); ``triage`` uses it. The difficulty question is optional
    and unscored, but if answered it must be one of its choices.
    """
    instrument = _instrument("phq9", version)
    chosen = _checked_choices(answers, instrument.items)
    scores = _scores(instrument, chosen)
    total = sum(scores)
    difficulty = next((chosen.get(item.key) for item in instrument.items if not item.scored), None)
    return PhqResult(total=total, band=_band(total, PHQ9_BANDS), item9=scores[8], difficulty=difficulty)


def score_gad7(answers: Mapping[str, Any], *, version: int | None = None) -> GadResult:
    """Total (0-21) and band."""
    instrument = _instrument("gad7", version)
    total = sum(_scores(instrument, _checked_choices(answers, instrument.items)))
    return GadResult(total=total, band=_band(total, GAD7_BANDS))


# --- ASQ ----------------------------------------------------------------------------------------


def needs_asq5(answers: Mapping[str, Any]) -> bool:
    """Whether the form must ask ASQ question 5: any of 1-4 answered yes or declined.

    Works on a half-filled form (unanswered questions simply do not count yet), so a form can
    show question 5 as soon as it is needed.
    """
    return any(_answer(answers, key) in (YES, DECLINED) for key in ASQ_SCREEN)


def score_asq(answers: Mapping[str, Any], *, version: int | None = None) -> AsqResult:
    """The ASQ result, by the NIMH rule in INSTRUMENTS.md.

    - All of 1-4 "no": negative. Question 5 is not asked, and an answer to it is ignored (neither
      validated nor counted): it can only be left over from a form where 1-4 said something else
      before the patient changed them, and the ASQ screen is then complete and negative.
    - Any of 1-4 "yes" or "declined": question 5 is required (``IncompleteError(["asq5"])``).
      5 "yes" is acute positive; 5 "no" is non-acute positive.
    - 5 "declined": INSTRUMENTS.md makes only "5 yes" acute, so a declined 5 is non-acute
      positive, which still means a clinician's safety assessment before care goes on. It is not
      escalated to acute by this code; ``declined`` is set so the clinician sees the refusal.

    ``declined`` is true when any question that counted (1-4, and 5 when it was needed) was
    declined. Question 4's free-text detail is recorded, never scored.
    """
    instrument = _instrument("asq", version)
    screen = [item for item in instrument.items if item.key in ASQ_SCREEN]
    acuity = next(item for item in instrument.items if item.key == ASQ_ACUITY)
    try:
        chosen = _checked_choices(answers, screen)
    except IncompleteError as exc:
        # If what is answered already makes 5 necessary, say so now rather than one round later.
        if needs_asq5(answers) and _answer(answers, ASQ_ACUITY) is None:
            raise IncompleteError([*exc.missing, ASQ_ACUITY]) from None
        raise
    positive = any(value in (YES, DECLINED) for value in chosen.values())
    if not positive:
        return AsqResult(result=AsqOutcome.NEGATIVE, needs_q5=False, declined=False)
    q5 = _answer(answers, ASQ_ACUITY)
    if q5 is None:
        raise IncompleteError([ASQ_ACUITY])
    q5 = _check(ASQ_ACUITY, q5, (choice.value for choice in acuity.choices))
    declined = DECLINED in chosen.values() or q5 == DECLINED
    result = AsqOutcome.ACUTE if q5 == YES else AsqOutcome.NON_ACUTE
    return AsqResult(result=result, needs_q5=True, declined=declined, q5_declined=q5 == DECLINED)


# --- Triage -------------------------------------------------------------------------------------


def triage(phq: PhqResult, asq: AsqResult) -> Triage:
    """The product's triage level (INSTRUMENTS.md table).

    acute: ASQ 5 yes. Safety assessment first: ASQ non-acute positive, or PHQ-9 item 9 ≥ 1.
    Routine otherwise. The most urgent level that applies wins.
    """
    level = triage_asq(asq)
    if level == Triage.ROUTINE and phq.item9 >= 1:
        return Triage.SAFETY_FIRST
    return level


def triage_asq(asq: AsqResult) -> Triage:
    """The triage level of an ASQ alone (a screen without a PHQ-9, such as the check-in before a
    treatment session): acute on 5 yes, safety assessment first on any other positive."""
    if asq.result == AsqOutcome.ACUTE:
        return Triage.ACUTE
    if asq.result == AsqOutcome.NON_ACUTE:
        return Triage.SAFETY_FIRST
    return Triage.ROUTINE


# --- Words for patients -------------------------------------------------------------------------

_NOT_A_DIAGNOSIS = "This is not a diagnosis; your doctor will talk it through with you."
_SUBJECT = {"phq9": "depression", "gad7": "anxiety"}
_DEGREE = {
    Band.MINIMAL: "few or no",
    Band.MILD: "mild",
    Band.MODERATE: "moderate",
    Band.MODERATELY_SEVERE: "moderately severe",
    Band.SEVERE: "severe",
}
_BANDS_OF = {"phq9": PHQ9_BANDS, "gad7": GAD7_BANDS}


def band_label(band: str) -> str:
    """A band as people read it: "Moderately severe", never the stored "moderately_severe"."""
    return band.replace("_", " ").capitalize() if band else ""


def band_meaning(instrument_key: str, band: str) -> str:
    """What a band means, in plain words for the patient. Never a diagnosis.

    ``KeyError`` for an instrument without bands or a band that instrument does not have (the
    GAD-7 has no "moderately severe").
    """
    if instrument_key not in _BANDS_OF:
        raise KeyError(f"{instrument_key!r} has no bands")
    if band not in {row[2] for row in _BANDS_OF[instrument_key]}:
        raise KeyError(f"{instrument_key!r} has no band {band!r}")
    degree = _DEGREE[Band(band)]
    return f"Your answers suggest {degree} symptoms of {_SUBJECT[instrument_key]}. {_NOT_A_DIAGNOSIS}"


# --- Health-history checklist -------------------------------------------------------------------


def checklist_flags(answers: Mapping[str, Any], *, checklist: Checklist | None = None) -> list[Flag]:
    """The checklist's flags answered "yes", in form order: what the clinician must look at.

    Every flag must be answered (a skipped question is not a "no"), except flags with
    ``relevant_if`` (pregnancy), which the form asks only where relevant: unanswered there means
    not asked. Questions without a "yes" choice (how many antidepressants) are recorded answers,
    never flags. ``checklist`` defaults to the current version.
    """
    checklist = checklist or current_checklist()
    missing: list[str] = []
    flagged: list[Flag] = []
    for flag in checklist.flags:
        value = _answer(answers, flag.key)
        if value is None:
            if flag.required:
                missing.append(flag.key)
            continue
        if _check(flag.key, value, (choice.value for choice in flag.choices)) == YES:
            flagged.append(flag)
    if missing:
        raise IncompleteError(missing)
    return flagged


# The flags a clinician must weigh: label contraindications and precautions (medicines and past
# treatment are recorded, not raised). The one definition behind every count and list.
JUDGEMENT_KINDS = frozenset({"label_contraindication", "precaution"})


def judgement_flags(flags: list[Flag]) -> list[Flag]:
    return [flag for flag in flags if str(flag.kind) in JUDGEMENT_KINDS]
