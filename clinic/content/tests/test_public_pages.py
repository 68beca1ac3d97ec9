"""What the public pages say: the checked facts (shared EVIDENCE.md), citations a reader can
check, no sales talk, and American spelling in everything shown to people."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest

from clinic.content import pages

CLINIC = Path(__file__).resolve().parents[2]
LEARN = [f"/learn/{p.slug}/" for p in pages.all_pages()]


def text_of(html: str) -> str:
    """Visible text: tags dropped, entities decoded, whitespace collapsed."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def get_text(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return text_of(response.content.decode())


def paragraphs_with(client, url: str, needle: str) -> list[str]:
    html = client.get(url).content.decode()
    blocks = re.findall(r"<(p|li|td)\b[^>]*>(.*?)</\1>", html, flags=re.S)
    return [text_of(body) for _, body in blocks if needle in text_of(body)]


# KADS: the 20 % vs 2 % is the flexible-dose cohort only --------------------------------------


@pytest.mark.django_db
def test_kads_remission_figure_is_given_only_for_the_flexible_dose_cohort(client):
    statements = paragraphs_with(client, "/learn/evidence/", "about 20%")
    assert statements, "the evidence page quotes the KADS result"
    for statement in statements:
        assert "2% with midazolam" in statement
        assert "106" in statement and "0.9 mg" in statement, statement  # the flexible-dose cohort
    page = get_text(client, "/learn/evidence/")
    assert "68 people" in page and "did not show a clear benefit" in page  # the fixed-dose cohort
    assert "second cohort only" in page
    assert "MADRS" in page and "10 or less" in page  # what remission meant


@pytest.mark.django_db
@pytest.mark.parametrize("url", LEARN)
def test_every_page_that_names_kads_gives_both_cohorts_and_no_pooled_size(client, url):
    text = get_text(client, url)
    assert "179" not in text
    if "KADS" in text.replace("KADS study", ""):
        assert "68" in text and "106" in text, url
        for statement in paragraphs_with(client, url, "about 20%"):
            assert "106" in statement or "second cohort" in statement, statement


# Citations -----------------------------------------------------------------------------------

# Checked by hand against the publisher, PubMed or the FDA (see the footnotes' own text).
CHECKABLE = re.compile(
    r"^https://(doi\.org/10\.|pubmed\.ncbi\.nlm\.nih\.gov/|www\.ajgponline\.org/article/"
    r"|www\.fda\.gov/|dailymed\.nlm\.nih\.gov/)"
)


@pytest.mark.django_db
@pytest.mark.parametrize("url", LEARN)
def test_every_research_citation_names_its_work_and_links_a_checkable_address(client, url):
    html = client.get(url).content.decode()
    notes = re.findall(r'<li id="fn:(\w+)">(.*?)</li>', html, flags=re.S)
    assert notes, url
    for key, body in notes:
        text = text_of(body)
        if "service rule" in text:
            continue  # the clinic's own rule, not a research finding
        links = [h for h in re.findall(r'href="([^"]+)"', body) if not h.startswith("#")]
        assert any(CHECKABLE.match(unescape(h)) for h in links), (url, key, links)
        if "et al." in text:
            # Authors, then a title of several words, then the journal in italics.
            assert re.search(r"et al\. [A-Z][^.]{20,}", text), (url, key, text)
            assert "<em>" in body, (url, key)


@pytest.mark.django_db
def test_the_evidence_page_links_each_trial_it_quotes(client):
    html = client.get("/learn/evidence/").content.decode()
    for address in [
        "https://doi.org/10.1038/s41380-018-0256-5",  # Fava, Mol Psychiatry
        "https://doi.org/10.1038/s41386-019-0317-8",  # Wilkinson, Neuropsychopharmacology
        "https://doi.org/10.1002/14651858.CD011612.pub3",  # Cochrane 2021
        "https://doi.org/10.1016/j.jagp.2017.06.007",  # George, Am J Geriatr Psychiatry
        "https://doi.org/10.1192/bjp.2023.79",  # KADS, Br J Psychiatry
        "https://pubmed.ncbi.nlm.nih.gov/41123905/",  # KARMA-Dep 2, JAMA Psychiatry
    ]:
        assert f'href="{address}"' in html, address


# The home page: no sales talk, no prescribing, where the doctor is licensed -------------------


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/", "/learn/", "/terms/", *LEARN])
def test_public_pages_do_not_use_sales_phrases(client, url):
    text = get_text(client, url).lower()
    for phrase in ["no obligation", "no cost", "honestly", "risk-free", "guarantee", "life-changing"]:
        assert phrase not in text, (url, phrase)


@pytest.mark.django_db
def test_home_page_says_the_consultation_prescribes_nothing_and_where_the_doctor_is_licensed(client):
    text = get_text(client, "/")
    assert "licensed where you will be during the call" in text
    assert "licensed where you live" not in text
    assert "No medicine is prescribed during it" in text
    # "Prescriptions without a doctor's assessment" suggested prescriptions after one.
    assert "without a doctor's assessment" not in text
    assert "decided at an in-person assessment" in text


@pytest.mark.django_db
def test_terms_say_the_doctor_is_licensed_where_the_patient_will_be_during_the_call(client):
    assert "licensed where you will be during the call" in get_text(client, "/terms/")


# American spelling in what people read ---------------------------------------------------------

BRITISH = re.compile(
    r"\b(behaviour|colour|favour|honour|neighbour|labour|centre|metre|theatre|licence|licences"
    r"|programme|organis\w*|recognis\w*|apologis\w*|minimis\w*|prioritis\w*|summaris\w*|authoris\w*"
    r"|anaesth\w*|haem\w*|paediatr\w*|oestr\w*|diarrhoea|oedema|judgement|acknowledgement"
    r"|working days?|whilst|amongst|enrol|enrolment|practise[sd]?)\b",
    re.I,
)


def visible_template_text(source: str) -> str:
    """A template's words as people see them: without template tags, comments, variables,
    HTML tags and their attributes."""
    source = re.sub(r"\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}", " ", source, flags=re.S)
    source = re.sub(r"<!--.*?-->", " ", source, flags=re.S)
    return re.sub(r"<[^>]+>", " ", source)


def shown_files() -> list[Path]:
    files = sorted(CLINIC.glob("**/templates/**/*.html")) + sorted(CLINIC.glob("**/templates/**/*.txt"))
    return [*files, *sorted((CLINIC / "content" / "pages").glob("*.md"))]


def test_text_shown_to_people_uses_american_spelling():
    found = []
    for path in shown_files():
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".md":
            text = re.sub(r"^\[\^\w+\]:.*$", " ", text, flags=re.M)  # titles are quoted as published
        for match in BRITISH.finditer(visible_template_text(text)):
            found.append(f"{path.relative_to(CLINIC)}: {match.group(0)}")
    assert not found, "British spelling in text shown to people:\n" + "\n".join(found)


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/", "/learn/", "/contact/", "/terms/", "/privacy/", "/crisis/", *LEARN])
def test_public_pages_as_served_use_american_spelling(client, url):
    html = client.get(url).content.decode()
    html = re.sub(r'<div class="footnote">.*?</div>', " ", html, flags=re.S)  # published titles
    assert not BRITISH.findall(text_of(html)), url
