"""Reporting days: an office's day runs from midnight to midnight in its own time zone (the
configuration's offices.<code>.timezone), so "today" or "March 10th" covers different instants for
offices in different zones. Rows of an office no longer configured count in the default office's
zone (the first configured office)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, or_, true

from hotline.catalogue import Catalogue


def zone_of(catalogue: Catalogue, office: str | None) -> ZoneInfo:
    """The time zone of office `office` (a code); the default office's for None or an unknown code."""
    found = catalogue.office(office) if office else None
    return ZoneInfo((found or catalogue.offices[0]).timezone)


def today(catalogue: Catalogue, now: datetime, office: str | None = None) -> date:
    """The date `now` (aware) falls on in `office`'s time zone (see zone_of)."""
    return now.astimezone(zone_of(catalogue, office)).date()


def day_start(day: date, zone: ZoneInfo) -> datetime:
    """Midnight at the start of `day` in `zone` (aware)."""
    return datetime.combine(day, time.min, zone)


@dataclass(frozen=True)
class Span:
    """[start, end) for the offices `offices` (codes); `others`: also for offices not configured.
    A bound of None is open."""
    offices: tuple[str, ...]
    others: bool
    start: datetime | None
    end: datetime | None


@dataclass(frozen=True)
class Period:
    """A period of days, as instants per time zone: one Span per zone the offices keep."""
    spans: tuple[Span, ...]

    def contains(self, moment: ColumnElement, office: ColumnElement) -> ColumnElement[bool]:
        """SQL: `moment` (a timestamp column) lies in the period of the row's `office` (a code column)."""
        if len(self.spans) == 1:
            return _within(moment, self.spans[0])
        configured = [code for span in self.spans for code in span.offices]
        return or_(*(and_(_of_offices(office, span, configured), _within(moment, span))
                     for span in self.spans))


def _within(moment: ColumnElement, span: Span) -> ColumnElement[bool]:
    bounds = ([moment >= span.start] if span.start else []) + ([moment < span.end] if span.end else [])
    return and_(*bounds) if bounds else true()


def _of_offices(office: ColumnElement, span: Span, configured: list[str]) -> ColumnElement[bool]:
    if not span.others:
        return office.in_(span.offices)
    return or_(office.in_(span.offices), office.is_(None), office.not_in(configured))


def local_days(catalogue: Catalogue, first: date | None, last: date | None) -> Period:
    """The days `first` to `last` inclusive, each office's in its own zone; None: no bound."""
    return Period(tuple(
        Span(codes, others, first and day_start(first, zone),
             last and day_start(last + timedelta(days=1), zone))
        for zone, codes, others in _zones(catalogue)))


def todays(catalogue: Catalogue, now: datetime, first: date | None = None) -> Period:
    """From `first` (default: the same day) to today, each office's today in its own zone: the
    date `now` (aware) falls on there."""
    spans = []
    for zone, codes, others in _zones(catalogue):
        day = now.astimezone(zone).date()
        spans.append(Span(codes, others, day_start(first or day, zone),
                          day_start(day + timedelta(days=1), zone)))
    return Period(tuple(spans))


def _zones(catalogue: Catalogue) -> list[tuple[ZoneInfo, tuple[str, ...], bool]]:
    """Each time zone the offices keep, with their codes; the default office's zone first, and
    marked as the one that also takes offices not configured."""
    grouped: dict[str, list[str]] = {}
    for office in catalogue.offices:
        grouped.setdefault(office.timezone, []).append(office.code)
    default = catalogue.offices[0].timezone
    return [(ZoneInfo(name), tuple(codes), name == default) for name, codes in grouped.items()]
