"""What a supervisor does to a callback from the board: give it to a consultant (or back to anyone
suitable), move it, cancel it. Each checks its input, acts through callbacks.schedule (as PATCH
/api/callbacks/<id> does) and journals the change on the call that asked for it, with the same
event kinds as the API."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from callbacks import schedule
from dashboards import callback_queries
from hotline.models import Callback, CallbackState

log = logging.getLogger(__name__)
MAX_RESCHEDULE = timedelta(days=365)  # as the API: further ahead than a year is a mistake


class Refused(ValueError):
    """The change was not made; the message says why, for the person who asked."""


def reassign(session: Session, callback_id: int, staff_id: int | None, by: int, now: datetime) -> None:
    """Give the callback to consultant `staff_id` (None: anyone suitable), by staff `by`.
    Raises Refused if the consultant may not take it or the callback cannot change now."""
    callback = _callback(session, callback_id)
    if staff_id is not None and not callback_queries.assignable(session, staff_id, callback.language_code):
        raise Refused(f"that consultant cannot take a callback in {callback.language_code}")
    session.expire_all()  # schedule.* read the callback afresh
    given = schedule.reassign(session, callback_id, staff_id, now)
    record_change(session, callback_id, given, "reassigned", by, now,
                  None if staff_id is None else str(staff_id))


def reschedule(session: Session, callback_id: int, due_at: datetime, by: int, now: datetime) -> datetime:
    """Move the callback to `due_at` (aware; the office's next opening if it is closed then), by
    staff `by`. Returns the new due time (UTC). Raises Refused for a time not in the coming year or
    a callback that cannot change now."""
    _callback(session, callback_id)
    if not now < due_at <= now + MAX_RESCHEDULE:
        raise Refused("the new time must be in the future, and within a year")
    session.expire_all()
    moved = schedule.reschedule(session, callback_id, due_at.astimezone(now.tzinfo), now)
    new_due = moved and session.get(Callback, callback_id).due_at
    record_change(session, callback_id, moved, "rescheduled", by, now, new_due and new_due.isoformat())
    return new_due


def cancel(session: Session, callback_id: int, by: int, now: datetime) -> None:
    """Cancel the callback, by staff `by`. Raises Refused if it is closed or being placed."""
    _callback(session, callback_id)
    record_change(session, callback_id, schedule.cancel(session, callback_id, now), "canceled", by, now)


def _callback(session: Session, callback_id: int) -> Callback:
    callback = session.get(Callback, callback_id)
    if callback is None:
        raise Refused(f"there is no callback {callback_id}")
    return callback


def record_change(session: Session, callback_id: int, done: bool, action: str, by: int, now: datetime,
                  detail: str | None = None) -> None:
    """Journal, on the call that asked for it, the change `action` (reassigned, rescheduled,
    canceled) that callbacks.schedule made (`done`) by staff `by` at `now` (UTC); or raise Refused,
    saying why, if schedule refused it. The board and PATCH /api/callbacks/<id> both record here."""
    if not done:
        session.expire_all()
        state = session.scalar(select(Callback.state).where(Callback.id == callback_id))
        why = {CallbackState.due.value: "a consultant is being rung for it",
               CallbackState.in_progress.value: "it is being placed"}.get(state, f"it is {state}")
        raise Refused(f"the callback cannot be {action} now: {why}")
    callback_queries.journal(session, callback_id, f"callback_{action}", by, now, detail)
    log.info("callback %d %s by staff %d", callback_id, action, by)  # ids only: nothing personal
