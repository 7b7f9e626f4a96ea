"""hotline.permissions, the one place of the access rules: plain functions, tables over the roles,
no app. The staff web's and the API's own tests check the same rules through their pages and
endpoints (tests/dashboards/web/test_access.py walks the URL map)."""
from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from hotline import permissions
from hotline.models import ConsultationRecord, Role
from hotline.models.base import Base

ME, SOMEONE_ELSE = 7, 8
CONSULTANT, SUPERVISOR, ADMIN = Role.consultant.value, Role.supervisor.value, Role.admin.value


@dataclass
class Person:
    role: str
    id: int = ME
    languages: list[str] = field(default_factory=lambda: ["fa"])


def _record(consultant_id=None, created_by_id=None, language_code="en"):
    return SimpleNamespace(consultant_id=consultant_id, created_by_id=created_by_id,
                           language_code=language_code)


@pytest.mark.parametrize("rule, consultant, supervisor, admin", [
    (permissions.EVERYONE, True, True, True),
    (permissions.USE_DESK, True, True, True),
    (permissions.WATCH_BOARD, False, True, True),
    (permissions.MARK_URGENT, False, True, True),
    (permissions.CHANGE_CALLBACKS, False, True, True),
    (permissions.READ_REPORTS, False, True, True),
    (permissions.SET_ANYONES_STATUS, False, True, True),
    (permissions.LEADS, False, True, True),
    (permissions.MANAGE_STAFF, False, False, True),
])
def test_who_may_do_what_whatever_the_row(rule, consultant, supervisor, admin):
    answers = {role: permissions.allowed(Person(role), rule) for role in (CONSULTANT, SUPERVISOR, ADMIN)}
    assert answers == {CONSULTANT: consultant, SUPERVISOR: supervisor, ADMIN: admin}


def test_the_role_sets_hold_the_enums_values_and_nothing_else():
    assert permissions.EVERYONE == {role.value for role in Role}
    assert not permissions.allowed(Person("janitor"), permissions.EVERYONE)


@pytest.mark.parametrize("role, lead, manages_staff", [
    (CONSULTANT, False, False), (SUPERVISOR, True, False), (ADMIN, True, True),
])
def test_leads_and_staff_managers(role, lead, manages_staff):
    person = Person(role)
    assert permissions.is_lead(person) is lead
    assert permissions.desk_shows_caller_numbers(person) is lead
    assert permissions.desk_shows_urgent_followups(person) is lead
    assert permissions.may_manage_staff(person) is manages_staff


@pytest.mark.parametrize("role, own, someone_elses", [
    (CONSULTANT, True, False), (SUPERVISOR, True, True), (ADMIN, True, True),
])
def test_who_may_set_a_consultants_status(role, own, someone_elses):
    assert permissions.may_set_status(Person(role), Person(CONSULTANT, id=ME)) is own
    assert permissions.may_set_status(Person(role), Person(CONSULTANT, id=SOMEONE_ELSE)) is someone_elses


@pytest.mark.parametrize("role, handled_by, sees", [
    (CONSULTANT, ME, True),
    (CONSULTANT, SOMEONE_ELSE, False),
    (CONSULTANT, None, False),  # nobody handled it (a caller who hung up in the queue)
    (SUPERVISOR, SOMEONE_ELSE, True),
    (SUPERVISOR, None, True),
    (ADMIN, SOMEONE_ELSE, True),
    (ADMIN, None, True),
])
def test_who_may_see_personal_data(role, handled_by, sees):
    assert permissions.may_see_personal_data(Person(role), handled_by) is sees


# (record, what a consultant of ME with the language fa may: see, write up)
RECORDS = [
    (_record(consultant_id=ME), True, True),
    (_record(created_by_id=ME, consultant_id=SOMEONE_ELSE), True, True),
    (_record(consultant_id=SOMEONE_ELSE, language_code="fa"), True, False),
    (_record(consultant_id=SOMEONE_ELSE, language_code="en"), False, False),
    (_record(consultant_id=None, language_code="en"), False, False),
]


@pytest.mark.parametrize("role", [CONSULTANT, SUPERVISOR, ADMIN])
@pytest.mark.parametrize("record, consultant_sees, consultant_writes", RECORDS)
def test_who_may_see_and_write_up_a_record(role, record, consultant_sees, consultant_writes):
    person = Person(role)
    lead = role != CONSULTANT
    assert permissions.may_see_record(person, record) is (lead or consultant_sees)
    assert permissions.may_write_up(person, record) is (lead or consultant_writes)


@pytest.mark.parametrize("role", [CONSULTANT, SUPERVISOR, ADMIN])
def test_visible_records_selects_what_may_see_record_allows(role):
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        for n, (row, _, _) in enumerate(RECORDS, start=1):
            session.add(ConsultationRecord(id=n, channel="phone", office_code="sofia", outcome="answered",
                                           consultant_id=row.consultant_id, created_by_id=row.created_by_id,
                                           language_code=row.language_code))
        session.commit()
        person = Person(role)
        visible = select(ConsultationRecord.id).where(permissions.visible_records(person))
        selected = set(session.scalars(visible))
        allowed = {record.id for record in session.scalars(select(ConsultationRecord))
                   if permissions.may_see_record(person, record)}
    engine.dispose()
    assert selected == allowed
    assert len(selected) == (len(RECORDS) if role != CONSULTANT else 3)
