"""Versioned intake instruments and the health-history checklist, as plain frozen data.

No Django and no ORM: forms render these, ``scoring`` scores them, and stored answers keep the
``(key, version)`` they were given under.

Versioning rule: any change to an instrument's wording, its choices (values, labels or scores),
its items or their order is a NEW version, registered next to the old one. Old versions stay in
the registry forever, so an answer stored years ago still means what the patient was shown.
Fixing a typo in a standard instrument is a change too: a changed wording is no longer the
validated instrument (INSTRUMENTS.md), so there should be no typos to fix.

Item keys are unique across every instrument and the checklist, because an intake keeps all of
its answers in one dict (item key -> choice value string).

Sources: INSTRUMENTS.md for items, LOINC codes, bands and the checklist; the item texts are the
publishers' standard English wording (PHQ-9 and GAD-7: Pfizer/phqscreeners forms; ASQ: the NIMH
ASQ tool).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "ASQ",
    "ASQ_V1",
    "CHECKLIST",
    "CHECKLISTS",
    "GAD7",
    "GAD7_V1",
    "HISTORY_V1",
    "INSTRUMENTS",
    "MEDICATION_CLASSES",
    "PAST_TREATMENT",
    "PHQ9",
    "PHQ9_V1",
    "Checklist",
    "Choice",
    "Flag",
    "FlagKind",
    "Instrument",
    "Item",
    "Section",
    "current",
    "current_checklist",
    "current_versions",
    "get",
    "get_checklist",
]


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    score: int | None = None


@dataclass(frozen=True)
class Item:
    """One question. ``choices=()`` means free text. Unscored items are recorded, never summed."""

    key: str
    text: str
    choices: tuple[Choice, ...]
    loinc: str = ""
    scored: bool = True
    required: bool = True


@dataclass(frozen=True)
class Instrument:
    key: str
    version: int
    title: str
    prompt: str
    items: tuple[Item, ...]
    copyright: str = ""
    total_loinc: str = ""
    panel_loinc: str = ""


# --- PHQ-9 and GAD-7 --------------------------------------------------------------------------

PFIZER_COPYRIGHT = (
    "Developed by Drs. Robert L. Spitzer, Janet B.W. Williams, Kurt Kroenke and colleagues, with an "
    "educational grant from Pfizer Inc. No permission required to reproduce, translate, display or "
    "distribute."
)

FREQUENCY = (
    Choice("0", "Not at all", 0),
    Choice("1", "Several days", 1),
    Choice("2", "More than half the days", 2),
    Choice("3", "Nearly every day", 3),
)

# The PHQ-9 difficulty question is recorded, not scored (INSTRUMENTS.md), so its choices carry no
# score and use words for values: nobody can add them to the total by mistake.
DIFFICULTY = (
    Choice("not_difficult", "Not difficult at all"),
    Choice("somewhat_difficult", "Somewhat difficult"),
    Choice("very_difficult", "Very difficult"),
    Choice("extremely_difficult", "Extremely difficult"),
)


def _frequency_items(prefix: str, rows: tuple[tuple[str, str], ...]) -> tuple[Item, ...]:
    return tuple(
        Item(key=f"{prefix}_{number}", text=text, choices=FREQUENCY, loinc=loinc)
        for number, (text, loinc) in enumerate(rows, start=1)
    )


PHQ9_V1 = Instrument(
    key="phq9",
    version=1,
    title="PHQ-9",
    prompt="Over the last 2 weeks, how often have you been bothered by any of the following problems?",
    items=(
        *_frequency_items(
            "phq9",
            (
                ("Little interest or pleasure in doing things", "44250-9"),
                ("Feeling down, depressed, or hopeless", "44255-8"),
                ("Trouble falling or staying asleep, or sleeping too much", "44259-0"),
                ("Feeling tired or having little energy", "44254-1"),
                ("Poor appetite or overeating", "44251-7"),
                (
                    "Feeling bad about yourself \u2014 or that you are a failure or have let yourself or "
                    "your family down",
                    "44258-2",
                ),
                (
                    "Trouble concentrating on things, such as reading the newspaper or watching television",
                    "44252-5",
                ),
                (
                    "Moving or speaking so slowly that other people could have noticed? Or the opposite "
                    "\u2014 being so fidgety or restless that you have been moving around a lot more than "
                    "usual",
                    "44253-3",
                ),
                ("Thoughts that you would be better off dead or of hurting yourself in some way", "44260-8"),
            ),
        ),
        Item(
            key="phq9_difficulty",
            text=(
                "If you checked off any problems, how difficult have these problems made it for you to do "
                "your work, take care of things at home, or get along with other people?"
            ),
            choices=DIFFICULTY,
            loinc="69722-7",
            scored=False,
            # The form asks it "if you checked off any problems": someone who answered "Not at all"
            # nine times may leave it blank.
            required=False,
        ),
    ),
    copyright=PFIZER_COPYRIGHT,
    total_loinc="44261-6",
    panel_loinc="44249-1",
)

GAD7_V1 = Instrument(
    key="gad7",
    version=1,
    title="GAD-7",
    # The published GAD-7 form spells out "two weeks" and says "the following problems", unlike
    # the PHQ-9's "2 weeks ... any of the following problems".
    prompt="Over the last two weeks, how often have you been bothered by the following problems?",
    items=_frequency_items(
        "gad7",
        (
            ("Feeling nervous, anxious, or on edge", "69725-0"),
            ("Not being able to stop or control worrying", "68509-9"),
            ("Worrying too much about different things", "69733-4"),
            ("Trouble relaxing", "69734-2"),
            ("Being so restless that it is hard to sit still", "69735-9"),
            ("Becoming easily annoyed or irritable", "69689-8"),
            ("Feeling afraid, as if something awful might happen", "69736-7"),
        ),
    ),
    copyright=PFIZER_COPYRIGHT,
    total_loinc="70274-6",
    panel_loinc="69737-5",
)

# --- ASQ ----------------------------------------------------------------------------------------

# ASQ answers are not scored: the result is a rule over yes/no/declined (scoring.score_asq).
# "declined" is the ASQ's "refuses to answer", which counts like a yes (INSTRUMENTS.md).
ASQ_CHOICES = (
    Choice("yes", "Yes"),
    Choice("no", "No"),
    Choice("declined", "Prefer not to answer"),
)

ASQ_V1 = Instrument(
    key="asq",
    version=1,
    title="Ask Suicide-Screening Questions (ASQ)",
    # The NIMH sheet is read aloud by a nurse ("Ask the patient:"); this line is ours, not the
    # instrument's, and introduces the questions on a self-completed form.
    prompt="Please answer each of the following questions.",
    items=(
        Item("asq1", "In the past few weeks, have you wished you were dead?", ASQ_CHOICES),
        Item(
            "asq2",
            "In the past few weeks, have you felt that you or your family would be better off if you "
            "were dead?",
            ASQ_CHOICES,
        ),
        Item("asq3", "In the past week, have you been having thoughts about killing yourself?", ASQ_CHOICES),
        Item("asq4", "Have you ever tried to kill yourself?", ASQ_CHOICES),
        Item("asq4_detail", "If yes, how and when?", (), scored=False, required=False),
        # Asked only when any of 1-4 is yes or declined (scoring.needs_asq5), hence not required
        # on its own; scoring.score_asq demands it exactly when it is needed.
        Item("asq5", "Are you having thoughts of killing yourself right now?", ASQ_CHOICES, required=False),
    ),
)

# --- Registry -----------------------------------------------------------------------------------

PHQ9 = PHQ9_V1
GAD7 = GAD7_V1
ASQ = ASQ_V1


def _registry(*instruments: Instrument) -> dict[tuple[str, int], Instrument]:
    registry: dict[tuple[str, int], Instrument] = {}
    for instrument in instruments:
        ident = (instrument.key, instrument.version)
        if ident in registry:
            raise ValueError(f"instrument {ident} is registered twice")
        registry[ident] = instrument
    return registry


# Append new versions here; never remove or edit a registered one.
INSTRUMENTS: dict[tuple[str, int], Instrument] = _registry(PHQ9_V1, GAD7_V1, ASQ_V1)


def get(key: str, version: int) -> Instrument:
    """The instrument ``key`` at ``version``; ``KeyError`` if there is no such version."""
    try:
        return INSTRUMENTS[(key, version)]
    except KeyError:
        raise KeyError(f"no instrument {key!r} version {version}") from None


def current(key: str) -> Instrument:
    """The highest registered version of ``key``; ``KeyError`` if the key is unknown."""
    versions = [instrument for (k, _), instrument in INSTRUMENTS.items() if k == key]
    if not versions:
        raise KeyError(f"no instrument {key!r}")
    return max(versions, key=lambda instrument: instrument.version)


# --- Health-history checklist -------------------------------------------------------------------


class FlagKind(StrEnum):
    # On the esketamine label as contraindications.
    LABEL_CONTRAINDICATION = "label_contraindication"
    # Common exclusions and precautions in services and trials (substance use included).
    PRECAUTION = "precaution"
    # A current medicine class to record (sedation and interactions).
    MEDICATION = "medication"
    # Past treatment for depression: context for the clinician, not a warning.
    TREATMENT_HISTORY = "treatment_history"


YES_NO = (Choice("yes", "Yes"), Choice("no", "No"))


@dataclass(frozen=True)
class Flag:
    """One plain-language question for the patient, shown to the clinician when answered "yes".

    Flags are for the clinician to weigh, never an automatic verdict (INSTRUMENTS.md).
    ``label`` is what the patient reads; with the checklist's prompt it is a yes/no question.
    ``relevant_if`` names a condition (such as "may_become_pregnant") that the form checks before
    asking; an unasked flag has no answer and that is not an error. ``examples`` lists common
    names for a medicine class.
    """

    key: str
    label: str
    kind: FlagKind
    choices: tuple[Choice, ...] = YES_NO
    relevant_if: str = ""
    examples: str = ""

    @property
    def required(self) -> bool:
        return not self.relevant_if


@dataclass(frozen=True)
class Section:
    """A group of flags shown under one prompt."""

    key: str
    prompt: str
    flags: tuple[Flag, ...]


@dataclass(frozen=True)
class Checklist:
    key: str
    version: int
    title: str
    sections: tuple[Section, ...]

    @property
    def flags(self) -> tuple[Flag, ...]:
        """Every flag, in form order."""
        return tuple(flag for section in self.sections for flag in section.flags)


_LABEL = FlagKind.LABEL_CONTRAINDICATION
_PRECAUTION = FlagKind.PRECAUTION

# Contraindications and precautions, in INSTRUMENTS.md's order, substance use included. Each
# label stands on its own under the prompt "Do any of these apply to you?" and says its own time
# frame ("now", "at any time"), because a yes/no about the past and one about today differ.
CHECKLIST: tuple[Flag, ...] = (
    Flag(
        "aneurysm",
        "Aneurysm or other blood vessel disease (aorta, brain or limbs) or an arteriovenous malformation",
        _LABEL,
    ),
    Flag("brain_bleed", "Bleeding inside the brain at any time (intracerebral haemorrhage)", _LABEL),
    Flag(
        "ketamine_allergy",
        "An allergy or other serious reaction to ketamine or esketamine (Spravato) at any time",
        _LABEL,
    ),
    Flag(
        "high_blood_pressure",
        "High blood pressure that is not under control, or a last reading above 140/90",
        _PRECAUTION,
    ),
    Flag(
        "heart_disease",
        "A recent heart attack, heart disease that is not stable (such as new or worsening chest pain), "
        "heart failure, or heart valve disease",
        _PRECAUTION,
    ),
    Flag(
        "stroke",
        "A stroke or mini-stroke (TIA) at any time, or other disease of the blood vessels in the brain",
        _PRECAUTION,
    ),
    Flag(
        "psychosis",
        "Psychosis or a psychotic illness such as schizophrenia, now or in the past (for example hearing "
        "or seeing things other people do not)",
        _PRECAUTION,
    ),
    Flag(
        "psychosis_family",
        "A parent, brother, sister or child who has had psychosis or a psychotic illness",
        _PRECAUTION,
    ),
    Flag(
        "bipolar_mania",
        "Bipolar disorder, or times of mania (days of unusually high mood or energy with little need "
        "for sleep), now or in the past",
        _PRECAUTION,
    ),
    Flag(
        "alcohol_problem",
        "A problem with alcohol now (drinking that is hard to control or is causing harm)",
        _PRECAUTION,
    ),
    Flag(
        "drug_use",
        "Using recreational drugs now, or taking medicines other than as prescribed",
        _PRECAUTION,
    ),
    Flag(
        "recreational_ketamine",
        "Having used ketamine or PCP (angel dust) recreationally, at any time",
        _PRECAUTION,
    ),
    Flag(
        "pregnancy",
        "Could you be pregnant, are you planning a pregnancy, or are you breastfeeding?",
        _PRECAUTION,
        choices=(*YES_NO, Choice("not_applicable", "Not applicable")),
        relevant_if="may_become_pregnant",
    ),
    Flag("liver_disease", "Severe liver disease (such as cirrhosis)", _PRECAUTION),
    Flag(
        "breathing",
        "Lung or breathing disease, or obstructive sleep apnoea (breathing that stops during sleep)",
        _PRECAUTION,
    ),
    Flag("hyperthyroidism", "An overactive thyroid (hyperthyroidism) that is not under control", _PRECAUTION),
    Flag(
        "seizures",
        "Seizures (fits) without a known cause, or a serious head injury, at any time",
        _PRECAUTION,
    ),
    Flag(
        "bladder",
        "Bladder or urinary problems now (such as pain, blood in the urine, or needing to go often or "
        "urgently)",
        _PRECAUTION,
    ),
)

# Recorded because they add to sedation or interact (INSTRUMENTS.md).
MEDICATION_CLASSES: tuple[Flag, ...] = (
    Flag(
        "med_benzodiazepines",
        "Benzodiazepines (calming or anxiety tablets)",
        FlagKind.MEDICATION,
        examples="diazepam (Valium), lorazepam (Ativan), alprazolam (Xanax), clonazepam (Klonopin)",
    ),
    Flag(
        "med_sleeping_tablets",
        "Sleeping tablets (sedative hypnotics)",
        FlagKind.MEDICATION,
        examples="zolpidem (Ambien), zopiclone, eszopiclone (Lunesta), zaleplon",
    ),
    Flag(
        "med_opioids",
        "Opioid painkillers",
        FlagKind.MEDICATION,
        examples="codeine, tramadol, oxycodone, hydrocodone, morphine, methadone, buprenorphine",
    ),
    Flag(
        "med_stimulants",
        "Stimulants (for ADHD or to stay awake)",
        FlagKind.MEDICATION,
        examples="methylphenidate (Ritalin, Concerta), amphetamines (Adderall, Vyvanse), modafinil",
    ),
    Flag(
        "med_maois",
        "MAOI antidepressants",
        FlagKind.MEDICATION,
        examples=(
            "phenelzine (Nardil), tranylcypromine (Parnate), isocarboxazid (Marplan), "
            "selegiline patch (Emsam)"
        ),
    ),
)

PAST_TREATMENT: tuple[Flag, ...] = (
    Flag(
        "antidepressants_tried",
        "How many different antidepressant medicines have you tried for depression?",
        FlagKind.TREATMENT_HISTORY,
        choices=(
            Choice("0", "None"),
            Choice("1", "1"),
            Choice("2", "2"),
            Choice("3+", "3 or more"),
        ),
    ),
    Flag(
        "psychotherapy",
        "Have you had talking therapy (psychotherapy) for depression?",
        FlagKind.TREATMENT_HISTORY,
    ),
    Flag(
        "ect_tms",
        "Have you had ECT (electroconvulsive therapy) or TMS (transcranial magnetic stimulation)?",
        FlagKind.TREATMENT_HISTORY,
    ),
    Flag(
        "ketamine_before",
        "Have you had esketamine (Spravato) or ketamine treatment before?",
        FlagKind.TREATMENT_HISTORY,
    ),
)

HISTORY_V1 = Checklist(
    key="history",
    version=1,
    title="Your health history",
    sections=(
        Section("conditions", "Do any of these apply to you?", CHECKLIST),
        Section("medicines", "Are you taking any of these medicines now?", MEDICATION_CLASSES),
        Section("past_treatment", "Treatment you have had for depression", PAST_TREATMENT),
    ),
)

# Same versioning rule as INSTRUMENTS: a changed question is a new version; old ones stay.
CHECKLISTS: dict[tuple[str, int], Checklist] = {(HISTORY_V1.key, HISTORY_V1.version): HISTORY_V1}


def get_checklist(key: str, version: int) -> Checklist:
    """The checklist ``key`` at ``version``; ``KeyError`` if there is no such version."""
    try:
        return CHECKLISTS[(key, version)]
    except KeyError:
        raise KeyError(f"no checklist {key!r} version {version}") from None


def current_checklist(key: str = "history") -> Checklist:
    """The highest registered version of checklist ``key``; ``KeyError`` if the key is unknown."""
    versions = [checklist for (k, _), checklist in CHECKLISTS.items() if k == key]
    if not versions:
        raise KeyError(f"no checklist {key!r}")
    return max(versions, key=lambda checklist: checklist.version)


def current_versions() -> dict[str, int]:
    """Instrument and checklist key -> current version: what a new intake records it was given."""
    keys = dict.fromkeys(k for k, _ in INSTRUMENTS)
    versions = {key: current(key).version for key in keys}
    versions.update({key: current_checklist(key).version for key, _ in CHECKLISTS})
    return versions
