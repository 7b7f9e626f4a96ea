"""The API's own marshmallow fields: what a query string or JSON body may hold (whole numbers,
days, NUL-free text, strict booleans and ids, a time ahead) and how personal data is left out of
an answer. Each refuses with a marshmallow ValidationError, which the API answers as a 400."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from marshmallow import ValidationError, fields, missing, utils, validate

from hotline.clock import utcnow

MAX_ID = 2**31 - 1  # ids are 32-bit INTEGER columns: a larger one is simply not there
# Dates the API accepts: beyond them a day's bounds fall outside what datetime can hold.
FIRST_DATE, LAST_DATE = date(1900, 1, 1), date(9998, 12, 31)
MAX_RESCHEDULE = timedelta(days=365)  # a callback moved further ahead than a year is a mistake
DUE_AT_FORMAT = "an ISO-8601 time with its UTC offset, like 2026-11-25T10:00:00+02:00"
NO_NUL = validate.Regexp(r"^[^\x00]*$", error="must not hold a NUL character")


class Text(fields.String):
    """Text without NUL (PostgreSQL refuses it in a text parameter), at most `max_length`
    characters when given."""

    def __init__(self, *, max_length: int | None = None, **kwargs: Any) -> None:
        checks = [NO_NUL] + ([validate.Length(max=max_length)] if max_length else [])
        super().__init__(validate=checks, **kwargs)


class WholeNumber(fields.Integer):
    """A whole number from the query string: decimal digits only ('²', '+5', '1_0', '1.5' and '-1'
    are refused). Above `clamp_to` it reads as `clamp_to`; a number longer than int() reads
    (4,300 digits) is simply huge."""

    def __init__(self, *, clamp_to: int | None = None, **kwargs: Any) -> None:
        self.clamp_to = clamp_to
        super().__init__(**kwargs)
        self.metadata.setdefault("minimum", 0)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if not isinstance(value, str) or not value.isdecimal():
            raise ValidationError("must be a whole number")
        digits = value.lstrip("0") or "0"
        number = int(digits) if len(digits) <= 18 else 10**18
        return number if self.clamp_to is None else min(number, self.clamp_to)


class Day(fields.Date):
    """A day like 2026-11-25 (ISO 8601, as date.fromisoformat reads it), 1900-01-01 to 9998-12-31."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> date:
        try:
            day = date.fromisoformat(value)
        except (TypeError, ValueError):
            raise ValidationError("must be a date like 2026-11-25") from None
        if not FIRST_DATE <= day <= LAST_DATE:
            raise ValidationError(f"must be between {FIRST_DATE} and {LAST_DATE}")
        return day


class StrictBoolean(fields.Boolean):
    """true or false in JSON: not 1, "true" or null."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise ValidationError("must be true or false")
        return value


class StaffId(fields.Integer):
    """A staff id in a JSON body: a JSON integer from 1 to 2**31 - 1 (not true, 5.0 or "5")."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(strict=True, validate=validate.Range(min=1, max=MAX_ID), **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool):
            raise ValidationError("must be a staff id")
        return super()._deserialize(value, attr, data, **kwargs)


class TimeAhead(fields.DateTime):
    """A time with its UTC offset, after now and at most a year ahead (hotline.clock.utcnow);
    loaded as an aware datetime in UTC."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        try:
            at = datetime.fromisoformat(value)
        except (TypeError, ValueError):
            raise ValidationError(f"must be {DUE_AT_FORMAT}") from None
        if at.utcoffset() is None:
            raise ValidationError(f"must be {DUE_AT_FORMAT}: the offset is missing")
        now = utcnow()
        if not now < at <= now + MAX_RESCHEDULE:  # compared before converting: the extremes overflow
            raise ValidationError("must be in the future, and within a year")
        return at.astimezone(now.tzinfo)


class Moment(fields.DateTime):
    """An answer's time: an aware datetime written as ISO 8601 with its offset (a string already
    written so passes as it is)."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is None or isinstance(value, str):
            return value
        return value.isoformat()


class Personal(fields.String):
    """Personal data (a number, notes, a phone): written only when `may_see(owner id)` says the
    person asking may see it, the owner id read at `owner` (a dotted attribute path); otherwise
    left out, or null when `null_when_hidden`."""

    def __init__(self, owner: str, may_see: Callable[[int | None], bool], *, null_when_hidden: bool = False,
                 **kwargs: Any) -> None:
        self.owner, self.may_see, self.null_when_hidden = owner, may_see, null_when_hidden
        super().__init__(allow_none=True, **kwargs)

    def serialize(self, attr: str, obj: Any, accessor: Any = None, **kwargs: Any) -> Any:
        if not self.may_see(utils.get_value(obj, self.owner)):
            return None if self.null_when_hidden else missing
        return super().serialize(attr, obj, accessor, **kwargs)


def derived(getter: Callable[[Any], Any], type_: str, *, nullable: bool = False) -> fields.Function:
    """A field of an answer computed from the object by `getter`, documented as `type_`."""
    return fields.Function(getter, metadata={"type": type_, **({"nullable": True} if nullable else {})})
