"""What the API reads: query strings and JSON bodies, as marshmallow schemas. They validate each
request and write the OpenAPI document's parameters and request bodies."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from marshmallow import Schema, ValidationError, fields, pre_load, validate, validates_schema

from dashboards import callback_queries
from dashboards.api.fields import Day, StaffId, StrictBoolean, Text, TimeAhead, WholeNumber
from hotline.models import SETTABLE_STATUSES, CallbackState, ConsultationRecord

OUTCOME_LENGTH = ConsultationRecord.__table__.c.outcome.type.length
NOTES_LENGTH = 20000
MAX_REPORT_DAYS = 366
MAX_SERVICE_SECONDS = 86400  # a service-level target longer than a day means nothing
PAGE_SIZE, MAX_PAGE_SIZE, MAX_OFFSET = 100, 1000, 10**9


class Query(Schema):
    """A query string. A filter given empty (`?language=`) counts as not given; a number given
    empty is refused."""

    NUMBERS = frozenset({"limit", "offset", "within"})

    @pre_load
    def _empty_is_not_given(self, data: Any, **_kwargs: Any) -> dict:
        return {key: data[key] for key in data if data[key] != "" or key in self.NUMBERS}


class Page(Query):
    """One style of paging for every list: `limit` items (100 by default, at most 1000: more
    reads as 1000) after skipping `offset`."""

    limit = WholeNumber(load_default=PAGE_SIZE, clamp_to=MAX_PAGE_SIZE,
                        metadata={"description": f"at most {MAX_PAGE_SIZE}; more reads as {MAX_PAGE_SIZE}"})
    offset = WholeNumber(load_default=0, clamp_to=MAX_OFFSET)


class Days(Query):
    """from/to: inclusive days, each office's in its own time zone."""

    first = Day(data_key="from")
    last = Day(data_key="to")


class ConsultantQuery(Page):
    office = Text()


class RecordQuery(Page, Days):
    call_sid = Text()
    language = Text()
    topic = Text()
    office = Text()


class States(fields.String):
    """state=: comma-separated states, `open` (scheduled, due, in_progress) and `closed`
    (completed, unreachable, canceled) standing for theirs; loaded as a tuple of states."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> tuple[str, ...]:
        states: list[str] = []
        for name in super()._deserialize(value, attr, data, **kwargs).split(","):
            if name == "open":
                states += callback_queries.OPEN_STATES
            elif name == "closed":
                states += callback_queries.CLOSED_STATES
            elif name in callback_queries.STATES:
                states.append(name)
            else:
                raise ValidationError(f"must be open, closed or any of {', '.join(callback_queries.STATES)}, "
                                      "separated by commas")
        return tuple(dict.fromkeys(states))


class Assigned(fields.String):
    """assigned=: a staff id, `me`, or `none` (callbacks for anyone suitable)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str | int:
        value = super()._deserialize(value, attr, data, **kwargs)
        if value in ("me", "none"):
            return value
        if not value.isdecimal():
            raise ValidationError('must be a staff id, "me" or "none"')
        return WholeNumber()._deserialize(value, attr, data)


class CallbackQuery(Page, Days):
    state = States(metadata={"description": "states, open or closed, comma-separated; drafts only by name"})
    language = Text()
    topic = Text()
    office = Text()
    assigned = Assigned(metadata={"description": 'a staff id, "me" or "none"'})


class SummaryQuery(Query):
    language = Text()
    topic = Text()
    office = Text()


class ReportQuery(Days):
    within = WholeNumber(load_default=60, validate=validate.Range(min=1, max=MAX_SERVICE_SECONDS),
                         metadata={"description": "the service level's target, in seconds"})

    @validates_schema
    def _one_period(self, data: dict, **_kwargs: Any) -> None:
        first, last = data.get("first"), data.get("last")
        if first and last:
            check_period(first, last)


def check_period(first, last) -> None:
    """A report's days, first to last inclusive: in order and at most MAX_REPORT_DAYS."""
    if first > last:
        raise ValidationError("from must not be after to")
    if (last - first) >= timedelta(days=MAX_REPORT_DAYS):
        raise ValidationError(f"a report covers at most {MAX_REPORT_DAYS} days")


STATUS_CHOICE = f"status must be one of {', '.join(SETTABLE_STATUSES)}"


class StatusChange(Schema):
    error_messages = {"type": f"send a JSON object: {STATUS_CHOICE}"}
    status = fields.String(required=True, validate=validate.OneOf(SETTABLE_STATUSES, error=STATUS_CHOICE),
                           error_messages={"required": STATUS_CHOICE, "null": STATUS_CHOICE,
                                           "invalid": STATUS_CHOICE})


class WriteUp(Schema):
    """The consultant's write-up of a consultation: notes and/or outcome."""

    error_messages = {"type": "send a JSON object with notes and/or outcome"}
    notes = Text(max_length=NOTES_LENGTH)
    outcome = Text(max_length=OUTCOME_LENGTH)

    @validates_schema
    def _something(self, data: dict, **_kwargs: Any) -> None:
        if not data:
            raise ValidationError("send a JSON object with notes and/or outcome")


class UrgentMark(Schema):
    error_messages = {"type": 'send a JSON object with "urgent": true or false'}
    urgent = StrictBoolean(required=True)


class CallbackChange(Schema):
    """{"assigned_staff_id": id or null} and/or {"due_at": time}, or {"state": "canceled"} alone."""

    error_messages = {"type": 'send a JSON object with "assigned_staff_id" and/or "due_at", '
                              'or with "state": "canceled"'}
    assigned_staff_id = StaffId(allow_none=True, metadata={"description": "null: anyone suitable"})
    due_at = TimeAhead(metadata={"description": "future, within a year, with its UTC offset"})
    state = fields.String(validate=validate.OneOf([CallbackState.canceled.value]))

    @validates_schema
    def _one_change(self, data: dict, **_kwargs: Any) -> None:
        if not data:
            raise ValidationError(self.error_messages["type"])
        if "state" in data and len(data) > 1:
            raise ValidationError('"state" can only be "canceled", and alone')
