"""The controlled-substance register through its pages and the administration hook: a scripted
sequence with its balances and a discrepancy, the two-person rules, append-only tables on the
database, the wrong personas, the audit rows and the inspection CSV."""

from __future__ import annotations

import csv
import io
import uuid
from decimal import Decimal

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from clinic.accounts.models import Role
from clinic.audit.models import Action, AuditEvent
from clinic.register.actions import RegisterError, balance_of, do_record_administration
from clinic.register.models import (
    CountCheck,
    Entry,
    EntryKind,
    Lot,
    Resolution,
    Site,
    StockCount,
    WasteRecord,
)
from tests.support.personas import client_for, make_user
from tests.support.register import KETAMINE_LOT, administer, stocked_site

pytestmark = pytest.mark.django_db


@pytest.fixture
def second_staff(db):
    return make_user("sky@example.org", Role.STAFF, mfa=True, name="Sky Second")


def balances(lot: Lot) -> list[Decimal]:
    return list(lot.entries.order_by("sequence").values_list("balance_mg", flat=True))


def lot_page(client, lot: Lot) -> str:
    response = client.get(reverse("register:lot", args=[lot.public_id]))
    assert response.status_code == 200
    return response.content.decode()


def test_a_scripted_sequence_keeps_the_running_balance_and_finds_the_discrepancy(
    frozen, staff, second_staff, clinician, patient
):
    first, second = client_for(staff), client_for(second_staff)
    # 1. Staff add the site and receive 500 mg through the page.
    response = first.post(reverse("register:index"), {"name": "Manhattan clinic"})
    site = Site.objects.get()
    assert response["Location"] == reverse("register:site", args=[site.public_id])
    response = first.post(
        reverse("register:receive", args=[site.public_id]),
        {
            "drug": "ketamine",
            "strength": "50 mg/mL, 10 mL vial",
            "lot_number": "KT-2411",
            "expires_on": "2027-06-30",
            "quantity_mg": "500",
            "supplier": "Acme Pharma Distribution",
            "received_at": "",
        },
    )
    assert response.status_code == 302
    lot = Lot.objects.get()
    # 2. A signed session record gives 35 mg; signing twice writes it once.
    ref = uuid.uuid4()
    given = {"site": site, "lot": "KT-2411", "session_ref": ref, "patient": patient, "by": clinician}
    entry = do_record_administration(quantity_mg=Decimal("35"), at=timezone.now(), **given)
    assert do_record_administration(quantity_mg=Decimal("35"), at=timezone.now(), **given) == entry
    with pytest.raises(RegisterError, match="already on the register"):
        do_record_administration(quantity_mg=Decimal("36"), at=timezone.now(), **given)
    # 3. Waste of 15 mg: pending until someone else witnesses it.
    response = first.post(
        reverse("register:waste", args=[lot.public_id]),
        {"quantity_mg": "15", "reason": "residual in the vial after the dose", "occurred_at": ""},
    )
    assert response.status_code == 302 and balance_of(lot) == Decimal("465")
    waste = WasteRecord.objects.get()
    assert first.post(reverse("register:witness", args=[waste.public_id])).status_code == 409
    assert balance_of(lot) == Decimal("465")
    assert second.post(reverse("register:witness", args=[waste.public_id])).status_code == 302
    assert second.post(reverse("register:witness", args=[waste.public_id])).status_code == 409
    # 4. 100 mg go to another site.
    other = Site.objects.create(name="Brooklyn clinic", created_at=timezone.now())
    response = first.post(
        reverse("register:transfer", args=[lot.public_id]),
        {"to_site": str(other.public_id), "quantity_mg": "100", "occurred_at": ""},
    )
    assert response.status_code == 302
    assert balance_of(Lot.objects.get(site=other)) == Decimal("100")
    # 5. A dose larger than the lot holds is refused, and nothing is written.
    with pytest.raises(RegisterError, match="has 350 mg on the register; 400 mg cannot be taken"):
        do_record_administration(
            site=site, lot=lot, quantity_mg=Decimal("400"), session_ref=uuid.uuid4(),
            patient=patient, by=clinician, at=timezone.now(),
        )  # fmt: skip
    assert balance_of(lot) == Decimal("350")
    # 6. A count by two people finds 340 mg: a discrepancy of -10 mg.
    first.post(reverse("register:count", args=[lot.public_id]), {"counted_mg": "340"})
    count = StockCount.objects.get()
    confirm = reverse("register:confirm_count", args=[count.public_id])
    assert first.post(confirm, {"counted_mg": "340"}).status_code == 409
    # The second person counts blind: the first figure is not on their page.
    site_page = second.get(reverse("register:site", args=[site.public_id])).content.decode()
    assert "340 mg" not in site_page and "Your own count (mg)" in site_page
    response = second.post(confirm, {"counted_mg": "345"})
    assert response.status_code == 409 and "Count the lot again together" in response.content.decode()
    assert not CountCheck.objects.exists()
    assert second.post(confirm, {"counted_mg": "340"}).status_code == 302
    check = CountCheck.objects.get()
    assert (check.balance_mg, check.difference_mg) == (Decimal("350"), Decimal("-10"))
    site_page = first.get(reverse("register:site", args=[site.public_id])).content.decode()
    assert "Discrepancies to resolve (1)" in site_page and "difference <strong>-10 mg</strong>" in site_page
    # 7. Staff resolve it with a note and bring the balance to the count.
    url = reverse("register:resolve", args=[check.public_id])
    assert first.post(url, {"note": "short"}).status_code == 400
    note = "One vial broken in the safe, found on the count"
    assert first.post(url, {"note": note, "adjust": "on"}).status_code == 302
    assert first.post(url, {"note": note, "adjust": "on"}).status_code == 409
    assert Resolution.objects.get().note == note
    site_page = first.get(reverse("register:site", args=[site.public_id])).content.decode()
    assert "Discrepancies to resolve (0)" in site_page
    # 8. A receipt typed wrong is corrected by a new line naming it.
    response = first.post(
        reverse("register:correct", args=[lot.public_id]),
        {"line": "1", "change_mg": "5", "note": "The invoice said 505 mg, not 500"},
    )
    assert response.status_code == 302
    correction = lot.entries.get(kind=EntryKind.CORRECTION)
    assert correction.corrects == lot.entries.get(sequence=1)
    assert lot.entries.get(sequence=1).change_mg == Decimal("500")  # the corrected line stands
    # 9. The next count matches; there is nothing to resolve.
    second.post(reverse("register:count", args=[lot.public_id]), {"counted_mg": "345"})
    last_count = StockCount.objects.order_by("pk").last()
    assert last_count is not None
    first.post(reverse("register:confirm_count", args=[last_count.public_id]), {"counted_mg": "345"})
    assert not CountCheck.objects.order_by("pk").last().is_discrepancy

    assert balances(lot) == [Decimal(x) for x in ("500", "465", "450", "350", "340", "345")]
    assert list(lot.entries.order_by("sequence").values_list("kind", flat=True)) == [
        "receipt", "administration", "waste", "transfer_out", "adjustment", "correction",
    ]  # fmt: skip
    page = lot_page(first, lot)
    assert "<strong>345 mg</strong>" in page and "Patient: Pat Patient" in page
    assert "Witnessed by Sky Second" in page and "To Brooklyn clinic" in page
    assert 'Corrects <a href="#line-1">line 1</a>' in page


