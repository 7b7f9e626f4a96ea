"""What the API answers about callbacks: one callback with its attempts, the list with its counts,
the backlog summary, and one callback's details (the call that reached the caller, its record)."""
from __future__ import annotations

from marshmallow import Schema, fields

from dashboards.api.access import may_see_personal
from dashboards.api.fields import Moment, Personal
from dashboards.api.schemas import Consultation, Counts

Str, Int = fields.String, fields.Integer


def _of_callback(field: type[fields.Field], name: str, **kwargs) -> fields.Field:
    return field(attribute=f"callback.{name}", **kwargs)


class Attempt(Schema):
    number = Int()
    staff_id = Int(allow_none=True)
    started_at = Moment()
    ended_at = Moment(allow_none=True)
    outcome = Str(allow_none=True)


class Callback(Schema):
    """A callback (dashboards.api.callbacks.Shown). The number to call: supervisors, admins and the
    consultant it is assigned to; null for everyone else. `attempts` counts the attempts that rang
    the caller; `attempt_history` lists every attempt, a consultant who did not answer included."""

    id = _of_callback(Int, "id")
    call_id = _of_callback(Int, "call_id")
    call_sid = Str()
    language = _of_callback(Str, "language_code")
    topic = _of_callback(Str, "topic_code")
    office = _of_callback(Str, "office_code")
    state = _of_callback(Str, "state")
    attempts = _of_callback(Int, "attempts")
    due_at = _of_callback(Moment, "due_at")
    window_start = _of_callback(Moment, "window_start")
    window_end = _of_callback(Moment, "window_end")
    first_rang_at = _of_callback(Moment, "first_rang_at")
    created_at = _of_callback(Moment, "created_at")
    closed_at = _of_callback(Moment, "closed_at", allow_none=True)
    assigned_staff_id = _of_callback(Int, "assigned_staff_id", allow_none=True)
    number = Personal("callback.assigned_staff_id", may_see_personal, null_when_hidden=True,
                      attribute="callback.number")
    attempt_history = fields.List(fields.Nested(Attempt), attribute="callback.attempt_rows")


class Callbacks(Schema):
    callbacks = fields.List(fields.Nested(Callback))
    total = Int(metadata={"description": "callbacks matching the filters, on every page"})
    counts = fields.Dict(keys=Str(), values=Int(),
                         metadata={"description": "by state, under every filter but the state"})


class ReturnCall(Schema):
    id = Int()
    call_sid = Str()
    original_call_id = Int(allow_none=True)
    consultant_id = Int(allow_none=True)
    outcome = Str(allow_none=True)
    started_at = Moment()
    answered_at = Moment(allow_none=True)
    ended_at = Moment(allow_none=True)
    duration_seconds = Int(allow_none=True)


class CallbackDetail(Callback):
    """The callback, the call that reached the caller (linked to the original by original_call_id)
    and that call's consultation record."""

    return_call = fields.Nested(ReturnCall, allow_none=True)
    consultation = fields.Nested(Consultation, allow_none=True, attribute="record")


class CallbackSummary(Schema):
    open = Counts
    open_total = Int()
    overdue = Int()
    oldest_overdue_due_at = Moment(allow_none=True)
    completed_today = Int()
    unreachable_today = Int()
    canceled_today = Int()
    day = Str(metadata={"format": "date"})
    time_zone = Str()
    time_zones = fields.Dict(keys=Str(), values=Str())
