"""The windows a caller may choose for their callback, within their office's opening hours
(holidays included), and how a window is named in the caller's language.

"As soon as possible" runs from now (or the next opening, if the office is closed) to the end of
that opening period; then come the half-day windows that still lie ahead: mornings (opening until
[callbacks] morning_ends) and afternoons (morning_ends until closing), named "this afternoon",
"tomorrow morning" or "on Monday morning". The functions that offer windows are pure: they take the
office and the moment, so tests control the clock.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Iterator
from zoneinfo import ZoneInfo

from callbacks.rules import rules
from hotline import hours, runtime
from hotline.catalogue import Office
from hotline.models import Callback, utcnow

MAX_OPTIONS = 4  # windows offered, "as soon as possible" included: more is too much to listen to
# Half-day windows lie within a week, so that "on Monday" can only mean the coming Monday.
HORIZON_DAYS = 6
# In the last minutes before closing nobody could call back in time: "as soon as possible" is then
# the next opening period.
LAST_MINUTES = timedelta(minutes=15)
# A half-day window shorter than this (an office opening at 12:45 with mornings ending at 13:00) is
# not worth offering.
SHORTEST_HALF_DAY = timedelta(minutes=30)
KINDS = ("asap", "today_morning", "today_afternoon", "tomorrow_morning", "tomorrow_afternoon",
         "on_morning", "on_afternoon")  # each named by the prompt "window_<kind>"


@dataclass(frozen=True)
class Window:
    kind: str  # one of KINDS
    start: datetime  # aware, in the office's time zone
    end: datetime


def offered_windows(office: Office, now: datetime, morning_ends: time,
                    limit: int = MAX_OPTIONS) -> list[Window]:
    """The windows to offer a caller of `office` at `now`, "as soon as possible" first; [] if the
    office does not open within hours.next_opening's horizon."""
    local_now = now.astimezone(ZoneInfo(office.timezone))
    asap = _as_soon_as_possible(office, local_now)
    if asap is None:
        return []
    options = [asap]
    until = datetime.combine(local_now.date() + timedelta(days=HORIZON_DAYS + 1), time.min, local_now.tzinfo)
    for (day, half), (start, end) in _half_days(list(_periods(office, local_now, until)), morning_ends):
        if len(options) >= limit:
            break
        if start > local_now and end - start >= SHORTEST_HALF_DAY:
            options.append(Window(_kind((day - local_now.date()).days, half), start, end))
    return options


def _as_soon_as_possible(office: Office, local_now: datetime) -> Window | None:
    """From now to closing; or the next opening period if the office is closed or about to close."""
    start = local_now if hours.is_open(office, local_now) else hours.next_opening(office, local_now)
    end = hours.closes_at(office, start) if start else None
    if end is not None and end - start < LAST_MINUTES:
        start = hours.next_opening(office, end)
        end = hours.closes_at(office, start) if start else None
    return Window("asap", start, end) if start and end else None


def _periods(office: Office, at: datetime, until: datetime) -> Iterator[tuple[datetime, datetime]]:
    """The office's opening periods from `at` (the current one from `at` itself) that start
    before `until`, as (start, end) in local time."""
    start = at if hours.is_open(office, at) else hours.next_opening(office, at)
    while start is not None and start < until:
        end = hours.closes_at(office, start)
        if end is None:
            return
        yield start, end
        start = hours.next_opening(office, end)


def _half_days(periods: list[tuple[datetime, datetime]], morning_ends: time
               ) -> list[tuple[tuple[date, str], tuple[datetime, datetime]]]:
    """The periods cut at midnight and at morning_ends: ((day, "morning"|"afternoon"), (start,
    end)), pieces of the same half-day (an office closed over lunch) joined, in time order."""
    pieces: dict[tuple[date, str], tuple[datetime, datetime]] = {}
    for start, end in periods:
        day = start.date()
        while day <= end.date():
            midnight = datetime.combine(day, time.min, start.tzinfo)
            noon = datetime.combine(day, morning_ends, start.tzinfo)
            day_start, day_end = max(start, midnight), min(end, midnight + timedelta(days=1))
            for half, lo, hi in (("morning", day_start, min(day_end, noon)),
                                 ("afternoon", max(day_start, noon), day_end)):
                if lo < hi:
                    earlier = pieces.get((day, half))
                    pieces[(day, half)] = (earlier[0], hi) if earlier else (lo, hi)
            day += timedelta(days=1)
    return sorted(pieces.items(), key=lambda item: item[1][0])


def _kind(days_ahead: int, half: str) -> str:
    if days_ahead == 0:
        return f"today_{half}"
    if days_ahead == 1:
        return f"tomorrow_{half}"
    return f"on_{half}"


# -- naming a window ---------------------------------------------------------------------------

def phrase(lang: str, window: Window) -> str:
    """The window as the caller hears it after "we will call you back": "tomorrow morning"."""
    catalogue = runtime.catalogue()
    if window.kind.startswith("on_"):
        weekday = catalogue.weekday(lang, window.start.date())
        return catalogue.prompt(lang, f"window_{window.kind}", weekday=weekday)
    return catalogue.prompt(lang, f"window_{window.kind}")


def kind_of(office: Office, start: datetime, end: datetime, now: datetime, morning_ends: time) -> str:
    """What a booked window is, seen at `now`: one that has begun, or that spans the end of the
    morning (only "as soon as possible" does), is "asap"; otherwise the half-day it lies in."""
    zone = ZoneInfo(office.timezone)
    start, end, local_now = start.astimezone(zone), end.astimezone(zone), now.astimezone(zone)
    noon = datetime.combine(start.date(), morning_ends, zone)
    days_ahead = (start.date() - local_now.date()).days
    if start <= local_now or start < noon < end or days_ahead > HORIZON_DAYS:
        return "asap"
    return _kind(days_ahead, "morning" if end <= noon else "afternoon")


def window_phrase(lang: str, callback: Callback, now: datetime | None = None) -> str:
    """The booked callback's window in `lang`, for the SMS that confirms it ("we will call you
    back {window}"), seen from `now` (default: the present moment)."""
    office = runtime.catalogue().office(callback.office_code)
    if office is None:
        return runtime.catalogue().prompt(lang, "window_asap")
    kind = kind_of(office, callback.window_start, callback.window_end, now or utcnow(), rules().morning_ends)
    zone = ZoneInfo(office.timezone)
    start, end = callback.window_start.astimezone(zone), callback.window_end.astimezone(zone)
    return phrase(lang, Window(kind, start, end))