def test_nobody_witnesses_their_own_waste_or_confirms_their_own_count_even_below_the_pages(
    staff, second_staff
):
    site, lot = stocked_site(staff)
    client_for(staff).post(
        reverse("register:waste", args=[lot.public_id]), {"quantity_mg": "2", "reason": "dropped vial"}
    )
    waste = WasteRecord.objects.get()
    page = client_for(staff).get(reverse("register:site", args=[site.public_id])).content.decode()
    assert "You declared this waste: another person witnesses it." in page
    assert "I witnessed this waste" not in page
    response = client_for(staff).post(reverse("register:witness", args=[waste.public_id]))
    assert response.status_code == 409
    assert "You declared this waste: another person must witness it." in response.content.decode()
    # The database itself refuses a waste line witnessed by whoever recorded it.
    with pytest.raises(DatabaseError), transaction.atomic():
        Entry.objects.create(
            lot=lot, sequence=2, kind=EntryKind.WASTE, change_mg=Decimal("-2"), balance_mg=Decimal("498"),
            occurred_at=waste.occurred_at, recorded_at=waste.recorded_at, recorded_by=staff,
            waste=waste, witnessed_by=staff,
        )  # fmt: skip
    client_for(staff).post(reverse("register:count", args=[lot.public_id]), {"counted_mg": "500"})
    count = StockCount.objects.get()
    with pytest.raises(DatabaseError), transaction.atomic():
        CountCheck.objects.create(
            count=count, counted_by=staff, confirmed_by=staff, confirmed_at=count.counted_at,
            balance_mg=Decimal("500"), difference_mg=Decimal("0"),
        )  # fmt: skip
    assert balance_of(lot) == Decimal("500")
    assert (
        client_for(second_staff).post(reverse("register:witness", args=[waste.public_id])).status_code == 302
    )
    assert balance_of(lot) == Decimal("498")


