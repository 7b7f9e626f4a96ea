"""Queries for the staff's view of callbacks: the list and its counts by state, the backlog
summary, one callback with its calls and consultation record, whom a callback may be given to, and
the journal of what staff changed. The changes themselves are callbacks.schedule's."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session, selectinload

from dashboards import days
from hotline import calls
from hotline.catalogue import Catalogue
from hotline.models import (
    OPEN_STATES,
    Call,
    Callback,
    CallbackState,
    ConsultationRecord,
    Staff,
    StaffSkill,
)

STATES = tuple(state.value for state in CallbackState)
CLOSED_STATES = (CallbackState.completed.value, CallbackState.unreachable.value, CallbackState.canceled.value)
# Listed unless asked for by name: a draft is a booking the caller has not finished (or hung up
# in the middle of), not yet a callback anyone has to make.
LISTED_BY_DEFAULT = tuple(state for state in STATES if state != CallbackState.draft.value)
# Waiting for their time or for a consultant: these are late once due_at has passed.
WAITING_STATES = (CallbackState.scheduled.value, CallbackState.due.value)


@dataclass(frozen=True)
class CallbackFilter:
    states: tuple[str, ...] | None = None  # None: LISTED_BY_DEFAULT
    language: str | None = None
    topic: str | None = None
    office: str | None = None
    assigned_staff_id: int | None = None
    unassigned: bool = False  # only callbacks given to nobody in particular
    due_days: days.Period | None = None  # due_at on these days, each office's in its own time zone
    limit: int = 100
    offset: int = 0

    @property
    def open_only(self) -> bool:
        """Only open states asked for: the backlog, listed soonest due first."""
        return self.states is not None and set(self.states) <= set(OPEN_STATES)


def _conditions(flt: CallbackFilter, *, by_state: bool = True) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if by_state:
        conditions.append(Callback.state.in_(flt.states or LISTED_BY_DEFAULT))
    if flt.language:
        conditions.append(Callback.language_code == flt.language)
    if flt.topic:
        conditions.append(Callback.topic_code == flt.topic)
    if flt.office:
        conditions.append(Callback.office_code == flt.office)
    if flt.unassigned:
        conditions.append(Callback.assigned_staff_id.is_(None))
    elif flt.assigned_staff_id is not None:
        conditions.append(Callback.assigned_staff_id == flt.assigned_staff_id)
    if flt.due_days:
        conditions.append(flt.due_days.contains(Callback.due_at, Callback.office_code))
    return conditions


def callbacks(session: Session, flt: CallbackFilter) -> list[tuple[Callback, str]]:
    """Callbacks matching the filter, each with the CallSid of the call that asked for it, and
    their attempts loaded (one more query for the page, not one per callback).

    Open states only: soonest due first (what is to be done next). Otherwise: latest due first
    (history, newest on the first page). Ties by id, so pages never overlap."""
    if flt.open_only:
        order = (Callback.due_at.asc(), Callback.id.asc())
    else:
        order = (Callback.due_at.desc(), Callback.id.desc())
    query = (
        select(Callback, Call.call_sid).join(Call, Callback.call_id == Call.id)
        .options(selectinload(Callback.attempt_rows))
        .where(*_conditions(flt)).order_by(*order).limit(flt.limit).offset(flt.offset)
    )
    return [(callback, call_sid) for callback, call_sid in session.execute(query)]


def count(session: Session, flt: CallbackFilter) -> int:
    """How many callbacks match the filter in all (for paging)."""
    return session.scalar(select(func.count()).select_from(Callback).where(*_conditions(flt)))


def counts_by_state(session: Session, flt: CallbackFilter) -> dict[str, int]:
    """Callbacks matching the filter but for its states, counted by state; every state present."""
    counts = dict.fromkeys(STATES, 0)
    counts.update(_by_state(session, *_conditions(flt, by_state=False)))
    return counts


def _by_state(session: Session, *conditions: ColumnElement[bool]) -> dict[str, int]:
    rows = session.execute(select(Callback.state, func.count()).where(*conditions).group_by(Callback.state))
    return {state: n for state, n in rows}


def summary(session: Session, catalogue: Catalogue, now: datetime, *, language: str | None = None,
            topic: str | None = None, office: str | None = None) -> dict:
    """The backlog: open callbacks by state; overdue ones (due_at passed while scheduled or
    waiting in the queue for a consultant) and since when; callbacks closed today (each office's
    today, in its time zone from `catalogue`) by how they ended. `now`: an aware datetime. "day" and
    "time_zone" name the today of `office`, or of the default office (see dashboards.days)."""
    scope = _conditions(CallbackFilter(language=language, topic=topic, office=office), by_state=False)
    opened = dict.fromkeys(OPEN_STATES, 0)
    opened.update(_by_state(session, *scope, Callback.state.in_(OPEN_STATES)))
    overdue, oldest = session.execute(
        select(func.count(), func.min(Callback.due_at))
        .where(*scope, Callback.state.in_(WAITING_STATES), Callback.due_at < now)
    ).one()
    closed = dict.fromkeys(CLOSED_STATES, 0)
    closed.update(_by_state(session, *scope, Callback.state.in_(CLOSED_STATES),
                            days.todays(catalogue, now).contains(Callback.closed_at, Callback.office_code)))
    return {
        "open": opened,
        "open_total": sum(opened.values()),
        "overdue": overdue,
        "oldest_overdue_due_at": oldest.isoformat() if oldest is not None else None,
        "completed_today": closed[CallbackState.completed.value],
        "unreachable_today": closed[CallbackState.unreachable.value],
        "canceled_today": closed[CallbackState.canceled.value],
        "day": days.today(catalogue, now, office).isoformat(),
        "time_zone": days.zone_of(catalogue, office).key,
    }


@dataclass(frozen=True)
class CallbackDetail:
    callback: Callback
    call: Call  # the call on which the caller asked to be called back
    return_call: Call | None  # the call that reached them
    record: ConsultationRecord | None  # the consultation record of the return call


def callback_detail(session: Session, callback_id: int) -> CallbackDetail | None:
    callback = session.scalar(
        select(Callback).options(selectinload(Callback.attempt_rows)).where(Callback.id == callback_id)
    )
    if callback is None:
        return None
    call = session.get(Call, callback.call_id)
    return_call = record = None
    if callback.return_call_id is not None:
        return_call = session.get(Call, callback.return_call_id)
        record = session.scalar(
            select(ConsultationRecord).where(ConsultationRecord.call_id == callback.return_call_id))
    return CallbackDetail(callback, call, return_call, record)


def assignable(session: Session, staff_id: int, language: str) -> bool:
    """Whether routing could ring this staff member for a callback in `language`: active, with a
    phone and the language among their skills (the topic too, or they get it once its wait is
    widened to any topic of the language)."""
    skilled = select(StaffSkill.staff_id).where(StaffSkill.staff_id == staff_id,
                                                StaffSkill.language_code == language)
    found = session.scalar(select(Staff.id).where(
        Staff.id == staff_id, Staff.active.is_(True), Staff.phone.is_not(None), Staff.id.in_(skilled)))
    return found is not None


def journal(session: Session, callback_id: int, kind: str, staff_id: int, now: datetime,
            detail: str | None = None) -> None:
    """Note a staff member's change to a callback on the call that asked for it (ids and times
    only, nothing personal)."""
    call_id = session.scalar(select(Callback.call_id).where(Callback.id == callback_id))
    calls.record_event(session, call_id, kind, detail, consultant_id=staff_id, at=now)
