"""Consultant states and the atomic reservation that keeps a consultant to one call at a time.

Every change is a single conditional UPDATE (compare-and-set on status and current call), so any
number of web processes and workers can race for the same consultant and exactly one wins: the
database, not process memory, holds the truth.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Select, and_, bindparam, case, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from hotline.models import Staff, Status, UTCDateTime, utcnow

# An offer whose ringing never ended in an answer or a Dial result (a lost webhook) is given up
# after this long, so the consultant cannot be stuck in "offered".
STALE_OFFER = timedelta(minutes=2)


def free_now(now: datetime) -> ColumnElement[bool]:
    """SQL condition: the consultant may be offered a call at `now`."""
    return free_at(now, now - STALE_OFFER)


def free_at(now, stale_before) -> ColumnElement[bool]:
    """free_now() with its two instants given apart: values, or bound parameters for a statement
    built once and run many times (routing.candidates)."""
    return or_(
        Staff.status == Status.available.value,
        and_(Staff.status == Status.wrap_up.value, Staff.wrap_up_until <= now),
        and_(Staff.status == Status.offered.value, Staff.status_since <= stale_before),
    )


# free_at() with its instants bound at run time (as `now` and `stale_before`), for statements built
# once: routing.candidates' pick and reserve_picked_statement.
NOW_BOUND = bindparam("now", type_=UTCDateTime)
FREE_BOUND = free_at(NOW_BOUND, bindparam("stale_before", type_=UTCDateTime))
# The consultant already offered the call being routed (its CallSid bound as ringing_for).
RINGING_IT = and_(Staff.status == Status.offered.value, Staff.current_call_sid == bindparam("ringing_for"))


def effective_status(staff: Staff, now: datetime | None = None) -> str:
    """The status routing acts on: a wrap-up that has run out is available."""
    now = now or utcnow()
    if staff.status == Status.wrap_up.value and staff.wrap_up_until and staff.wrap_up_until <= now:
        return Status.available.value
    return staff.status


def reserve(session: Session, staff_id: int, call_sid: str, commit: bool = True) -> bool:
    """Offer `call_sid` to the consultant if they are free; True if this call got them. With
    commit=False the caller commits (or rolls back) the reservation with what it does next."""
    now = utcnow()
    result = session.execute(_RESERVE, {"reserve_id": staff_id, "reserve_call": call_sid, "reserve_now": now,
                                        "reserve_stale": now - STALE_OFFER})
    if commit:
        session.commit()
    return result.rowcount == 1


_RESERVE_NOW = bindparam("reserve_now", type_=UTCDateTime)
# reserve()'s compare-and-set, built once, with free_now()'s two instants bound at run time.
_RESERVE = (
    update(Staff)
    .where(Staff.id == bindparam("reserve_id"), Staff.active.is_(True),
           free_at(_RESERVE_NOW, bindparam("reserve_stale", type_=UTCDateTime)))
    .values(status=Status.offered.value, current_call_sid=bindparam("reserve_call"),
            status_since=_RESERVE_NOW,
            wrap_up_until=None)
    .execution_options(synchronize_session=False)
)


def reserve_picked_statement(dialect: str, pick: Select):
    """The reservation of routing.candidates.reserve_best, for `dialect` ("postgresql" or
    "sqlite"): the consultant `pick` (a SELECT of one Staff.id) is reserved for the call bound as
    `ringing_for` (status offered, their current call that one) if still reachable and free (the
    instants bound as `now` and `stale_before`), or if ringing for that call already. Returns a
    statement whose rows are (id, phone, status_since) of the consultant reserved.

    Its SET reads the row before the change (on PostgreSQL, after waiting for a concurrent
    transaction that changed it, the row as that one committed it): a consultant ringing for the
    call keeps their status_since, any other gets `now`. On PostgreSQL the pick is a CTE joined to
    the UPDATE's, so that a pick whose UPDATE found the row no longer free still returns its id,
    with NULLs for the update's columns: a lost race, told apart from nobody free."""
    still = (Staff.phone.is_not(None), or_(and_(Staff.active.is_(True), FREE_BOUND), RINGING_IT))
    values = dict(status=Status.offered.value, current_call_sid=bindparam("ringing_for"),
                  status_since=case((RINGING_IT, Staff.status_since), else_=NOW_BOUND),
                  wrap_up_until=case((RINGING_IT, Staff.wrap_up_until), else_=None))
    if dialect == "postgresql":
        picked = pick.cte("picked")
        taken = (update(Staff).where(Staff.id == picked.c.id, *still).values(**values)
                 .returning(Staff.id, Staff.phone, Staff.status_since).cte("taken"))
        return (select(taken.c.id, taken.c.phone, taken.c.status_since)
                .select_from(picked.outerjoin(taken, taken.c.id == picked.c.id)))
    return (update(Staff).where(Staff.id == pick.scalar_subquery(), *still).values(**values)
            .returning(Staff.id, Staff.phone, Staff.status_since)
            .execution_options(synchronize_session=False))