def test_bad_input_is_refused_with_a_message_and_changes_nothing(staff, clinician, patient):
    site, lot = stocked_site(staff, quantity="50")
    client = client_for(staff)
    before = (Entry.objects.count(), WasteRecord.objects.count(), StockCount.objects.count())
    receive = reverse("register:receive", args=[site.public_id])
    base = {"drug": "ketamine", "strength": "50 mg/mL, 10 mL vial", "lot_number": "KT-9", "supplier": "Acme"}
    for data, status, text in (
        ({**base, "quantity_mg": "-5"}, 400, "greater than or equal to 0.001"),
        ({**base, "quantity_mg": "abc"}, 400, "Enter a number"),
        ({**base, "quantity_mg": "1.0001"}, 400, "no more than 3 decimal places"),
        ({**base, "drug": "heroin", "quantity_mg": "5"}, 400, "Select a valid choice"),
        ({**base, "quantity_mg": "5", "received_at": "2099-01-01T10:00"}, 409, "in the future"),
        ({**base, "lot_number": KETAMINE_LOT, "drug": "esketamine", "quantity_mg": "5"}, 409,
         "one lot number is one product"),
    ):  # fmt: skip
        response = client.post(receive, data)
        assert response.status_code == status, data
        assert text in response.content.decode(), data
    waste = reverse("register:waste", args=[lot.public_id])
    response = client.post(waste, {"quantity_mg": "60", "reason": "spilled"})
    assert response.status_code == 409 and "cannot be wasted" in response.content.decode()
    assert client.post(waste, {"quantity_mg": "5", "reason": ""}).status_code == 400
    transfer = reverse("register:transfer", args=[lot.public_id])
    assert client.post(transfer, {"to_site": str(site.public_id), "quantity_mg": "5"}).status_code == 400
    assert client.post(transfer, {"to_site": str(uuid.uuid4()), "quantity_mg": "5"}).status_code == 400
    assert (
        client.post(reverse("register:count", args=[lot.public_id]), {"counted_mg": "-1"}).status_code == 400
    )
    correct = reverse("register:correct", args=[lot.public_id])
    response = client.post(correct, {"line": "9", "change_mg": "5", "note": "a long enough note"})
    assert response.status_code == 400 and "This lot has no line 9." in response.content.decode()
    response = client.post(correct, {"line": "1", "change_mg": "-60", "note": "a long enough note"})
    assert response.status_code == 409 and "cannot be taken" in response.content.decode()
    assert client.post(reverse("register:index"), {"name": "Manhattan clinic"}).status_code == 409
    assert client.post(reverse("register:witness", args=[uuid.uuid4()])).status_code == 404
    with pytest.raises(RegisterError, match="not on the register"):
        do_record_administration(
            site=site, lot="NO-SUCH", quantity_mg=Decimal("5"), session_ref=uuid.uuid4(),
            patient=patient, by=clinician, at=lot.created_at,
        )  # fmt: skip
    for who, whom, text in (
        (staff, patient, "prescribing clinician"),
        (clinician, staff, "given to a patient"),
    ):
        with pytest.raises(RegisterError, match=text):
            do_record_administration(
                site=site, lot=lot, quantity_mg=Decimal("5"), session_ref=uuid.uuid4(),
                patient=whom, by=who, at=lot.created_at,
            )  # fmt: skip
    assert (Entry.objects.count(), WasteRecord.objects.count(), StockCount.objects.count()) == before
    assert balance_of(lot) == Decimal("50")


