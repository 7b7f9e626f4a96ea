"""Opening hours: is an office open now, when does it close, when does it open next.

Hours are wall-clock times in the office's time zone; public holidays (the `holidays` package,
Bulgarian by default, Orthodox Easter included) close the office all day.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays as holiday_calendars

from hotline.catalogue import WEEKDAY_KEYS, Office


@lru_cache(maxsize=64)
def _holidays(country: str, year: int) -> holiday_calendars.HolidayBase:
    return holiday_calendars.country_holidays(country, years=year)


def is_holiday(office: Office, day: date) -> bool:
    return bool(office.holidays) and day in _holidays(office.holidays, day.year)


def _time(text: str) -> time:
    return time.max if text == "24:00" else time.fromisoformat(text)


def _spans(office: Office, day: date) -> list[tuple[datetime, datetime]]:
    """The opening spans of `day`, as aware datetimes in the office's zone."""
    if is_holiday(office, day):
        return []
    zone = ZoneInfo(office.timezone)
    return [
        (datetime.combine(day, _time(start), zone), datetime.combine(day, _time(end), zone))
        for start, end in office.hours[WEEKDAY_KEYS[day.weekday()]]
    ]


def _local(office: Office, at: datetime) -> datetime:
    return at.astimezone(ZoneInfo(office.timezone))


def is_open(office: Office, at: datetime) -> bool:
    local = _local(office, at)
    return any(start <= local < end for start, end in _spans(office, local.date()))


def closes_at(office: Office, at: datetime, horizon_days: int = 8) -> datetime | None:
    """When the current opening period ends (local time), or None if closed at `at`.

    Spans that meet at midnight (24:00 then 00:00) are one period; a period that runs past the
    horizon (an office open around the clock) ends at the horizon.
    """
    local = _local(office, at)
    end = next((end for start, end in _spans(office, local.date()) if start <= local < end), None)
    if end is None:
        return None
    for offset in range(1, horizon_days + 1):
        if end.time() != time.max:
            return end
        following = _spans(office, local.date() + timedelta(days=offset))
        if not following or following[0][0].time() != time.min:
            return end
        end = following[0][1]
    return end


def next_opening(office: Office, at: datetime, horizon_days: int = 30) -> datetime | None:
    """The next moment after `at` the office opens (local time); None if not within the horizon."""
    local = _local(office, at)
    for offset in range(horizon_days + 1):
        for start, _ in _spans(office, local.date() + timedelta(days=offset)):
            if start > local:
                return start
    return None
