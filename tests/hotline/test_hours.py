"""Opening hours of the packaged offices: Bulgarian holidays, next opening across DST, closing time."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from hotline.catalogue import load_catalogue
from hotline.hours import closes_at, is_holiday, is_open, next_opening

SOFIA_TZ = ZoneInfo("Europe/Sofia")
# The packaged defaults: Sofia Mon-Fri 09:00-17:30; Burgas Mon-Thu 09:00-17:00, Fri 09:00-13:00.
CATALOGUE = load_catalogue()
SOFIA = CATALOGUE.office("sofia")
BURGAS = CATALOGUE.office("burgas")

HOLIDAYS_2026 = [
    date(2026, 1, 1), date(2026, 1, 2), date(2026, 3, 3),
    date(2026, 4, 10), date(2026, 4, 11), date(2026, 4, 12), date(2026, 4, 13),  # Orthodox Easter
    date(2026, 5, 1), date(2026, 5, 6), date(2026, 5, 24), date(2026, 5, 25),
    date(2026, 9, 6), date(2026, 9, 7),  # Sep 6 is a Sunday: Monday Sep 7 is off instead
    date(2026, 9, 22), date(2026, 12, 24), date(2026, 12, 25), date(2026, 12, 26), date(2026, 12, 28),
]


def local(*args) -> datetime:
    return datetime(*args, tzinfo=SOFIA_TZ)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


@pytest.mark.parametrize("day", HOLIDAYS_2026, ids=str)
def test_bulgarian_holidays_2026_are_closed_all_day(day):
    assert is_holiday(SOFIA, day)
    for hour in range(24):
        assert not is_open(SOFIA, datetime(day.year, day.month, day.day, hour, 30, tzinfo=SOFIA_TZ))


def test_only_those_days_are_holidays_in_2026():
    days = [date(2026, 1, 1) + timedelta(days=i) for i in range(365)]
    assert [day for day in days if is_holiday(SOFIA, day)] == HOLIDAYS_2026


def test_orthodox_easter_2027_is_a_holiday():
    assert is_holiday(SOFIA, date(2027, 5, 2)) and is_holiday(SOFIA, date(2027, 5, 3))
    assert not is_holiday(SOFIA, date(2027, 3, 29))  # Western Easter Monday 2027


def test_ordinary_weekday_opens_and_closes_at_the_configured_times():
    assert not is_open(SOFIA, local(2026, 11, 25, 8, 59, 59))
    assert is_open(SOFIA, local(2026, 11, 25, 9, 0))
    assert is_open(SOFIA, local(2026, 11, 25, 17, 29, 59))
    assert not is_open(SOFIA, local(2026, 11, 25, 17, 30))
    assert not is_open(SOFIA, local(2026, 11, 28, 12, 0))  # Saturday
    assert is_open(BURGAS, local(2026, 11, 27, 12, 59)) and not is_open(BURGAS, local(2026, 11, 27, 13, 0))


def test_is_open_reads_the_instant_in_the_office_zone():
    # 06:30 UTC is 08:30 in Sofia in winter (closed) and 09:30 in summer (open).
    assert not is_open(SOFIA, utc(2026, 11, 25, 6, 30))
    assert is_open(SOFIA, utc(2026, 6, 24, 6, 30))


def test_next_opening_skips_the_easter_weekend():
    # Thursday evening before Good Friday: closed Fri-Mon, open again Tuesday.
    opening = next_opening(SOFIA, local(2026, 4, 9, 18, 0))
    assert opening == local(2026, 4, 14, 9, 0)
    assert opening.utcoffset() == timedelta(hours=3)


def test_next_opening_skips_the_christmas_holidays():
    # Wednesday Dec 23 evening: Dec 24-26 holidays, Dec 27 Sunday, Dec 28 observed.
    assert next_opening(SOFIA, local(2026, 12, 23, 17, 30)) == local(2026, 12, 29, 9, 0)


def test_next_opening_skips_unification_day_monday():
    assert next_opening(SOFIA, local(2026, 9, 4, 18, 0)) == local(2026, 9, 8, 9, 0)


def test_next_opening_across_spring_forward():
    # Clocks go forward on Sunday 2026-03-29: Friday opens 09:00 EET, Monday 09:00 EEST.
    assert next_opening(SOFIA, utc(2026, 3, 27, 5, 0)) == utc(2026, 3, 27, 7, 0)
    opening = next_opening(SOFIA, utc(2026, 3, 27, 16, 0))
    assert opening == utc(2026, 3, 30, 6, 0)
    assert (opening.hour, opening.minute, opening.utcoffset()) == (9, 0, timedelta(hours=3))
    # Asked in the missing hour itself (03:30 local does not exist; 01:30 UTC is 04:30 EEST).
    assert next_opening(SOFIA, utc(2026, 3, 29, 1, 30)) == utc(2026, 3, 30, 6, 0)


def test_next_opening_across_fall_back():
    # Clocks go back on Sunday 2026-10-25: Friday opens 09:00 EEST, Monday 09:00 EET.
    opening = next_opening(SOFIA, utc(2026, 10, 23, 15, 0))
    assert opening == utc(2026, 10, 26, 7, 0)
    assert (opening.hour, opening.minute, opening.utcoffset()) == (9, 0, timedelta(hours=2))
    # Asked in the repeated hour (03:30 local, both times).
    assert next_opening(SOFIA, utc(2026, 10, 25, 0, 30)) == utc(2026, 10, 26, 7, 0)
    assert next_opening(SOFIA, utc(2026, 10, 25, 1, 30)) == utc(2026, 10, 26, 7, 0)


def test_next_opening_same_day_before_opening_and_none_beyond_the_horizon():
    assert next_opening(SOFIA, local(2026, 11, 25, 7, 0)) == local(2026, 11, 25, 9, 0)
    # Open now: the next opening is tomorrow's.
    assert next_opening(SOFIA, local(2026, 11, 25, 10, 0)) == local(2026, 11, 26, 9, 0)
    assert next_opening(SOFIA, local(2026, 4, 9, 18, 0), horizon_days=3) is None


def test_closes_at():
    assert closes_at(SOFIA, local(2026, 11, 25, 10, 0)) == local(2026, 11, 25, 17, 30)
    assert closes_at(BURGAS, utc(2026, 11, 27, 8, 0)) == local(2026, 11, 27, 13, 0)  # Friday
    assert closes_at(SOFIA, utc(2026, 6, 24, 14, 29)) == utc(2026, 6, 24, 14, 30)  # 17:30 EEST
    assert closes_at(SOFIA, local(2026, 11, 25, 17, 30)) is None
    assert closes_at(SOFIA, local(2026, 11, 28, 12, 0)) is None  # Saturday
    assert closes_at(SOFIA, local(2026, 3, 3, 12, 0)) is None  # Liberation Day


def _office_with_hours(hours: dict[str, list[str]], holidays: str = ""):
    from hotline.catalogue import Catalogue, load_raw

    raw = load_raw()
    raw["offices"] = {"night": {"name": "Night", "timezone": "Europe/Sofia", "holidays": holidays,
                                "hours": hours}}
    return Catalogue(raw).office("night")


def test_spans_that_meet_at_midnight_are_one_opening_period():
    office = _office_with_hours({"mon": ["18:00-24:00"], "tue": ["00:00-06:00", "09:00-12:00"]})
    assert closes_at(office, local(2026, 11, 23, 20, 0)) == local(2026, 11, 24, 6, 0)
    assert closes_at(office, local(2026, 11, 24, 10, 0)) == local(2026, 11, 24, 12, 0)


def test_an_office_open_around_the_clock_closes_only_at_the_horizon():
    office = _office_with_hours({day: ["00:00-24:00"]
                                 for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")})
    closing = closes_at(office, local(2026, 11, 25, 10, 0), horizon_days=3)
    assert closing.date() == date(2026, 11, 28)