def test_every_register_table_refuses_update_and_delete_on_the_database(
    staff, second_staff, clinician, patient
):
    site, lot = stocked_site(staff)
    administer(site, lot, patient=patient, clinician=clinician)
    client_for(staff).post(
        reverse("register:waste", args=[lot.public_id]), {"quantity_mg": "1", "reason": "drop"}
    )
    client_for(second_staff).post(reverse("register:witness", args=[WasteRecord.objects.get().public_id]))
    client_for(staff).post(reverse("register:count", args=[lot.public_id]), {"counted_mg": "400"})
    client_for(second_staff).post(
        reverse("register:confirm_count", args=[StockCount.objects.get().public_id]), {"counted_mg": "400"}
    )
    client_for(staff).post(
        reverse("register:resolve", args=[CountCheck.objects.get().public_id]),
        {"note": "Recount pending with the pharmacist"},
    )
    tables = {
        "register_lot": "strength = 'x'",
        "register_entry": "balance_mg = 99999",
        "register_wasterecord": "quantity_mg = 0.5",
        "register_stockcount": "counted_mg = 465",
        "register_countcheck": "difference_mg = 0",
        "register_resolution": "resolved_at = resolved_at",
    }
    for table, assignment in tables.items():
        for statement in (f"UPDATE {table} SET {assignment}", f"DELETE FROM {table}"):  # noqa: S608
            with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute(statement)
    # And through the ORM, as a bug in this codebase would try.
    entry = Entry.objects.get(kind=EntryKind.ADMINISTRATION)
    with pytest.raises(DatabaseError), transaction.atomic():
        Entry.objects.filter(pk=entry.pk).update(change_mg=Decimal("-1"))
    with pytest.raises(DatabaseError), transaction.atomic():
        Entry.objects.filter(pk=entry.pk).delete()
    assert balances(lot) == [Decimal("500"), Decimal("465"), Decimal("464")]


def test_the_register_is_for_staff_only(staff, clinician, nurse, patient):
    site, lot = stocked_site(staff)
    administer(site, lot, patient=patient, clinician=clinician)
    gets = [
        reverse("register:index"),
        reverse("register:site", args=[site.public_id]),
        reverse("register:lot", args=[lot.public_id]),
        reverse("register:export", args=[site.public_id]),
    ]
    posts = [
        (reverse("register:receive", args=[site.public_id]), {"quantity_mg": "5"}),
        (reverse("register:waste", args=[lot.public_id]), {"quantity_mg": "5", "reason": "drop"}),
        (reverse("register:count", args=[lot.public_id]), {"counted_mg": "5"}),
        (reverse("register:index"), {"name": "A new site"}),
    ]
    for person in (patient, clinician, nurse):
        client = client_for(person)
        for url in gets:
            assert client.get(url).status_code == 403, (person.role, url)
        for url, data in posts:
            assert client.post(url, data).status_code == 403, (person.role, url)
    for url in gets:
        response = client_for(None).get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert Entry.objects.count() == 2 and not WasteRecord.objects.exists() and Site.objects.count() == 1
    assert not AuditEvent.objects.filter(
        action__in=[Action.REGISTER_VIEWED, Action.REGISTER_EXPORTED]
    ).exists()
    # A clinician without the staff role, even one who gave the dose, reads nothing of it.
    assert client_for(clinician).get(reverse("register:lot", args=[lot.public_id])).status_code == 403


def test_every_write_and_every_read_of_patients_leaves_an_audit_row(staff, second_staff, clinician, patient):
    site, lot = stocked_site(staff)
    entry = administer(site, lot, patient=patient, clinician=clinician)
    row = AuditEvent.objects.get(action=Action.REGISTER_ADMINISTERED)
    assert (row.actor, row.patient, row.subject_id, row.reason) == (
        clinician,
        patient,
        str(entry.public_id),
        str(entry.session_ref),
    )
    client_for(staff).post(
        reverse("register:waste", args=[lot.public_id]), {"quantity_mg": "1", "reason": "drop"}
    )
    client_for(second_staff).post(reverse("register:witness", args=[WasteRecord.objects.get().public_id]))
    for action in (
        Action.REGISTER_SITE_ADDED,
        Action.REGISTER_RECEIVED,
        Action.REGISTER_WASTE_DECLARED,
        Action.REGISTER_WASTE_WITNESSED,
    ):
        assert AuditEvent.objects.filter(action=action).count() == 1, action
    # Typed text stays out of the log.
    assert not AuditEvent.objects.filter(reason__contains="drop").exists()
    client_for(staff).get(reverse("register:lot", args=[lot.public_id]), HTTP_X_REQUEST_ID="lot1")
    (read,) = AuditEvent.objects.filter(request_id="lot1")
    assert read.action == Action.REGISTER_VIEWED and read.patients == [str(patient.public_id)]
    client_for(staff).get(reverse("register:export", args=[site.public_id]), HTTP_X_REQUEST_ID="csv1")
    (export,) = AuditEvent.objects.filter(request_id="csv1")
    assert export.action == Action.REGISTER_EXPORTED and export.patients == [str(patient.public_id)]


