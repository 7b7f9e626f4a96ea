"""Callbacks for staff: GET /api/callbacks (the list and its counts), GET /api/callbacks/summary
(the backlog), GET /api/callbacks/<id> (one, with the call that reached the caller and its
record) and PATCH /api/callbacks/<id> (supervisors reassign, reschedule, cancel)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session
from werkzeug.exceptions import BadRequest, Conflict, NotFound

from callbacks import schedule
from dashboards import callback_actions, callback_queries
from dashboards.api import access, callback_schemas, params
from dashboards.api.core import blueprint
from dashboards.api.fields import MAX_ID
from dashboards.api.queues import time_zones
from dashboards.api.records import period_of
from hotline import permissions, runtime
from hotline.clock import utcnow
from hotline.models import Call, Callback, ConsultationRecord


@dataclass(frozen=True)
class Shown:
    """One callback as the API shows it (callback_schemas.Callback, CallbackDetail)."""

    callback: Callback
    call_sid: str  # of the call on which the caller asked for it
    return_call: Call | None = None
    record: ConsultationRecord | None = None


def _assigned_filter(assigned: str | int | None) -> dict:
    if assigned is None:
        return {}
    if assigned == "none":
        return {"unassigned": True}
    if assigned == "me":
        return {"assigned_staff_id": access.me().id}
    # Beyond the column's range: nobody's (ids start at 1, so 0 matches none).
    return {"assigned_staff_id": assigned if assigned <= MAX_ID else 0}


@blueprint.route("/callbacks", methods=["GET"])
@blueprint.arguments(params.CallbackQuery, location="query")
@blueprint.response(200, callback_schemas.Callbacks)
def list_callbacks(query: dict):
    """Callbacks, for any staff member: only open states asked for, soonest due first; otherwise
    latest due first. With the total matching and, under the same filters but the state, the
    count of each state. Drafts (bookings not finished) only when asked for by name."""
    flt = callback_queries.CallbackFilter(
        states=query.get("state"), language=query.get("language"), topic=query.get("topic"),
        office=query.get("office"), **_assigned_filter(query.get("assigned")), due_days=period_of(query),
        limit=query["limit"], offset=query["offset"],
    )
    session = runtime.session()
    rows = callback_queries.callbacks(session, flt)
    return {"callbacks": [Shown(callback, call_sid) for callback, call_sid in rows],
            "total": callback_queries.count(session, flt),
            "counts": callback_queries.counts_by_state(session, flt)}


@blueprint.route("/callbacks/summary", methods=["GET"])
@blueprint.arguments(params.SummaryQuery, location="query")
@blueprint.response(200, callback_schemas.CallbackSummary)
def callback_summary(query: dict):
    """The backlog, for any staff member (no personal data): open by state, overdue, and closed
    today (the centres' day) by outcome; optionally for one language, topic or office."""
    summary = callback_queries.summary(runtime.session(), runtime.catalogue(), utcnow(), **query)
    return {**summary, "time_zones": time_zones()}


def _detail(session: Session, callback_id: int) -> Shown:
    """One callback with its details; 404 if there is none (an id beyond the column: none)."""
    detail = callback_queries.callback_detail(session, callback_id) if callback_id <= MAX_ID else None
    if detail is None:
        raise NotFound(f"no callback {callback_id}")
    return Shown(detail.callback, detail.call.call_sid, detail.return_call, detail.record)


# With a GET and a PATCH rule on one path, werkzeug answers 405 when a converter refuses the id:
# so no max= here, and an id beyond the column is simply not found (_detail).
@blueprint.route("/callbacks/<int:callback_id>", methods=["GET"])
@blueprint.response(200, callback_schemas.CallbackDetail)
def get_callback(callback_id: int):
    """One callback, its original call, the call that reached the caller and its record."""
    return _detail(runtime.session(), callback_id)


def _callback_changed(session: Session, callback_id: int, done: bool, action: str, now: datetime,
                      detail: str | None = None) -> None:
    """Journal a change schedule.* made (callback_actions.record_change); 409 if it refused it."""
    try:
        callback_actions.record_change(session, callback_id, done, action, access.me().id, now, detail)
    except callback_actions.Refused as refused:
        raise Conflict(str(refused)) from None


def _check_assignee(session: Session, callback: Callback, staff_id: int | None) -> None:
    if staff_id is not None and not callback_queries.assignable(session, staff_id, callback.language_code):
        raise BadRequest(f"staff {staff_id} is not an active consultant with a phone and the language "
                         f"{callback.language_code}")


@blueprint.route("/callbacks/<int:callback_id>", methods=["PATCH"])
@access.only(permissions.CHANGE_CALLBACKS, "change callbacks")
@blueprint.arguments(params.CallbackChange)
@blueprint.response(200, callback_schemas.CallbackDetail)
def change_callback(change: dict, callback_id: int):
    """Supervisors: {"assigned_staff_id": id or null} gives it to one consultant (or to anyone
    suitable); {"due_at": "...+02:00"} moves it (to the office's next opening if closed then);
    both at once: moved, then given. {"state": "canceled"}, alone, cancels it. Everything is
    checked before anything changes; 409 if the callback is closed or being placed."""
    session = runtime.session()
    callback = _detail(session, callback_id).callback
    now = utcnow()
    if "state" in change:
        _callback_changed(session, callback_id, schedule.cancel(session, callback_id, now), "canceled", now)
        session.expire_all()
        return _detail(session, callback_id)
    if "assigned_staff_id" in change:
        _check_assignee(session, callback, change["assigned_staff_id"])
    session.expire_all()  # schedule.* read the callback afresh
    if "due_at" in change:
        moved = schedule.reschedule(session, callback_id, change["due_at"], now)
        _callback_changed(session, callback_id, moved, "rescheduled", now,
                          moved and session.get(Callback, callback_id).due_at.isoformat())
    if "assigned_staff_id" in change:
        assignee = change["assigned_staff_id"]
        given = schedule.reassign(session, callback_id, assignee, now)
        _callback_changed(session, callback_id, given, "reassigned", now,
                          None if assignee is None else str(assignee))
    session.expire_all()
    return _detail(session, callback_id)
