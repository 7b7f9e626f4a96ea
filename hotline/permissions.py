"""Who may see or do what: every access rule of the hotline, once, for the staff web
(dashboards/web) and the JSON API (dashboards/api.py) alike.

Roles are hotline.models.Role's. Two kinds of rule:
- what a role may do whatever the row: a frozenset of the roles' stored values (Staff.role is a
  string column), tested with `allowed`; the staff web declares each view's set with
  dashboards.web.access.allow, and the API refuses with a 403 outside it;
- what depends on the row (a consultation record, a caller's number, a callback): functions of the
  person and the row.
Every function takes a person (a Staff, or anything with its `id`, `role` and, for records,
`languages`) and needs no app, database or request, except `visible_records`, which returns a SQL
condition. Source of the rules: the API's docstring (personal data), the desk's (records) and the
README's pages of the staff web.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from sqlalchemy import ColumnElement, or_, true

from hotline.models import ConsultationRecord, Role


class Person(Protocol):
    """Who asks: a Staff row or the staff web's signed-in wrapper of one."""

    id: int
    role: str


class Linguist(Person, Protocol):
    """A person with the language codes of their skills (Staff.languages)."""

    @property
    def languages(self) -> Sequence[str]: ...


def _roles(*roles: Role) -> frozenset[str]:
    return frozenset(role.value for role in roles)


# --- what each role may do, whatever the row --------------------------------------------------

EVERYONE = _roles(*Role)
# Supervisors and admins: they see every record and all personal data, and run the queues.
LEADS = _roles(Role.supervisor, Role.admin)

USE_DESK = EVERYONE  # the desk, its records and the home page; logging out
WATCH_BOARD = LEADS  # the live board, and the API's list of every caller waiting
MARK_URGENT = LEADS  # move a waiting caller to the front of their queue, or back
CHANGE_CALLBACKS = LEADS  # reassign, reschedule or cancel a callback
READ_REPORTS = LEADS
SET_ANYONES_STATUS = LEADS  # everyone may set their own
MANAGE_STAFF = _roles(Role.admin)  # add, edit, (de)activate staff, their passwords and tokens


def allowed(person: Person, roles: frozenset[str]) -> bool:
    """Whether `person`'s role is among `roles` (one of the sets above). False for an unknown role."""
    return person.role in roles


def is_lead(person: Person) -> bool:
    """Whether `person` is a supervisor or an admin (LEADS)."""
    return allowed(person, LEADS)


def may_set_status(person: Person, consultant: Person) -> bool:
    """Whether `person` may set `consultant`'s status: their own, or anyone's for SET_ANYONES_STATUS
    (the API's PUT /api/consultants/<id>/status; the desk sets only one's own)."""
    return person.id == consultant.id or allowed(person, SET_ANYONES_STATUS)


# --- consultation records (the desk and GET /api/consultations) ---------------------------------

def visible_records(person: Linguist) -> ColumnElement[bool]:
    """SQL condition on ConsultationRecord: the records `person` may see. Leads: all; a consultant:
    those they handled or wrote, and those in one of their languages."""
    if is_lead(person):
        return true()
    return or_(ConsultationRecord.consultant_id == person.id, ConsultationRecord.created_by_id == person.id,
               ConsultationRecord.language_code.in_(person.languages))


def may_see_record(person: Linguist, record: ConsultationRecord) -> bool:
    """Whether `person` may see `record`: the rule of visible_records, for one loaded record."""
    return may_write_up(person, record) or record.language_code in person.languages


def may_write_up(person: Person, record: ConsultationRecord) -> bool:
    """Whether `person` may write `record` up on the desk, and there read its notes: its consultant
    or its writer (a consultation in person or online), or a lead."""
    return is_lead(person) or person.id in (record.consultant_id, record.created_by_id)


# --- personal data ------------------------------------------------------------------------------

def may_see_personal_data(person: Person, handled_by: int | None) -> bool:
    """The API's rule for personal data: whether `person` may see a call's caller number
    (`handled_by`: the call's consultant), a record's notes and write it up (the record's
    consultant), a staff member's phone (that staff member) or a callback's number (its assignee).
    Leads always; otherwise only the staff member `handled_by`, and nobody when it is None."""
    return is_lead(person) or (handled_by is not None and handled_by == person.id)


def desk_shows_caller_numbers(person: Person) -> bool:
    """Whether the desk shows `person` callers' numbers (the call in hand, records): leads only;
    a consultant sees the caller's language and records, not their number."""
    return is_lead(person)


def desk_shows_urgent_followups(person: Person) -> bool:
    """Whether the desk lists the records flagged for an urgent follow-up: leads only."""
    return is_lead(person)


# --- staff management (hotline.accounts) --------------------------------------------------------

def may_manage_staff(person: Person) -> bool:
    """Whether `person` may manage staff (MANAGE_STAFF); accounts keeps one such person active."""
    return allowed(person, MANAGE_STAFF)


# --- recordings ---------------------------------------------------------------------------------
# may_listen_to_recording(person, recording) -> bool belongs here, beside the personal-data rule,
# when recordings/ serves recordings to staff; until then no page or endpoint plays one.
