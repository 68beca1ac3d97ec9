"""Instrument definitions: standard wording, LOINC codes from INSTRUMENTS.md, and versioning."""

from __future__ import annotations

import dataclasses

import pytest

from clinic.intake import instruments
from clinic.intake.instruments import (
    ASQ,
    CHECKLIST,
    GAD7,
    INSTRUMENTS,
    MEDICATION_CLASSES,
    PAST_TREATMENT,
    PHQ9,
    FlagKind,
    current,
    current_checklist,
    current_versions,
    get,
    get_checklist,
)

PFIZER = (
    "Developed by Drs. Robert L. Spitzer, Janet B.W. Williams, Kurt Kroenke and colleagues, with an "
    "educational grant from Pfizer Inc. No permission required to reproduce, translate, display or "
    "distribute."
)


def keys(instrument: instruments.Instrument) -> list[str]:
    return [item.key for item in instrument.items]


def test_item_counts() -> None:
    assert len([item for item in PHQ9.items if item.scored]) == 9
    assert keys(PHQ9)[-1] == "phq9_difficulty"
    assert len(PHQ9.items) == 10
    assert len(GAD7.items) == 7
    assert keys(ASQ) == ["asq1", "asq2", "asq3", "asq4", "asq4_detail", "asq5"]


def test_phq9_loinc_codes_in_order() -> None:
    assert [item.loinc for item in PHQ9.items] == [
        "44250-9",
        "44255-8",
        "44259-0",
        "44254-1",
        "44251-7",
        "44258-2",
        "44252-5",
        "44253-3",
        "44260-8",
        "69722-7",
    ]
    assert (PHQ9.total_loinc, PHQ9.panel_loinc) == ("44261-6", "44249-1")


def test_gad7_loinc_codes_in_order() -> None:
    assert [item.loinc for item in GAD7.items] == [
        "69725-0",
        "68509-9",
        "69733-4",
        "69734-2",
        "69735-9",
        "69689-8",
        "69736-7",
    ]
    assert (GAD7.total_loinc, GAD7.panel_loinc) == ("70274-6", "69737-5")


@pytest.mark.parametrize("instrument", [PHQ9, GAD7])
def test_every_scored_item_has_the_four_frequency_choices(instrument: instruments.Instrument) -> None:
    for item in instrument.items:
        if not item.scored:
            continue
        assert [(choice.value, choice.label, choice.score) for choice in item.choices] == [
            ("0", "Not at all", 0),
            ("1", "Several days", 1),
            ("2", "More than half the days", 2),
            ("3", "Nearly every day", 3),
        ]


def test_phq9_standard_wording() -> None:
    assert (
        PHQ9.prompt
        == "Over the last 2 weeks, how often have you been bothered by any of the following problems?"
    )
    assert PHQ9.items[0].text == "Little interest or pleasure in doing things"
    assert (
        PHQ9.items[8].text == "Thoughts that you would be better off dead or of hurting yourself in some way"
    )
    assert PHQ9.copyright == PFIZER


def test_phq9_difficulty_question_is_recorded_not_scored() -> None:
    difficulty = PHQ9.items[9]
    assert difficulty.text == (
        "If you checked off any problems, how difficult have these problems made it for you to do your "
        "work, take care of things at home, or get along with other people?"
    )
    assert not difficulty.scored
    assert [choice.label for choice in difficulty.choices] == [
        "Not difficult at all",
        "Somewhat difficult",
        "Very difficult",
        "Extremely difficult",
    ]
    assert all(choice.score is None for choice in difficulty.choices)


def test_gad7_standard_wording() -> None:
    assert GAD7.items[0].text == "Feeling nervous, anxious, or on edge"
    assert GAD7.items[6].text == "Feeling afraid, as if something awful might happen"
    assert GAD7.copyright == PFIZER


def test_asq_wording_and_choices() -> None:
    by_key = {item.key: item for item in ASQ.items}
    assert by_key["asq1"].text == "In the past few weeks, have you wished you were dead?"
    assert by_key["asq5"].text == "Are you having thoughts of killing yourself right now?"
    for key in ("asq1", "asq2", "asq3", "asq4", "asq5"):
        assert [(choice.value, choice.label) for choice in by_key[key].choices] == [
            ("yes", "Yes"),
            ("no", "No"),
            ("declined", "Prefer not to answer"),
        ]
    assert by_key["asq5"].required is False  # asked only after a yes or a refusal on 1-4
    detail = by_key["asq4_detail"]
    assert (detail.text, detail.choices, detail.scored, detail.required) == (
        "If yes, how and when?",
        (),
        False,
        False,
    )