def test_the_inspection_csv_lists_every_line_and_count(staff, second_staff, clinician, patient):
    site, lot = stocked_site(staff)
    entry = administer(site, lot, patient=patient, clinician=clinician)
    client_for(staff).post(
        reverse("register:waste", args=[lot.public_id]), {"quantity_mg": "0.5", "reason": "=HYPERLINK(evil)"}
    )
    client_for(second_staff).post(reverse("register:witness", args=[WasteRecord.objects.get().public_id]))
    client_for(staff).post(reverse("register:count", args=[lot.public_id]), {"counted_mg": "464.5"})
    client_for(second_staff).post(
        reverse("register:confirm_count", args=[StockCount.objects.get().public_id]), {"counted_mg": "464.5"}
    )
    response = client_for(staff).get(reverse("register:export", args=[site.public_id]))
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="register-manhattan-clinic-')
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    header, lines = rows[0], rows[1:4]
    assert header[:7] == ["site", "drug", "strength", "lot", "lot expires", "line", "entry"]
    by = {name: n for n, name in enumerate(header)}
    assert [r[by["balance (mg)"]] for r in lines] == ["500.000", "465.000", "464.500"]
    assert lines[1][by["patient"]] == "Pat Patient" and lines[1][by["session"]] == str(entry.session_ref)
    assert lines[2][by["witnessed by"]] == "Sky Second"
    assert lines[2][by["note"]] == "'=HYPERLINK(evil)"  # a spreadsheet shows it, never runs it
    counts = rows[rows.index([]) + 1 :]
    assert counts[1][counts[0].index("difference (mg)")] == "0.000"


def test_two_sites_keep_separate_registers_and_a_lot_of_one_site_cannot_be_given_at_another(
    staff, clinician, patient
):
    site, lot = stocked_site(staff)
    other, _ = stocked_site(staff, name="Brooklyn clinic", quantity="20")
    with pytest.raises(RegisterError, match="another site"):
        do_record_administration(
            site=other, lot=lot, quantity_mg=Decimal("5"), session_ref=uuid.uuid4(),
            patient=patient, by=clinician, at=lot.created_at,
        )  # fmt: skip
    administer(other, Lot.objects.get(site=other), patient=patient, clinician=clinician, quantity="20")
    assert balance_of(Lot.objects.get(site=other)) == Decimal("0")
    assert balance_of(lot) == Decimal("500")
    index = client_for(staff).get(reverse("register:index")).content.decode()
    assert "Brooklyn clinic" in index and "Manhattan clinic" in index


def test_key_rotation_reencrypts_the_registers_notes_and_nothing_else_may_change(
    staff, second_staff, settings
):
    site, lot = stocked_site(staff)
    client_for(staff).post(
        reverse("register:waste", args=[lot.public_id]), {"quantity_mg": "1", "reason": "drop"}
    )
    waste = WasteRecord.objects.get()
    with connection.cursor() as cursor:
        cursor.execute("SELECT reason FROM register_wasterecord WHERE id = %s", [waste.pk])
        before = cursor.fetchone()[0]
    old = settings.FIELD_ENCRYPTION_KEYS[0]
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), old]
    call_command("rotate_encryption_keys", stdout=io.StringIO())
    with connection.cursor() as cursor:
        cursor.execute("SELECT reason FROM register_wasterecord WHERE id = %s", [waste.pk])
        after = cursor.fetchone()[0]
    assert after != before and "drop" not in after
    settings.FIELD_ENCRYPTION_KEYS = settings.FIELD_ENCRYPTION_KEYS[:1]  # the old key is gone
    assert WasteRecord.objects.get().reason == "drop"
    with pytest.raises(DatabaseError), transaction.atomic():
        WasteRecord.objects.filter(pk=waste.pk).update(quantity_mg=Decimal("0.5"))


def test_the_staff_navigation_counts_what_waits_for_a_second_person(staff, second_staff):
    _, lot = stocked_site(staff)
    nav = client_for(staff).get(reverse("register:index")).content.decode()
    assert 'href="/staff/register/" aria-current="page">Register</a>' in nav
    client_for(staff).post(
        reverse("register:waste", args=[lot.public_id]), {"quantity_mg": "1", "reason": "drop"}
    )
    client_for(staff).post(reverse("register:count", args=[lot.public_id]), {"counted_mg": "499"})
    nav = client_for(second_staff).get(reverse("register:index")).content.decode()
    assert 'Register <span class="badge">2</span><span class="sr-only"> waiting</span>' in nav
