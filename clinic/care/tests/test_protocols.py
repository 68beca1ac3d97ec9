"""Protocols: staff write versions, clinicians approve them, the label rules hold on their
boundaries, esketamine is never at home, and a plan keeps the version it started on."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from clinic.care import actions
from clinic.care.models import ProtocolVersion, Route, TreatmentPlan
from clinic.scheduling.models import AppointmentKind, AppointmentType
from tests.support import care

pytestmark = pytest.mark.django_db


def _esketamine(staff, **values):
    return actions.do_create_protocol_version(
        actor=staff, name="Esketamine", route=Route.INTRANASAL_ESKETAMINE, **{**care.ESKETAMINE, **values}
    )


def test_esketamine_observation_is_at_least_120_minutes_in_the_action_and_the_database(staff):
    with pytest.raises(actions.CareError, match="120 minutes"):
        _esketamine(staff, observation_minutes=119)
    version = _esketamine(staff, observation_minutes=120)
    assert version.observation_minutes == 120
    with pytest.raises(IntegrityError), transaction.atomic():
        ProtocolVersion.objects.filter(pk=version.pk).update(observation_minutes=119)
    # Another route may observe for less.
    other = actions.do_create_protocol_version(actor=staff, name="IM", route=Route.IM_KETAMINE, **care.PER_KG)
    assert other.observation_minutes == 60


def test_the_label_blood_pressure_holds_a_dose_only_above_140_over_90(staff):
    version = _esketamine(staff)
    assert (version.hold_systolic_above, version.hold_diastolic_above) == (140, 90)
    assert version.holds_dose(systolic=140, diastolic=90) == []
    assert version.holds_dose(systolic=141, diastolic=90) == ["systolic above 140"]
    assert version.holds_dose(systolic=140, diastolic=91) == ["diastolic above 90"]
    # Optional limits count only when set.
    assert version.holds_dose(systolic=120, diastolic=80, heart_rate=150, spo2=80) == []
    strict = _esketamine(staff, hold_heart_rate_above=110, hold_spo2_below=92)
    assert strict.holds_dose(systolic=120, diastolic=80, heart_rate=110, spo2=92) == []
    assert strict.holds_dose(systolic=120, diastolic=80, heart_rate=111, spo2=91) == [
        "heart rate above 110",
        "SpO2 below 92",
    ]


def test_the_dose_range_includes_both_ends_and_must_be_ordered(staff):
    version = _esketamine(staff)
    assert version.dose_in_range(Decimal("56")) and version.dose_in_range(Decimal("84"))
    assert not version.dose_in_range(Decimal("55.999")) and not version.dose_in_range(Decimal("84.001"))
    with pytest.raises(actions.CareError, match="dose range"):
        _esketamine(staff, dose_min=Decimal("84"), dose_max=Decimal("56"))
    with pytest.raises(actions.CareError, match="dose range"):
        _esketamine(staff, dose_min=Decimal("0"))


def test_the_asq_is_always_asked_and_at_home_the_reading_and_companion_too(staff):
    clinic_route = _esketamine(staff, checkins=["symptoms"])
    assert clinic_route.checkins == ["asq", "symptoms"]
    home = actions.do_create_protocol_version(
        actor=staff, name="Oral at home", route=Route.ORAL_KETAMINE, **care.PER_KG, checkins=[]
    )
    assert home.checkins == ["asq", "home_bp", "companion"]
    with pytest.raises(actions.CareError, match="Unknown check-in"):
        _esketamine(staff, checkins=["dose"])


def test_esketamine_is_booked_in_clinic_and_only_the_oral_route_at_home(staff, clinician, patient):
    for route in Route:
        version = care.approved_version(staff, clinician, route=route)
        plan = TreatmentPlan(patient=patient, protocol_version=version)
        expected = (
            AppointmentKind.SESSION_HOME if route == Route.ORAL_KETAMINE else AppointmentKind.SESSION_CLINIC
        )
        assert actions.session_kind(plan) == expected
    assert AppointmentType.objects.get(kind=AppointmentKind.SESSION_CLINIC).in_person
    assert not AppointmentType.objects.get(kind=AppointmentKind.SESSION_HOME).in_person
    assert AppointmentType.objects.get(kind=AppointmentKind.SESSION_CLINIC).duration_minutes == 150


def test_staff_write_versions_and_clinicians_approve_them(staff, clinician):
    with pytest.raises(actions.CareError):
        actions.do_create_protocol_version(actor=clinician, name="X", route=Route.IV_KETAMINE, **care.PER_KG)
    version = actions.do_create_protocol_version(
        actor=staff, name="IV", route=Route.IV_KETAMINE, **care.PER_KG
    )
    with pytest.raises(actions.CareError):
        actions.do_approve_protocol(actor=staff, version=version)
    actions.do_approve_protocol(actor=clinician, version=version)
    version.refresh_from_db()
    assert version.approved_by == clinician
    with pytest.raises(actions.CareError, match="already approved"):
        actions.do_approve_protocol(actor=clinician, version=version)


def test_a_plan_keeps_the_version_it_started_on(staff, clinician, patient):
    first = care.approved_version(staff, clinician)
    plan = care.start_plan(clinician, care.signed_note(patient, clinician), first)
    second = actions.do_create_protocol_version(
        actor=staff, protocol=first.protocol, **{**care.ESKETAMINE, "induction_sessions": 6}
    )
    actions.do_approve_protocol(actor=clinician, version=second)
    assert second.number == 2 and second.route == first.route
    assert first.protocol.current_version() == second
    plan.refresh_from_db()
    assert plan.protocol_version == first
    assert plan.sessions.count() == first.induction_sessions == 8


def test_an_unapproved_version_or_a_route_turned_off_starts_no_plan(staff, clinician, patient):
    version = actions.do_create_protocol_version(
        actor=staff, name="IV", route=Route.IV_KETAMINE, **care.PER_KG
    )
    actions.do_set_route_enabled(actor=staff, route=Route.IV_KETAMINE, enabled=True)
    note = care.signed_note(patient, clinician)
    with pytest.raises(actions.CareError, match="not approved"):
        care.start_plan(clinician, note, version)
    actions.do_approve_protocol(actor=clinician, version=version)
    actions.do_set_route_enabled(actor=staff, route=Route.IV_KETAMINE, enabled=False)
    with pytest.raises(actions.CareError, match="does not offer"):
        care.start_plan(clinician, note, version)
    assert not TreatmentPlan.objects.exists()