def test_registry_keys_match_the_instruments() -> None:
    assert all(ident == (instrument.key, instrument.version) for ident, instrument in INSTRUMENTS.items())
    assert set(INSTRUMENTS) == {("phq9", 1), ("gad7", 1), ("asq", 1)}


def test_registering_a_version_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="twice"):
        instruments._registry(PHQ9, dataclasses.replace(PHQ9, title="Changed"))


def test_item_keys_are_unique_across_everything_an_intake_stores() -> None:
    every = [item.key for instrument in INSTRUMENTS.values() for item in instrument.items]
    every += [flag.key for flag in current_checklist().flags]
    assert len(every) == len(set(every))


def test_get_and_current() -> None:
    assert get("phq9", 1) is PHQ9
    assert current("asq") is ASQ
    with pytest.raises(KeyError):
        get("phq9", 2)
    with pytest.raises(KeyError):
        get("madrs", 1)
    with pytest.raises(KeyError):
        current("madrs")


def test_a_new_version_becomes_current_and_the_old_one_stays(monkeypatch: pytest.MonkeyPatch) -> None:
    reworded = dataclasses.replace(PHQ9, version=2, prompt="Reworded")
    monkeypatch.setitem(INSTRUMENTS, ("phq9", 2), reworded)
    assert current("phq9") is reworded
    assert get("phq9", 1) is PHQ9
    assert current_versions()["phq9"] == 2


def test_current_versions() -> None:
    assert current_versions() == {"phq9": 1, "gad7": 1, "asq": 1, "history": 1}


def test_definitions_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        PHQ9.items[0].text = "Changed"  # type: ignore[misc]


# --- Checklist ----------------------------------------------------------------------------------


def test_checklist_v1_holds_every_section() -> None:
    history = get_checklist("history", 1)
    assert history is current_checklist()
    assert history.flags == CHECKLIST + MEDICATION_CLASSES + PAST_TREATMENT
    with pytest.raises(KeyError):
        get_checklist("history", 2)


def test_checklist_label_contraindications_are_the_esketamine_label_ones() -> None:
    label = [flag.key for flag in CHECKLIST if flag.kind == FlagKind.LABEL_CONTRAINDICATION]
    assert label == ["aneurysm", "brain_bleed", "ketamine_allergy"]
    assert {flag.kind for flag in CHECKLIST} == {"label_contraindication", "precaution"}
    aneurysm = CHECKLIST[0]
    assert aneurysm.label == (
        "Aneurysm or other blood vessel disease (aorta, brain or limbs) or an arteriovenous malformation"
    )


def test_checklist_covers_the_substance_use_questions() -> None:
    keys = {flag.key for flag in CHECKLIST}
    assert {"alcohol_problem", "drug_use", "recreational_ketamine"} <= keys


def test_pregnancy_is_asked_only_where_relevant() -> None:
    (pregnancy,) = [flag for flag in CHECKLIST if flag.key == "pregnancy"]
    assert pregnancy.label == "Could you be pregnant, are you planning a pregnancy, or are you breastfeeding?"
    assert pregnancy.relevant_if == "may_become_pregnant"
    assert not pregnancy.required
    assert [choice.value for choice in pregnancy.choices] == ["yes", "no", "not_applicable"]
    assert all(flag.required for flag in CHECKLIST if flag.key != "pregnancy")


def test_medication_classes() -> None:
    assert [flag.key for flag in MEDICATION_CLASSES] == [
        "med_benzodiazepines",
        "med_sleeping_tablets",
        "med_opioids",
        "med_stimulants",
        "med_maois",
    ]
    assert all(flag.examples and flag.kind == FlagKind.MEDICATION for flag in MEDICATION_CLASSES)


def test_past_treatment_questions() -> None:
    by_key = {flag.key: flag for flag in PAST_TREATMENT}
    assert [choice.value for choice in by_key["antidepressants_tried"].choices] == ["0", "1", "2", "3+"]
    for key in ("psychotherapy", "ect_tms", "ketamine_before"):
        assert [choice.value for choice in by_key[key].choices] == ["yes", "no"]
