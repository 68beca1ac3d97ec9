import base64
import datetime as dt
import hashlib
import hmac
import re

import jwt
import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.urls import reverse

from clinic.accounts.models import Licence
from clinic.audit.models import Action, AuditEvent
from clinic.scheduling.models import Booking
from clinic.visits import ice
from clinic.visits.models import Attendance, Visit
from tests.support.booking import adult, book_as, slot_starts
from tests.support.personas import client_for

pytestmark = pytest.mark.django_db

WHERE = {"jurisdiction": "US-NY", "address": "1 Main St, Albany NY", "phone": "212 555 0100"}


@pytest.fixture
def booking(frozen, open_clinic, patient, django_capture_on_commit_callbacks):
    first = slot_starts(Client().get("/book/", {"jurisdiction": "US-NY", "tz": "America/New_York"}))[0]
    book_as(adult(patient), first, django_capture_on_commit_callbacks)
    booking = Booking.objects.get()
    frozen.move_to(booking.start - dt.timedelta(minutes=5))
    return booking


def url(name: str, booking: Booking) -> str:
    return reverse(f"visits:{name}", args=[booking.public_id])


def test_the_visit_opens_ten_minutes_before_and_closes_thirty_after(booking, frozen, patient):
    client = client_for(patient)
    frozen.move_to(booking.start - dt.timedelta(minutes=11))
    assert "The visit opens at" in client_for(patient).get(url("visit", booking)).content.decode()
    frozen.move_to(booking.start - dt.timedelta(minutes=9))
    assert (
        "Check your camera and microphone" in client_for(patient).get(url("visit", booking)).content.decode()
    )
    frozen.move_to(booking.end + dt.timedelta(minutes=31))
    assert "has closed" in client_for(patient).get(url("visit", booking)).content.decode()
    # After the window the status says "closed".
    closed = client.get(url("status", booking))
    assert closed.status_code == 200 and closed.json()["window"] == "closed"


def test_wrong_people_get_404_on_every_visit_url(booking, other_patient, clinician_elsewhere, staff):
    for who in (other_patient, clinician_elsewhere, staff):
        client = client_for(who)
        for name in ("visit", "status", "ice"):
            assert client.get(url(name, booking)).status_code == 404, (who.role, name)
        assert client.post(url("attest", booking), WHERE).status_code == 404
        assert client.post(url("admit", booking)).status_code == 404
    assert Client().get(url("visit", booking)).status_code == 302
    assert not Visit.objects.filter(attested_at__isnull=False).exists()


def call_shown(page: str) -> bool | None:
    """Whether the page shows the call: None without one, False while it waits hidden."""
    found = re.search(r'<section class="call" id="call"[^>]*>', page)
    return None if found is None else " hidden" not in found.group(0)


def test_attest_wait_admit(booking, patient, open_clinic):
    patient_client, doctor = client_for(patient), client_for(open_clinic)
    assert doctor.post(url("admit", booking)).status_code == 409  # nobody waiting yet
    response = patient_client.post(url("attest", booking), WHERE)
    assert response.status_code == 302
    page = patient_client.get(url("visit", booking)).content.decode()
    # The call is ready in the waiting room (it starts in place when admitted), but hidden.
    assert "You're in the waiting room" in page and call_shown(page) is False
    assert doctor.get(url("status", booking)).json()["waiting"] is True
    board = doctor.get(url("visit", booking)).content.decode()
    assert "is waiting" in board and "1 Main St, Albany NY" in board and 'id="admit"' in board
    assert doctor.post(url("admit", booking)).status_code == 302
    assert patient_client.get(url("status", booking)).json()["admitted"] is True
    assert call_shown(patient_client.get(url("visit", booking)).content.decode()) is True
    visit = Visit.objects.get()
    assert visit.attested_address == "1 Main St, Albany NY"  # stored encrypted, read back
    assert AuditEvent.objects.filter(action=Action.VISIT_ADMITTED, actor=open_clinic).exists()


def test_unlicensed_location_blocks_the_visit_and_both_are_told(booking, patient, open_clinic):
    response = client_for(patient).post(url("attest", booking), {**WHERE, "jurisdiction": "US-TX"})
    assert response.status_code == 302
    page = client_for(patient).get(url("visit", booking)).content.decode()
    assert "is not licensed in Texas" in page and "find a time with a doctor licensed in Texas" in page
    board = client_for(open_clinic).get(url("visit", booking)).content.decode()
    assert "where you hold no verified license" in board
    assert client_for(open_clinic).post(url("admit", booking)).status_code == 409
    assert AuditEvent.objects.filter(action=Action.VISIT_BLOCKED, reason="US-TX").exists()


def test_a_licence_that_expired_before_the_visit_does_not_count(booking, patient, open_clinic):
    Licence.objects.filter(clinician=open_clinic).update(
        expires_on=booking.start.date() - dt.timedelta(days=1)
    )
    client_for(patient).post(url("attest", booking), WHERE)
    assert client_for(open_clinic).post(url("admit", booking)).status_code == 409


