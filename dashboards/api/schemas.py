"""What the API answers, as marshmallow schemas: they write each answer and the OpenAPI
document's responses. Personal data goes through fields.Personal (access.may_see_personal)."""
from __future__ import annotations

from marshmallow import Schema, fields

import routing
from dashboards.api.access import may_see_personal
from dashboards.api.fields import Moment, Personal, derived
from hotline import runtime

Str, Int, Float = fields.String, fields.Integer, fields.Float
Counts = fields.Dict(keys=Str(), values=Int())


def _optional(field: type[fields.Field], **kwargs) -> fields.Field:
    return field(allow_none=True, **kwargs)


class Consultant(Schema):
    id = Int()
    name = Str()
    office = Str(attribute="office_code")
    languages = fields.List(Str())
    topics = fields.List(Str())
    status = derived(routing.effective_status, "string")
    status_since = Moment()
    phone = Personal("id", may_see_personal)


class Consultants(Schema):
    consultants = fields.List(fields.Nested(Consultant))


class CallEvent(Schema):
    at = Moment()
    kind = Str()
    detail = _optional(Str)
    consultant_id = _optional(Int)


class Call(Schema):
    call_sid = Str()
    office = Str(attribute="office_code")
    language = _optional(Str, attribute="language_code")
    topic = _optional(Str, attribute="topic_code")
    stage = Str()
    outcome = _optional(Str)
    consultant_id = _optional(Int)
    started_at = Moment()
    answered_at = _optional(Moment)
    ended_at = _optional(Moment)
    duration_seconds = _optional(Int)
    events = fields.List(fields.Nested(CallEvent))
    caller_number = Personal("consultant_id", may_see_personal)


class Consultation(Schema):
    id = Int()
    call_sid = derived(lambda record: record.call.call_sid if record.call else None, "string", nullable=True)
    channel = Str()
    language = _optional(Str, attribute="language_code")
    topic = _optional(Str, attribute="topic_code")
    office = Str(attribute="office_code")
    consultant_id = _optional(Int)
    outcome = _optional(Str)
    duration_seconds = _optional(Int)
    started_at = Moment()
    completed_at = _optional(Moment)
    # A callback's call: the call on which the caller asked for it.
    original_call_id = derived(lambda record: record.call.original_call_id if record.call else None,
                               "integer", nullable=True)
    notes = Personal("consultant_id", may_see_personal)


class Consultations(Schema):
    consultations = fields.List(fields.Nested(Consultation))


class QueueFigures(Schema):
    language = Str()
    topic = Str()
    waiting = Int()
    offered = Int()
    longest_wait_seconds = Int()
    available_consultants = Int()


class QueueSummary(Schema):
    waiting = Int()
    offered = Int()
    longest_wait_seconds = _optional(Int)
    consultants = Counts


class LiveQueues(Schema):
    queues = fields.List(fields.Nested(QueueFigures))
    summary = fields.Nested(QueueSummary)


class QueueEntry(Schema):
    id = Int()
    call_sid = Str()
    language = Str(attribute="language_code")
    topic = Str(attribute="topic_code")
    office = Str(attribute="office_code")
    state = Str()
    urgent = fields.Boolean()
    entered_at = Moment()
    position = derived(lambda entry: routing.position(runtime.session(), entry), "integer")


class WaitingCaller(Schema):
    """One caller in a queue (dashboards.queries.callers_in_queues); no number."""

    id = Int()
    call_sid = Str()
    language = Str()
    topic = Str()
    office = Str()
    state = Str()
    urgent = fields.Boolean()
    position = Int()
    entered_at = Moment()
    waited_seconds = Int()
    widened = fields.Boolean()
    accepts_languages = fields.List(Str())
    offered_consultant_id = _optional(Int)


class WaitingCallers(Schema):
    entries = fields.List(fields.Nested(WaitingCaller))


class Figures(Schema):
    entered = Int()
    bridged = Int()
    abandoned = Int()
    left = Int()
    in_queue = Int()
    bridged_within = Int()
    service_level = _optional(Float)
    average_wait_seconds = _optional(Float)
    longest_wait_seconds = _optional(Float)
    abandoned_after_seconds = _optional(Float)


class QueueStatistics(Figures):
    language = Str()
    topic = Str()


class QueueReport(Schema):
    first = Str(data_key="from", metadata={"format": "date"})
    last = Str(data_key="to", metadata={"format": "date"})
    within_seconds = Int()
    time_zone = Str()
    time_zones = fields.Dict(keys=Str(), values=Str())
    queues = fields.List(fields.Nested(QueueStatistics))
    totals = fields.Nested(Figures)
    funnel = Counts
    abandoned_by_stage = Counts
