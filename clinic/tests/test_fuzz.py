"""Anything a person or a bot can send to the public endpoints gets an answer below 500."""

import os
import re
import uuid
from collections import Counter
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.test import Client
from django.urls import NoReverseMatch, reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.booking import give_hours
from tests.support.personas import client_for

text = st.text(max_size=40)
maybe = st.one_of(
    st.none(),
    text,
    st.sampled_from(
        ["US-NY", "America/New_York", "2026-12-02", "2026-12-02T14:00:00Z", "any", "7", "-1", "0"]
    ),
)
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def params(**fields) -> dict:
    return {k: v for k, v in fields.items() if v is not None}


@pytest.fixture
def clinic(db, clinician):
    give_hours(clinician)
    return Client()


@FUZZ
@given(jurisdiction=maybe, start=maybe, days=maybe, clinician=maybe)
def test_api_slots_never_500(clinic, jurisdiction, start, days, clinician):
    response = clinic.get(
        "/api/v1/slots", params(jurisdiction=jurisdiction, start=start, days=days, clinician=clinician)
    )
    assert response.status_code < 500


@FUZZ
@given(jurisdiction=maybe, tz=maybe, start=maybe, clinician=maybe)
def test_booking_pages_never_500(clinic, jurisdiction, tz, start, clinician):
    query = params(jurisdiction=jurisdiction, tz=tz, start=start, clinician=clinician)
    assert clinic.get("/book/", query).status_code < 500
    assert clinic.post("/book/hold/", query).status_code < 500
    assert clinic.post("/book/waitlist/", params(email=start, jurisdiction=jurisdiction)).status_code < 500


@FUZZ
@given(name=maybe, email=maybe, phone=maybe, message=maybe)
def test_contact_form_never_500(clinic, name, email, phone, message):
    response = clinic.post("/contact/", params(name=name, email=email, phone=phone, message=message))
    assert response.status_code < 500


@FUZZ
@given(token=st.text(min_size=1, max_size=60).filter(lambda t: "/" not in t and "\x00" not in t))
def test_manage_links_never_500(clinic, token):
    from urllib.parse import quote

    assert clinic.get(f"/manage/{quote(token, safe='')}/").status_code in (404, 400)


@FUZZ
@given(
    body=st.one_of(
        st.text(max_size=200),
        st.dictionaries(
            st.sampled_from(
                ["jurisdiction", "start", "time_zone", "idempotency_key", "date_of_birth", "clinician"]
            ),
            st.one_of(text, st.integers(), st.none(), st.booleans()),
        ),
    )
)
def test_api_booking_never_500(clinic, patient, body):
    import json

    client = client_for(patient)
    payload = body if isinstance(body, str) else json.dumps(body)
    assert client.post("/api/v1/bookings", payload, content_type="application/json").status_code < 500


# Every form a person can post, found on the pages themselves ---------------------------------
#
# Each page of the URL map is opened as each persona (a visitor, the patient, their clinician,
# another clinician, staff) in the middle of one patient's story; every form on it (POST forms,
# and GET filters too) is then sent what an attacker or a broken client would send instead of its
# values: dates at the ends of the calendar, times whose move to UTC overflows, NUL and control
# characters, very long text, unknown fields. A form added to any page is fuzzed the day it
# appears.

NASTY = [
    "9999-12-31",
    "0001-01-01",
    "9999-12-31T23:59:00-14:00",
    "0001-01-01T00:00:00+14:00",
    "2026-02-31",
    "99999999999999999999",
    "-1",
    "1e309",
    "NaN",
    "\x00",
    "a\x00b",
    "\x01\x08\x1b[31m\x7f",
    "\u202eevil\u200b",
    "x" * 5000,
    "",
    " ",
    "<img src=x onerror=alert(1)>",
    "../../../../etc/passwd",
]
FORM_EXAMPLES = int(os.environ.get("FUZZ_FORM_EXAMPLES", "8"))
FUZZ_FORMS = settings(
    max_examples=FORM_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
)


@dataclass(frozen=True)
class PostForm:
    role: str
    action: str
    fields: tuple[tuple[str, tuple[str, ...]], ...]  # name, the values the page offers
    method: str = "post"


class FormFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, str, dict[str, list[str]]]] = []
        self.current: dict[str, list[str]] | None = None
        self.select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.current = {}
            self.forms.append((attr.get("method", "get").lower(), attr.get("action", ""), self.current))
        elif self.current is not None and tag in ("input", "textarea", "select", "button"):
            name = attr.get("name")
            if name and name != "csrfmiddlewaretoken":
                self.current.setdefault(name, [])
                if attr.get("value"):
                    self.current[name].append(attr["value"])
                self.select = name if tag == "select" else None
        elif self.current is not None and tag == "option" and self.select:
            self.current[self.select].append(attr.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.current = None
        elif tag == "select":
            self.select = None


def url_values(story) -> dict[str, object]:
    token = re.search(r"/manage/([^/\s]+)/", str(mail.outbox[0].body))
    return {
        **story.kwargs(),
        "token": token.group(1) if token else "t" * 32,
        "kind": "weekly",
        "row_id": uuid.uuid4(),
        "licence_id": story.clinician.licences.get().public_id,
        "hold_id": uuid.uuid4(),
        "slug": "what-is-ketamine",
        "step": "about",
    }


def every_url(values: dict[str, object]) -> list[str]:
    from clinic.tests.test_audit_walk import pages

    urls = []
    for page in pages():
        if page.name.startswith(("admin", "account_logout")) or not all(a in values for a in page.converters):
            continue
        try:
            urls.append(reverse(page.name, kwargs={a: values[a] for a in page.converters}))
        except NoReverseMatch:
            continue
    return urls


@pytest.fixture
def story(frozen, open_clinic, clinician_elsewhere, patient, staff, django_capture_on_commit_callbacks):
    from tests.support.scenario import tell

    return tell(frozen, patient, open_clinic, clinician_elsewhere, staff, django_capture_on_commit_callbacks)


def personas(story) -> dict[str, Client]:
    return {
        "visitor": Client(),
        "patient": client_for(story.patient),
        "clinician": client_for(story.clinician),
        "other clinician": client_for(story.other_clinician),
        "staff": client_for(story.staff),
    }


def find_forms(story, clients: dict[str, Client]) -> list[PostForm]:
    found: dict[tuple[str, str, str, tuple[str, ...]], PostForm] = {}
    # Pages whose forms appear once a query is given (the free times of a state).
    with_query = ["/book/?jurisdiction=US-NY&tz=America/New_York"]
    for url in every_url(url_values(story)) + with_query:
        for role, client in clients.items():
            response = client.get(url)
            if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
                continue
            finder = FormFinder()
            finder.feed(response.content.decode())
            for method, action, fields in finder.forms:
                target = urlsplit(action or url).path or urlsplit(url).path
                if "logout" in target:
                    continue  # signing out would only make the rest anonymous
                key = (role, method, target, tuple(sorted(fields)))
                offered = tuple((n, tuple(v)) for n, v in sorted(fields.items()))
                found.setdefault(key, PostForm(role, target, offered, method))
    return list(found.values())


EDGES = [*NASTY[:4], "a\x00b", "x" * 5000]


def fuzz(form: PostForm, client: Client, capture, problems: list[str], sent: Counter, edges: bool) -> None:
    """Post nasty bodies to ``form``, noting any 5xx in ``problems``: with ``edges``, each edge
    value in every field at once and in every field the page offers no value for; then
    ``FORM_EXAMPLES`` bodies drawn at random."""
    client.raise_request_exception = False
    offered = {name: [v for v in values if v] for name, values in form.fields}

    def send(data: dict) -> None:
        with capture(execute=True):
            response = (
                client.post(form.action, data) if form.method == "post" else client.get(form.action, data)
            )
        sent[response.status_code // 100 * 100] += 1
        if response.status_code >= 500:
            problems.append(f"{form.role} {form.method} {form.action} {data!r:.300}: {response.status_code}")

    for edge in EDGES if edges else []:
        send({name: edge for name in offered})
        send({name: (own[0] if own else edge) for name, own in offered.items()})

    def value_for(name: str):
        own = offered.get(name) or []
        return st.one_of(
            st.sampled_from(NASTY), st.text(max_size=20), *([st.sampled_from(own)] if own else [])
        )

    names = [*offered, "unexpected", "start", "date"]
    body = st.fixed_dictionaries({}, optional={name: value_for(name) for name in names})

    @FUZZ_FORMS
    @given(data=body)
    def post(data):
        send(data)

    post()


def test_every_form_on_every_page_answers_nasty_input_below_500(story, django_capture_on_commit_callbacks):
    clients = personas(story)
    forms = find_forms(story, clients)
    actions = {form.action for form in forms}
    # The walk really found the forms people use, for every persona.
    assert {form.role for form in forms} >= {"visitor", "patient", "clinician", "staff"}
    assert len(actions) >= 15, sorted(actions)
    assert {"/book/hold/", "/contact/", "/staff/audit/"} <= actions, sorted(actions)
    problems: list[str] = []
    sent: Counter = Counter()
    edged: set[tuple[str, tuple]] = set()
    for form in forms:
        shape = (form.method, form.action, tuple(name for name, _ in form.fields))
        fuzz(form, clients[form.role], django_capture_on_commit_callbacks, problems, sent, shape not in edged)
        edged.add(shape)
    print(
        f"fuzzed {len(forms)} forms ({len(actions)} targets), answers by class: {dict(sorted(sent.items()))}"
    )
    assert not problems, "\n".join(problems[:20])


def test_every_url_answers_huge_wrong_typed_and_long_requests_below_500(story, settings):
    clients = personas(story)
    huge = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10)
    long_query = "q=" + "a" * 8000 + "&date=9999-12-31&start=0001-01-01&week=9999-12-31"
    problems = []
    for url in every_url(url_values(story)):
        for role in ("visitor", "patient", "clinician", "staff"):
            client = clients[role]
            client.raise_request_exception = False
            tries = {
                "huge form": ("post", {"reason": huge}, None),
                "huge json": ("post", huge, "application/json"),
                "json junk": ("post", '{"start": "9999-12-31", "x": [', "application/json"),
                "text": ("post", "reason=\x00", "text/plain"),
                "multipart NUL": ("post", {"reason": "a\x00b", "start": "\x00"}, None),
                "long query": ("get", long_query, None),
                "long path": ("get", None, None),
            }
            for what, (method, data, content_type) in tries.items():
                if what == "long path":
                    response = client.get(url.rstrip("/") + "/" + "a" * 4000 + "/")
                elif method == "get":
                    response = client.get(f"{url}?{data}")
                elif content_type:
                    response = client.post(url, data, content_type=content_type)
                else:
                    response = client.post(url, data)
                status = response.status_code
                if status >= 500:
                    problems.append(f"{role} {what} {url}: {status}")
    assert not problems, "\n".join(problems[:30])