@pytest.mark.parametrize(
    "change", [{"jurisdiction": "XX-YY"}, {"address": ""}, {"phone": "call me"}, {"jurisdiction": ""}]
)
def test_bad_attestation_is_refused_and_saves_nothing(booking, patient, change):
    response = client_for(patient).post(url("attest", booking), {**WHERE, **change})
    assert response.status_code == 400
    assert not Visit.objects.filter(attested_at__isnull=False).exists()


def headers(user, origin=b"http://testserver"):
    """What a browser sends when it opens the socket: the session cookie and the Origin."""
    result = [(b"origin", origin), (b"host", b"testserver")]
    if user is not None:
        result.append((b"cookie", f"sessionid={client_for(user).cookies['sessionid'].value}".encode()))
    return result


def connect(booking, header_list):
    from clinic.asgi import application

    return WebsocketCommunicator(application, f"/ws/visits/{booking.public_id}/", headers=header_list)


@pytest.fixture
def sockets(settings, monkeypatch):
    settings.ALLOWED_HOSTS = ["testserver"]
    # Channels closes "old" connections around each handler; in a test that would close the one
    # holding the test's transaction (PostgreSQL). The consumer itself runs unchanged.
    monkeypatch.setattr("channels.db.close_old_connections", lambda: None)


OFFER = {"kind": "description", "description": {"type": "offer", "sdp": "v=0"}}