def accept(session: Session, staff_id: int, call_sid: str) -> bool:
    """The consultant pressed the key: offered -> busy, only if this call is still theirs and they
    are still active (one deactivated while their phone rang takes no call: accounts.deactivate
    leaves a ringing offer as it is). Returns whether they took it; committed."""
    result = session.execute(
        update(Staff)
        .where(Staff.id == staff_id, Staff.current_call_sid == call_sid, Staff.status == Status.offered.value,
               Staff.active.is_(True))
        .values(status=Status.busy.value, status_since=utcnow())
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return result.rowcount == 1


def release(session: Session, call_sid: str, staff_id: int | None = None,
            to_status: str | None = None) -> int:
    """An offer of `call_sid` that was not taken: the consultant is available again, still
    keeping their place in the idle order, or goes to `to_status` (break, for a consultant who let
    the phone ring out: the next caller should not ring at an empty desk). With `staff_id`, only
    that consultant's offer. Returns how many consultants were released."""
    condition = () if staff_id is None else (Staff.id == staff_id,)
    result = session.execute(
        update(Staff)
        .where(Staff.current_call_sid == call_sid, Staff.status == Status.offered.value, *condition)
        .values(status=to_status or Status.available.value, current_call_sid=None, status_since=utcnow())
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return result.rowcount


def holders(session: Session, call_sid: str) -> list[int]:
    """The consultants being offered or talking on `call_sid`."""
    return list(session.scalars(select(Staff.id).where(Staff.current_call_sid == call_sid)))


def finish(session: Session, call_sid: str, wrap_up_seconds: int) -> int:
    """The call ended: whoever was on it goes into wrap-up, then counts as available (and as
    idle from the end of wrap-up). Offers still ringing are released."""
    now = utcnow()
    until = now + timedelta(seconds=wrap_up_seconds)
    result = session.execute(
        update(Staff)
        .where(Staff.current_call_sid == call_sid, Staff.status == Status.busy.value)
        .values(status=Status.wrap_up.value, current_call_sid=None, status_since=now,
                wrap_up_until=until, idle_since=until)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return result.rowcount + release(session, call_sid)


def free_holders(session: Session, call_sid: str, wrap_up_seconds: int) -> list[tuple[int, datetime | None]]:
    """finish() in one statement, not committed: whoever was talking on the ended call goes into
    wrap-up for `wrap_up_seconds` (then counts as available, and idle from then), whoever was
    still being offered it is available again. Returns (staff id, end of wrap-up or None) of each
    consultant freed, as stored now (RETURNING: no read back)."""
    now = utcnow()
    rows = session.execute(_FREE_HOLDERS, {
        "holder_call": call_sid, "holder_now": now, "holder_until": now + timedelta(seconds=wrap_up_seconds),
    }).all()
    return [(staff_id, ends) for staff_id, ends in rows]


_TALKING = Staff.status == Status.busy.value
_UNTIL = bindparam("holder_until", type_=UTCDateTime)
# free_holders' UPDATE, built once (building it cost more than running it). Every SET expression
# reads the row as it was: _TALKING is the status before this change.
_FREE_HOLDERS = (
    update(Staff)
    .where(Staff.current_call_sid == bindparam("holder_call"),
           Staff.status.in_((Status.busy.value, Status.offered.value)))
    .values(status=case((_TALKING, Status.wrap_up.value), else_=Status.available.value),
            current_call_sid=None, status_since=bindparam("holder_now", type_=UTCDateTime),
            wrap_up_until=case((_TALKING, _UNTIL), else_=Staff.wrap_up_until),
            idle_since=case((_TALKING, _UNTIL), else_=Staff.idle_since))
    .returning(Staff.id, Staff.wrap_up_until)
    .execution_options(synchronize_session=False)
)


def set_status(session: Session, staff: Staff, status: str, *, idle_since: datetime | None = None) -> bool:
    """A status chosen by the consultant (or a supervisor), written only if the consultant still has
    the status and call read into `staff` (one compare-and-set, as every other change here): a
    reservation, an accept or the end of a call that landed since is kept, not wiped. Becoming
    available starts idle time; `idle_since` (aware, UTC) sets when it started instead (the demo's
    consultants, idle for different times). Returns whether the status was set; either way `staff`
    is re-read and holds what is stored now (the status that won, after a False); committed."""
    now = utcnow()
    seen_status, seen_call = staff.status, staff.current_call_sid
    values = {"status": status, "status_since": now, "wrap_up_until": None}
    if status == Status.available.value and effective_status(staff, now) != Status.available.value:
        values["idle_since"] = now
    if idle_since is not None:
        values["idle_since"] = idle_since
    if status in (Status.available.value, Status.break_.value, Status.offline.value):
        # Leaving a call's states ends any claim on the call; a ringing offer is then refused
        # by accept(), which requires "offered".
        values["current_call_sid"] = None
    changed = session.execute(
        update(Staff)
        .where(Staff.id == staff.id, Staff.status == seen_status,
               Staff.current_call_sid.is_not_distinct_from(seen_call))
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.commit()
    session.refresh(staff)
    return changed == 1


# Statuses in which a consultant holds no call: deactivating them takes them offline at once.
_IDLE = (Status.available.value, Status.break_.value, Status.wrap_up.value)


def sign_off(session: Session, staff_id: int, now: datetime) -> bool:
    """A consultant who was deactivated (hotline.accounts.deactivate) goes offline at `now` (aware,
    UTC) if they hold no call (available, on break or in wrap-up), in the caller's transaction (not
    committed). One on a call or being rung keeps it: accept() refuses a deactivated consultant's
    key, and the end of their call frees them. Returns whether they went offline."""
    return session.execute(
        update(Staff).where(Staff.id == staff_id, Staff.status.in_(_IDLE))
        .values(status=Status.offline.value, status_since=now, wrap_up_until=None, current_call_sid=None)
        .execution_options(synchronize_session=False)
    ).rowcount == 1
