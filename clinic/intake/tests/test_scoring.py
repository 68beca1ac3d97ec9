"""The pure scoring module: plain answers in, scores, screen results and triage out.

Expected values come from INSTRUMENTS.md, written out here by hand, never from the module.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clinic.intake.instruments import CHECKLIST, MEDICATION_CLASSES, PAST_TREATMENT, Checklist, Flag, Section
from clinic.intake.scoring import (
    AsqOutcome,
    AsqResult,
    Band,
    IncompleteError,
    InvalidAnswerError,
    PhqResult,
    Triage,
    band_meaning,
    checklist_flags,
    needs_asq5,
    score_asq,
    score_gad7,
    score_phq9,
    triage,
)

PHQ_KEYS = [f"phq9_{n}" for n in range(1, 10)]
GAD_KEYS = [f"gad7_{n}" for n in range(1, 8)]


def answers_with_total(keys: list[str], total: int) -> dict[str, str]:
    """Item scores that add up to ``total``, filled greedily with 3s."""
    values = {}
    for key in keys:
        score = min(3, total)
        values[key] = str(score)
        total -= score
    assert total == 0, "total too high for the scale"
    return values


def phq_band(total: int) -> str:
    # INSTRUMENTS.md: 0-4 minimal, 5-9 mild, 10-14 moderate, 15-19 moderately severe, 20-27 severe.
    if total <= 4:
        return "minimal"
    if total <= 9:
        return "mild"
    if total <= 14:
        return "moderate"
    if total <= 19:
        return "moderately_severe"
    return "severe"


# --- PHQ-9 --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "moderately_severe"),
        (19, "moderately_severe"),
        (20, "severe"),
        (27, "severe"),
    ],
)
def test_phq9_band_boundaries(total: int, band: str) -> None:
    result = score_phq9(answers_with_total(PHQ_KEYS, total))
    assert result.total == total
    assert result.band == band


def test_phq9_reports_item9_and_difficulty() -> None:
    answers = {**answers_with_total(PHQ_KEYS, 0), "phq9_9": "2", "phq9_difficulty": "very_difficult"}
    result = score_phq9(answers)
    assert result == PhqResult(total=2, band=Band.MINIMAL, item9=2, difficulty="very_difficult")


def test_phq9_difficulty_is_optional_and_never_counted() -> None:
    answers = answers_with_total(PHQ_KEYS, 7)
    assert score_phq9(answers).difficulty is None
    assert score_phq9({**answers, "phq9_difficulty": "extremely_difficult"}).total == 7


def test_phq9_item9_alone_means_safety_assessment_first() -> None:
    # Total 1 is "minimal", but item 9 >= 1 matters whatever the total.
    phq = score_phq9({**answers_with_total(PHQ_KEYS, 0), "phq9_9": "1"})
    assert (phq.total, phq.band, phq.item9) == (1, "minimal", 1)
    asq = score_asq({"asq1": "no", "asq2": "no", "asq3": "no", "asq4": "no"})
    assert triage(phq, asq) == Triage.SAFETY_FIRST


@pytest.mark.parametrize("key", PHQ_KEYS)
def test_phq9_missing_item_is_incomplete_not_zero(key: str) -> None:
    answers = answers_with_total(PHQ_KEYS, 27)
    del answers[key]
    with pytest.raises(IncompleteError) as exc:
        score_phq9(answers)
    assert exc.value.missing == [key]


@pytest.mark.parametrize("blank", ["", None])
def test_phq9_blank_answer_is_missing(blank: Any) -> None:
    answers: dict[str, Any] = {**answers_with_total(PHQ_KEYS, 0), "phq9_3": blank}
    with pytest.raises(IncompleteError) as exc:
        score_phq9(answers)
    assert exc.value.missing == ["phq9_3"]


def test_phq9_lists_every_missing_item_in_order() -> None:
    with pytest.raises(IncompleteError) as exc:
        score_phq9({"phq9_2": "1", "phq9_5": "0"})
    assert exc.value.missing == ["phq9_1", "phq9_3", "phq9_4", "phq9_6", "phq9_7", "phq9_8", "phq9_9"]


@pytest.mark.parametrize("value", ["4", "x", "-1", " 1", "3.0", 3, True])
def test_phq9_out_of_range_answer_is_invalid(value: Any) -> None:
    answers: dict[str, Any] = {**answers_with_total(PHQ_KEYS, 0), "phq9_4": value}
    with pytest.raises(InvalidAnswerError) as exc:
        score_phq9(answers)
    assert (exc.value.key, exc.value.value) == ("phq9_4", value)


def test_phq9_invalid_difficulty_is_invalid() -> None:
    with pytest.raises(InvalidAnswerError) as exc:
        score_phq9({**answers_with_total(PHQ_KEYS, 0), "phq9_difficulty": "3"})
    assert exc.value.key == "phq9_difficulty"


def test_phq9_ignores_other_instruments_answers() -> None:
    answers = {**answers_with_total(PHQ_KEYS, 12), **answers_with_total(GAD_KEYS, 21), "asq1": "yes"}
    assert score_phq9(answers).total == 12


def test_phq9_unknown_version_raises() -> None:
    with pytest.raises(KeyError):
        score_phq9(answers_with_total(PHQ_KEYS, 0), version=99)


@given(st.fixed_dictionaries({key: st.sampled_from(["0", "1", "2", "3"]) for key in PHQ_KEYS}))
def test_phq9_total_is_the_sum_and_band_follows_the_table(answers: dict[str, str]) -> None:
    result = score_phq9(answers)
    expected = sum(int(value) for value in answers.values())
    assert result.total == expected
    assert result.band == phq_band(expected)
    assert result.item9 == int(answers["phq9_9"])


# --- GAD-7 --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "severe"),
        (21, "severe"),
    ],
)
def test_gad7_band_boundaries(total: int, band: str) -> None:
    result = score_gad7(answers_with_total(GAD_KEYS, total))
    assert (result.total, result.band) == (total, band)


@pytest.mark.parametrize("key", GAD_KEYS)
def test_gad7_missing_item_is_incomplete_not_zero(key: str) -> None:
    answers = answers_with_total(GAD_KEYS, 21)
    del answers[key]
    with pytest.raises(IncompleteError) as exc:
        score_gad7(answers)
    assert exc.value.missing == [key]


@pytest.mark.parametrize("value", ["4", "x"])
def test_gad7_out_of_range_answer_is_invalid(value: str) -> None:
    with pytest.raises(InvalidAnswerError) as exc:
        score_gad7({**answers_with_total(GAD_KEYS, 0), "gad7_7": value})
    assert (exc.value.key, exc.value.value) == ("gad7_7", value)


# --- ASQ ----------------------------------------------------------------------------------------

SCREEN_VALUES = ("yes", "no", "declined")
Q5_VALUES = ("yes", "no", "declined", None)  # None: not answered


def asq_oracle(q1_4: tuple[str, ...], q5: str | None) -> tuple[str, bool, bool] | list[str]:
    """INSTRUMENTS.md, by hand: (result, needs_q5, declined), or the missing keys.

    All of 1-4 no: negative, and question 5 is not asked (an answer to it is ignored). Any yes or
    a refusal: ask 5. 5 yes: acute positive; 5 no: non-acute positive. Only "5 yes" is acute, so
    a refused 5 is non-acute positive, with the refusal shown.
    """
    if all(answer == "no" for answer in q1_4):
        return ("negative", False, False)
    if q5 is None:
        return ["asq5"]
    refused = "declined" in q1_4 or q5 == "declined"
    if q5 == "yes":
        return ("acute_positive", True, refused)
    return ("non_acute_positive", True, refused)


ASQ_CASES = list(itertools.product(itertools.product(SCREEN_VALUES, repeat=4), Q5_VALUES))


def test_asq_cases_cover_every_combination() -> None:
    assert len(ASQ_CASES) == 81 * 4


@pytest.mark.parametrize(("q1_4", "q5"), ASQ_CASES)
def test_asq_every_combination(q1_4: tuple[str, ...], q5: str | None) -> None:
    answers = dict(zip(("asq1", "asq2", "asq3", "asq4"), q1_4, strict=True))
    if q5 is not None:
        answers["asq5"] = q5
    expected = asq_oracle(q1_4, q5)
    assert needs_asq5(answers) is (q1_4 != ("no", "no", "no", "no"))
    if isinstance(expected, list):
        with pytest.raises(IncompleteError) as exc:
            score_asq(answers)
        assert exc.value.missing == expected
        return
    result = score_asq(answers)
    assert (result.result, result.needs_q5, result.declined) == expected


@pytest.mark.parametrize("key", ["asq1", "asq2", "asq3", "asq4"])
def test_asq_missing_screen_question_is_incomplete(key: str) -> None:
    answers = {"asq1": "no", "asq2": "no", "asq3": "no", "asq4": "no"}
    del answers[key]
    with pytest.raises(IncompleteError) as exc:
        score_asq(answers)
    assert exc.value.missing == [key]


def test_asq_missing_screen_question_with_a_yes_also_asks_for_question_5() -> None:
    with pytest.raises(IncompleteError) as exc:
        score_asq({"asq1": "yes", "asq3": "no", "asq4": "no"})
    assert exc.value.missing == ["asq2", "asq5"]


def test_asq_invalid_answers() -> None:
    with pytest.raises(InvalidAnswerError) as exc:
        score_asq({"asq1": "maybe", "asq2": "no", "asq3": "no", "asq4": "no"})
    assert exc.value.key == "asq1"
    with pytest.raises(InvalidAnswerError) as exc:
        score_asq({"asq1": "yes", "asq2": "no", "asq3": "no", "asq4": "no", "asq5": "1"})
    assert exc.value.key == "asq5"


def test_asq_question_5_is_ignored_when_not_needed() -> None:
    # A leftover answer from before the patient changed 1-4 to "no" does not count.
    result = score_asq({"asq1": "no", "asq2": "no", "asq3": "no", "asq4": "no", "asq5": "junk"})
    assert result == AsqResult(result=AsqOutcome.NEGATIVE, needs_q5=False, declined=False)


def test_asq_detail_text_does_not_change_the_result() -> None:
    answers = {"asq1": "no", "asq2": "no", "asq3": "no", "asq4": "yes", "asq5": "no"}
    assert score_asq(answers) == score_asq({**answers, "asq4_detail": "Tablets, in 2019"})


def test_needs_asq5_on_a_half_filled_form() -> None:
    assert needs_asq5({}) is False
    assert needs_asq5({"asq1": "no"}) is False
    assert needs_asq5({"asq2": "declined"}) is True
    assert needs_asq5({"asq1": "no", "asq4": "yes"}) is True


# --- Triage -------------------------------------------------------------------------------------

ASQ_RESULTS = {
    "negative": AsqResult(result=AsqOutcome.NEGATIVE, needs_q5=False, declined=False),
    "non_acute": AsqResult(result=AsqOutcome.NON_ACUTE, needs_q5=True, declined=False),
    "acute": AsqResult(result=AsqOutcome.ACUTE, needs_q5=True, declined=False),
}


@pytest.mark.parametrize(
    ("item9", "asq", "expected"),
    [
        (0, "negative", "routine"),
        (1, "negative", "safety_assessment_first"),
        (3, "negative", "safety_assessment_first"),
        (0, "non_acute", "safety_assessment_first"),
        (1, "non_acute", "safety_assessment_first"),
        (3, "non_acute", "safety_assessment_first"),
        (0, "acute", "acute"),
        (1, "acute", "acute"),
        (3, "acute", "acute"),
    ],
)
def test_triage_table(item9: int, asq: str, expected: str) -> None:
    phq = PhqResult(total=item9, band=Band.MINIMAL, item9=item9, difficulty=None)
    assert triage(phq, ASQ_RESULTS[asq]) == expected


def test_triage_ignores_a_high_total_without_item9() -> None:
    # Severity alone does not change the safety route; item 9 and the ASQ do.
    phq = score_phq9({**answers_with_total(PHQ_KEYS[:8], 24), "phq9_9": "0"})
    assert (phq.total, phq.band) == (24, "severe")
    assert triage(phq, ASQ_RESULTS["negative"]) == Triage.ROUTINE


def test_triage_values_match_the_stored_levels() -> None:
    assert [level.value for level in Triage] == ["routine", "safety_assessment_first", "acute"]


# --- Band meanings ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "bands"),
    [
        ("phq9", ["minimal", "mild", "moderate", "moderately_severe", "severe"]),
        ("gad7", ["minimal", "mild", "moderate", "severe"]),
    ],
)
def test_band_meaning_is_plain_and_never_a_diagnosis(key: str, bands: list[str]) -> None:
    meanings = [band_meaning(key, band) for band in bands]
    assert len(set(meanings)) == len(bands)
    for meaning in meanings:
        assert meaning.startswith("Your answers suggest ")
        assert meaning.endswith("This is not a diagnosis; your doctor will talk it through with you.")
        assert "disorder" not in meaning.lower()


def test_band_meaning_mild_depression_wording() -> None:
    assert band_meaning("phq9", "mild") == (
        "Your answers suggest mild symptoms of depression. "
        "This is not a diagnosis; your doctor will talk it through with you."
    )


@pytest.mark.parametrize(
    ("key", "band"), [("gad7", "moderately_severe"), ("asq", "mild"), ("phq9", "extreme")]
)
def test_band_meaning_rejects_bands_an_instrument_lacks(key: str, band: str) -> None:
    with pytest.raises(KeyError):
        band_meaning(key, band)


# --- Checklist flags ----------------------------------------------------------------------------


def all_no() -> dict[str, str]:
    answers = {flag.key: "no" for flag in CHECKLIST + MEDICATION_CLASSES + PAST_TREATMENT}
    answers["antidepressants_tried"] = "2"
    del answers["pregnancy"]  # only asked where relevant
    return answers


def test_checklist_all_no_raises_no_flags() -> None:
    assert checklist_flags(all_no()) == []


def test_checklist_returns_the_yes_answers_in_form_order() -> None:
    answers = {**all_no(), "stroke": "yes", "aneurysm": "yes", "med_opioids": "yes", "ketamine_before": "yes"}
    assert [flag.key for flag in checklist_flags(answers)] == [
        "aneurysm",
        "stroke",
        "med_opioids",
        "ketamine_before",
    ]


def test_checklist_label_contraindications_are_marked() -> None:
    flags = checklist_flags({**all_no(), "brain_bleed": "yes", "liver_disease": "yes"})
    assert [(flag.key, flag.kind) for flag in flags] == [
        ("brain_bleed", "label_contraindication"),
        ("liver_disease", "precaution"),
    ]


@pytest.mark.parametrize(("value", "flagged"), [("yes", True), ("no", False), ("not_applicable", False)])
def test_checklist_pregnancy(value: str, flagged: bool) -> None:
    assert [flag.key for flag in checklist_flags({**all_no(), "pregnancy": value})] == (
        ["pregnancy"] if flagged else []
    )


def test_checklist_antidepressant_count_is_recorded_not_flagged() -> None:
    assert checklist_flags({**all_no(), "antidepressants_tried": "3+"}) == []


def test_checklist_skipped_question_is_not_a_no() -> None:
    answers = all_no()
    del answers["recreational_ketamine"]
    del answers["med_maois"]
    with pytest.raises(IncompleteError) as exc:
        checklist_flags(answers)
    assert exc.value.missing == ["recreational_ketamine", "med_maois"]


@pytest.mark.parametrize(
    ("key", "value"), [("aneurysm", "maybe"), ("antidepressants_tried", "4"), ("heart_disease", True)]
)
def test_checklist_invalid_answer(key: str, value: Any) -> None:
    with pytest.raises(InvalidAnswerError) as exc:
        checklist_flags({**all_no(), key: value})
    assert exc.value.key == key


def test_checklist_flags_follow_the_version_given() -> None:
    flag = Flag("only", "Only question", CHECKLIST[0].kind)
    older = Checklist("history", 0, "Old", sections=(Section("conditions", "Any?", (flag,)),))
    assert checklist_flags({"only": "yes"}, checklist=older) == [flag]