def test_websocket_admits_only_the_two_participants_and_relays_the_call_only_once_admitted(
    booking, patient, open_clinic, other_patient, clinician_elsewhere, staff, sockets,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    as_patient, as_doctor = headers(patient), headers(open_clinic)
    strangers = [headers(who) for who in (other_patient, clinician_elsewhere, staff, None)]
    forged_origin = headers(open_clinic, origin=b"http://evil.example")
    client_for(patient).post(url("attest", booking), WHERE)

    def admit():
        with django_capture_on_commit_callbacks(execute=True):
            assert client_for(open_clinic).post(url("admit", booking)).status_code == 302

    def attendance():
        return {(a.role, a.left_at is not None) for a in Attendance.objects.all()}

    async def scenario():
        for stranger in [*strangers, forged_origin]:
            assert (await connect(booking, stranger).connect())[0] is False

        # The waiting room's socket: the patient is told the visit's status at once ...
        pat = connect(booking, as_patient)
        assert (await pat.connect())[0] is True
        first = await pat.receive_json_from()
        assert first["kind"] == "status" and first["waiting"] is True and first["admitted"] is False
        doctor = connect(booking, as_doctor)
        assert (await doctor.connect())[0] is True
        assert (await doctor.receive_json_from())["waiting"] is True
        assert await pat.receive_json_from() == {"kind": "present", "role": "clinician"}

        # ... but no negotiation passes either way before admission, and nobody is in the call.
        await pat.send_json_to({"kind": "hello"})
        await pat.send_json_to(OFFER)
        await doctor.send_json_to({"kind": "hello"})
        await doctor.send_json_to(OFFER)
        assert await doctor.receive_nothing()
        assert await pat.receive_nothing()
        assert await sync_to_async(attendance)() == set()

        # The patient's device check reaches the clinician; anything else it might say does not.
        await pat.send_json_to({"kind": "ready", "media": "video"})
        await pat.send_json_to({"kind": "ready", "media": "<b>hi</b>"})
        await doctor.send_json_to({"kind": "ready", "media": "video"})  # only patients report
        assert await doctor.receive_json_from() == {"kind": "ready", "media": "video"}
        assert await doctor.receive_nothing()
        assert await pat.receive_nothing()

        # Admission is pushed to both sockets the moment it commits: both are in the call.
        await sync_to_async(admit)()
        for side in (pat, doctor):
            pushed = await side.receive_json_from()
            assert pushed["kind"] == "status" and pushed["admitted"] is True, pushed
        assert await sync_to_async(attendance)() == {("clinician", False), ("patient", False)}

        # Now the call's negotiation passes, to the other side only.
        await pat.send_json_to({"kind": "hello"})
        assert await doctor.receive_json_from() == {"kind": "hello"}
        assert await pat.receive_nothing()  # never back to its sender
        await doctor.send_json_to(OFFER)
        assert (await pat.receive_json_from())["kind"] == "description"
        await doctor.send_json_to({"kind": "shell", "cmd": "rm -rf"})  # unknown kinds are dropped
        await doctor.send_to(text_data="not json")
        await doctor.send_json_to({"kind": "status", "admitted": False})  # only the server says
        assert await pat.receive_nothing()
        await pat.disconnect()
        assert await doctor.receive_json_from() == {"kind": "bye"}
        assert await doctor.receive_json_from() == {"kind": "gone", "role": "patient"}
        await doctor.disconnect()
        return True

    assert async_to_sync(scenario)()
    assert attendance() == {("clinician", True), ("patient", True)}
    assert AuditEvent.objects.filter(action=Action.VISIT_JOINED).count() == 2
    assert AuditEvent.objects.filter(action=Action.VISIT_LEFT).count() == 2


def test_the_clinician_hears_at_once_when_the_patient_is_blocked_for_location(
    booking, patient, open_clinic, sockets, django_capture_on_commit_callbacks
):
    def attest_texas():
        with django_capture_on_commit_callbacks(execute=True):
            client_for(patient).post(url("attest", booking), {**WHERE, "jurisdiction": "US-TX"})

    as_doctor = headers(open_clinic)

    async def scenario():
        doctor = connect(booking, as_doctor)
        assert (await doctor.connect())[0] is True
        before = await doctor.receive_json_from()
        assert before["blocked"] is False and before["attested_at"] is None
        await sync_to_async(attest_texas)()
        pushed = await doctor.receive_json_from()
        await doctor.disconnect()
        return pushed

    pushed = async_to_sync(scenario)()
    assert pushed["kind"] == "status" and pushed["blocked"] is True and pushed["place"] == "Texas"
    assert pushed["waiting"] is False and pushed["admitted"] is False
    # The status poll (for a page whose socket is down) says the same.
    polled = client_for(open_clinic).get(url("status", booking)).json()
    assert polled["blocked"] is True and polled["place"] == "Texas"


def test_a_change_of_place_after_admission_takes_both_out_of_the_call(
    booking, patient, open_clinic, sockets, django_capture_on_commit_callbacks
):
    client_for(patient).post(url("attest", booking), WHERE)
    client_for(open_clinic).post(url("admit", booking))

    def move(where):
        with django_capture_on_commit_callbacks(execute=True):
            client_for(patient).post(url("attest", booking), {**WHERE, "jurisdiction": where})

    as_patient, as_doctor = headers(patient), headers(open_clinic)

    async def scenario():
        pat, doctor = connect(booking, as_patient), connect(booking, as_doctor)
        assert (await pat.connect())[0] and (await doctor.connect())[0]
        assert (await pat.receive_json_from())["admitted"] is True
        assert (await doctor.receive_json_from())["admitted"] is True
        await pat.receive_json_from()  # the clinician is present
        await sync_to_async(move)("US-NJ")  # not licensed there: blocked, and out of the call
        for side in (pat, doctor):
            pushed = await side.receive_json_from()
            assert pushed["admitted"] is False and pushed["blocked"] is True, pushed
        await doctor.send_json_to(OFFER)
        assert await pat.receive_nothing()
        await pat.disconnect()
        await doctor.disconnect()
        return True

    assert async_to_sync(scenario)()
    assert not Attendance.objects.filter(left_at__isnull=True).exists()


def test_turn_credentials_follow_the_coturn_rest_form():
    username, password = ice.turn_credentials("s3cret", "abc123", ttl=3600, now=1_800_000_000)
    assert username == "1800003600:abc123"
    expected = base64.b64encode(hmac.new(b"s3cret", b"1800003600:abc123", hashlib.sha1).digest()).decode()
    assert password == expected


def test_ice_servers_come_from_settings(booking, patient, settings):
    settings.ICE_URLS = ["stun:stun.example.org:3478"]
    settings.TURN_URLS = ["turn:turn.example.org:3478?transport=udp"]
    settings.TURN_SECRET = "s3cret"
    servers = client_for(patient).get(url("ice", booking)).json()["iceServers"]
    assert servers[0] == {"urls": ["stun:stun.example.org:3478"]}
    assert servers[1]["urls"] == ["turn:turn.example.org:3478?transport=udp"]
    assert servers[1]["username"].endswith(":" + patient.public_id.hex)


def test_jitsi_token_names_the_room_and_the_window(booking, open_clinic, patient, settings):
    from clinic.visits.access import visit_for
    from clinic.visits.jitsi import room_token

    settings.JITSI_DOMAIN, settings.JITSI_APP_ID, settings.JITSI_APP_SECRET = (
        "meet.clinic.example",
        "mendwell",
        "k" * 32,
    )
    visit = visit_for(booking)
    doctor = jwt.decode(
        room_token(visit, open_clinic, moderator=True),
        "k" * 32,
        algorithms=["HS256"],
        audience="jitsi",
        options={"verify_nbf": False},
    )
    assert doctor["room"] == visit.room and len(visit.room) >= 20
    assert doctor["iss"] == "mendwell" and doctor["sub"] == "meet.clinic.example"
    assert doctor["nbf"] == int((booking.start - dt.timedelta(minutes=10)).timestamp())
    assert doctor["exp"] == int((booking.end + dt.timedelta(minutes=30)).timestamp())
    assert doctor["context"]["user"]["moderator"] is True
    guest = jwt.decode(
        room_token(visit, patient, moderator=False),
        "k" * 32,
        algorithms=["HS256"],
        audience="jitsi",
        options={"verify_nbf": False},
    )
    assert guest["context"]["user"]["moderator"] is False and guest["room"] == visit.room
