"""The windows offered for a callback, with the clock fixed: within each office's hours (Burgas
closes at 13:00 on Fridays), never on weekends or Bulgarian holidays, "as soon as possible" first
(the next opening after hours or in the last minutes before closing), then the half-days ahead;
and how a booked window is named in the caller's language."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from callbacks.windows import Window, kind_of, offered_windows, phrase, window_phrase
from hotline.catalogue import WEEKDAY_KEYS, Office, load_catalogue
from hotline.models import Callback

SOFIA = ZoneInfo("Europe/Sofia")
NOON = time(13, 0)  # [callbacks] morning_ends by default
PACKAGED = load_catalogue()
SOFIA_OFFICE, BURGAS_OFFICE = PACKAGED.office("sofia"), PACKAGED.office("burgas")


def at(day: str, clock: str) -> datetime:
    """An aware moment in Sofia: at("2026-11-30", "10:00")."""
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=SOFIA)


def shown(windows: list[Window]) -> list[tuple[str, str, str]]:
    """(kind, start, end) with times as "2026-11-30 09:00" in Sofia, for readable assertions."""
    def local(moment: datetime) -> str:
        return f"{moment.astimezone(SOFIA):%Y-%m-%d %H:%M}"

    return [(w.kind, local(w.start), local(w.end)) for w in windows]


def office_with(**hours: list[str]) -> Office:
    """An office open at these hours ({"mon": ["09:00-12:00"]}), no holidays."""
    spans = {day: tuple(tuple(span.split("-")) for span in hours.get(day, [])) for day in WEEKDAY_KEYS}
    return Office("test", "Test", (), "Europe/Sofia", None, spans)


# -- an open office ---------------------------------------------------------------------------------

def test_a_monday_morning_offers_now_this_afternoon_and_tomorrow():
    assert shown(offered_windows(SOFIA_OFFICE, at("2026-11-30", "10:00"), NOON)) == [
        ("asap", "2026-11-30 10:00", "2026-11-30 17:30"),
        ("today_afternoon", "2026-11-30 13:00", "2026-11-30 17:30"),
        ("tomorrow_morning", "2026-12-01 09:00", "2026-12-01 13:00"),
        ("tomorrow_afternoon", "2026-12-01 13:00", "2026-12-01 17:30"),
    ]


def test_an_afternoon_offers_no_half_day_already_under_way_and_names_the_day_after_tomorrow():
    assert shown(offered_windows(SOFIA_OFFICE, at("2026-11-30", "14:00"), NOON)) == [
        ("asap", "2026-11-30 14:00", "2026-11-30 17:30"),
        ("tomorrow_morning", "2026-12-01 09:00", "2026-12-01 13:00"),
        ("tomorrow_afternoon", "2026-12-01 13:00", "2026-12-01 17:30"),
        ("on_morning", "2026-12-02 09:00", "2026-12-02 13:00"),
    ]


def test_the_utc_moment_is_read_in_the_office_time_zone():
    """08:00 UTC is 10:00 in Sofia (EET, UTC+2 in November)."""
    utc = datetime(2026, 11, 30, 8, 0, tzinfo=ZoneInfo("UTC"))
    local = at("2026-11-30", "10:00")
    assert offered_windows(SOFIA_OFFICE, utc, NOON) == offered_windows(SOFIA_OFFICE, local, NOON)


def test_before_opening_as_soon_as_possible_is_from_the_opening_and_this_morning_is_ahead():
    assert shown(offered_windows(SOFIA_OFFICE, at("2026-11-30", "07:00"), NOON)) == [
        ("asap", "2026-11-30 09:00", "2026-11-30 17:30"),
        ("today_morning", "2026-11-30 09:00", "2026-11-30 13:00"),
        ("today_afternoon", "2026-11-30 13:00", "2026-11-30 17:30"),
        ("tomorrow_morning", "2026-12-01 09:00", "2026-12-01 13:00"),
    ]


@pytest.mark.parametrize("clock", ["17:30", "23:59"])
def test_after_hours_as_soon_as_possible_is_the_next_opening(clock):
    assert shown(offered_windows(SOFIA_OFFICE, at("2026-11-30", clock), NOON)) == [
        ("asap", "2026-12-01 09:00", "2026-12-01 17:30"),
        ("tomorrow_morning", "2026-12-01 09:00", "2026-12-01 13:00"),
        ("tomorrow_afternoon", "2026-12-01 13:00", "2026-12-01 17:30"),
        ("on_morning", "2026-12-02 09:00", "2026-12-02 13:00"),
    ]


def test_fifteen_minutes_before_closing_as_soon_as_possible_is_still_today():
    assert shown(offered_windows(SOFIA_OFFICE, at("2026-11-30", "17:15"), NOON))[0] == (
        "asap", "2026-11-30 17:15", "2026-11-30 17:30")


@pytest.mark.parametrize("clock", ["17:16", "17:29:59"])
def test_in_the_last_minutes_before_closing_as_soon_as_possible_is_the_next_opening(clock):
    assert shown(offered_windows(SOFIA_OFFICE, at("2026-11-30", clock), NOON)) == [
        ("asap", "2026-12-01 09:00", "2026-12-01 17:30"),
        ("tomorrow_morning", "2026-12-01 09:00", "2026-12-01 13:00"),
        ("tomorrow_afternoon", "2026-12-01 13:00", "2026-12-01 17:30"),
        ("on_morning", "2026-12-02 09:00", "2026-12-02 13:00"),
    ]


# -- Burgas: Fridays end at 13:00 -------------------------------------------------------------------

def test_burgas_on_a_friday_morning_has_no_afternoon_and_goes_on_to_monday():
    assert shown(offered_windows(BURGAS_OFFICE, at("2026-11-27", "10:00"), NOON)) == [
        ("asap", "2026-11-27 10:00", "2026-11-27 13:00"),
        ("on_morning", "2026-11-30 09:00", "2026-11-30 13:00"),
        ("on_afternoon", "2026-11-30 13:00", "2026-11-30 17:00"),
        ("on_morning", "2026-12-01 09:00", "2026-12-01 13:00"),
    ]


@pytest.mark.parametrize("clock", ["12:50", "13:00", "15:00"])
def test_burgas_at_the_end_of_a_friday_offers_monday(clock):
    assert shown(offered_windows(BURGAS_OFFICE, at("2026-11-27", clock), NOON)) == [
        ("asap", "2026-11-30 09:00", "2026-11-30 17:00"),
        ("on_morning", "2026-11-30 09:00", "2026-11-30 13:00"),
        ("on_afternoon", "2026-11-30 13:00", "2026-11-30 17:00"),
        ("on_morning", "2026-12-01 09:00", "2026-12-01 13:00"),
    ]


def test_sofia_on_the_same_friday_afternoon_is_open_until_half_past_five():
    assert shown(offered_windows(SOFIA_OFFICE, at("2026-11-27", "15:00"), NOON))[0] == (
        "asap", "2026-11-27 15:00", "2026-11-27 17:30")


# -- weekends and holidays --------------------------------------------------------------------------

def test_on_a_saturday_monday_is_named_by_its_weekday_and_sunday_evening_calls_it_tomorrow():
    assert shown(offered_windows(SOFIA_OFFICE, at("2026-11-28", "11:00"), NOON)) == [
        ("asap", "2026-11-30 09:00", "2026-11-30 17:30"),
        ("on_morning", "2026-11-30 09:00", "2026-11-30 13:00"),
        ("on_afternoon", "2026-11-30 13:00", "2026-11-30 17:30"),
        ("on_morning", "2026-12-01 09:00", "2026-12-01 13:00"),
    ]
    assert [w.kind for w in offered_windows(SOFIA_OFFICE, at("2026-11-29", "20:00"), NOON)] == [
        "asap", "tomorrow_morning", "tomorrow_afternoon", "on_morning"]


def test_christmas_closes_the_24th_to_the_28th_and_only_windows_within_a_week_are_offered():
    """2026-12-23 is a Wednesday; the 24th-26th and the 28th (observed) are holidays, the 27th a
    Sunday. Tuesday the 29th is 6 days ahead; Wednesday the 30th would be "on Wednesday", said on a
    Wednesday: not offered."""
    assert shown(offered_windows(SOFIA_OFFICE, at("2026-12-23", "15:00"), NOON)) == [
        ("asap", "2026-12-23 15:00", "2026-12-23 17:30"),
        ("on_morning", "2026-12-29 09:00", "2026-12-29 13:00"),
        ("on_afternoon", "2026-12-29 13:00", "2026-12-29 17:30"),
    ]
    assert shown(offered_windows(SOFIA_OFFICE, at("2026-12-23", "17:20"), NOON)) == [
        ("asap", "2026-12-29 09:00", "2026-12-29 17:30"),
        ("on_morning", "2026-12-29 09:00", "2026-12-29 13:00"),
        ("on_afternoon", "2026-12-29 13:00", "2026-12-29 17:30"),
    ]


def test_on_christmas_day_as_soon_as_possible_is_after_the_holidays():
    assert shown(offered_windows(BURGAS_OFFICE, at("2026-12-25", "10:00"), NOON))[:2] == [
        ("asap", "2026-12-29 09:00", "2026-12-29 17:00"),
        ("on_morning", "2026-12-29 09:00", "2026-12-29 13:00"),
    ]


def test_new_years_day_2027_is_skipped():
    """Thursday 2026-12-31 is a working day; Friday 2027-01-01 a holiday, then the weekend."""
    assert shown(offered_windows(SOFIA_OFFICE, at("2026-12-31", "16:00"), NOON)) == [
        ("asap", "2026-12-31 16:00", "2026-12-31 17:30"),
        ("on_morning", "2027-01-04 09:00", "2027-01-04 13:00"),
        ("on_afternoon", "2027-01-04 13:00", "2027-01-04 17:30"),
        ("on_morning", "2027-01-05 09:00", "2027-01-05 13:00"),
    ]


def test_orthodox_easter_2027_from_good_friday_to_the_observed_labour_day():
    """2027-04-29 (Thursday) afternoon: Good Friday, Holy Saturday and Labour Day, Easter Sunday
    and Monday, then Tuesday 4 May (Labour Day observed) are closed."""
    assert shown(offered_windows(SOFIA_OFFICE, at("2027-04-29", "16:00"), NOON)) == [
        ("asap", "2027-04-29 16:00", "2027-04-29 17:30"),
        ("on_morning", "2027-05-05 09:00", "2027-05-05 13:00"),
        ("on_afternoon", "2027-05-05 13:00", "2027-05-05 17:30"),
    ]


def test_a_day_after_the_change_to_winter_time_keeps_its_wall_clock_hours():
    # Sunday 2026-10-25: the clocks went back at 04:00 (EEST to EET).
    windows = offered_windows(SOFIA_OFFICE, at("2026-10-25", "12:00"), NOON)
    assert shown(windows)[0] == ("asap", "2026-10-26 09:00", "2026-10-26 17:30")
    assert windows[0].start.utcoffset() == timedelta(hours=2)


# -- other hours ------------------------------------------------------------------------------------

def test_an_office_that_never_opens_offers_nothing():
    assert offered_windows(office_with(), at("2026-11-30", "10:00"), NOON) == []


def test_a_lunch_break_ends_as_soon_as_possible_and_pieces_of_one_morning_are_joined():
    office = office_with(mon=["09:00-10:00", "10:30-12:00", "14:00-17:00"], tue=["09:00-17:00"])
    assert shown(offered_windows(office, at("2026-11-30", "08:00"), NOON)) == [
        ("asap", "2026-11-30 09:00", "2026-11-30 10:00"),
        ("today_morning", "2026-11-30 09:00", "2026-11-30 12:00"),
        ("today_afternoon", "2026-11-30 14:00", "2026-11-30 17:00"),
        ("tomorrow_morning", "2026-12-01 09:00", "2026-12-01 13:00"),
    ]


def test_morning_ends_is_configurable_and_slivers_of_a_half_day_are_not_offered():
    office = office_with(mon=["12:45-17:00"], tue=["12:45-17:00"])
    assert shown(offered_windows(office, at("2026-11-30", "08:00"), NOON)) == [
        ("asap", "2026-11-30 12:45", "2026-11-30 17:00"),
        ("today_afternoon", "2026-11-30 13:00", "2026-11-30 17:00"),
        ("tomorrow_afternoon", "2026-12-01 13:00", "2026-12-01 17:00"),
    ]
    assert [w.kind for w in offered_windows(office, at("2026-11-30", "08:00"), time(12, 0))] == [
        "asap", "today_afternoon", "tomorrow_afternoon"]
    assert shown(offered_windows(office, at("2026-11-30", "08:00"), time(15, 0)))[1] == (
        "today_morning", "2026-11-30 12:45", "2026-11-30 15:00")


def test_at_most_the_limit_is_offered():
    assert len(offered_windows(SOFIA_OFFICE, at("2026-11-30", "07:00"), NOON, limit=2)) == 2


# -- naming windows ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("start", "end", "kind"), [
    ("2026-11-30 10:00", "2026-11-30 17:30", "asap"),  # began already
    ("2026-12-01 09:00", "2026-12-01 17:30", "asap"),  # spans the end of the morning
    ("2026-11-30 13:00", "2026-11-30 17:30", "today_afternoon"),
    ("2026-12-01 09:00", "2026-12-01 13:00", "tomorrow_morning"),
    ("2026-12-01 13:00", "2026-12-01 17:30", "tomorrow_afternoon"),
    ("2026-12-04 09:00", "2026-12-04 13:00", "on_morning"),
    ("2026-12-08 09:00", "2026-12-08 13:00", "asap"),  # over a week ahead: a weekday would mislead
])
def test_a_booked_window_is_classified_from_its_times(start, end, kind):
    now = at("2026-11-30", "11:00")
    moment = lambda text: datetime.fromisoformat(text).replace(tzinfo=SOFIA)  # noqa: E731
    assert kind_of(SOFIA_OFFICE, moment(start), moment(end), now, NOON) == kind


def test_every_offered_window_is_classified_as_what_it_was_offered_as():
    """What the SMS says agrees with what the caller heard (Burgas' Friday morning aside, where
    "as soon as possible" is exactly the half-day)."""
    for office in (SOFIA_OFFICE, BURGAS_OFFICE):
        for day in ("2026-11-28", "2026-11-30", "2026-12-02", "2026-12-23"):
            for clock in ("07:00", "10:00", "14:00", "18:00"):
                now = at(day, clock)
                for window in offered_windows(office, now, NOON):
                    assert kind_of(office, window.start, window.end, now, NOON) == window.kind, (window, now)


def test_windows_are_named_in_the_callers_language(catalogue_app):
    with catalogue_app.app_context():
        monday = datetime(2026, 11, 30, 9, tzinfo=SOFIA)
        wednesday = datetime(2026, 12, 2, 13, tzinfo=SOFIA)
        assert phrase("en", Window("tomorrow_morning", monday, monday)) == "tomorrow morning"
        assert phrase("en", Window("on_afternoon", wednesday, wednesday)) == "on Wednesday afternoon"
        assert phrase("ru", Window("on_afternoon", wednesday, wednesday)) == "в среду во второй половине дня"
        assert phrase("bg", Window("asap", monday, monday)) == "възможно най-скоро"


def test_the_sms_names_a_booked_callbacks_window_as_seen_when_it_is_sent(catalogue_app):
    callback = Callback(office_code="burgas", window_start=at("2026-11-30", "09:00"),
                        window_end=at("2026-11-30", "13:00"))
    with catalogue_app.app_context():
        assert window_phrase("en", callback, at("2026-11-27", "12:00")) == "on Monday morning"
        assert window_phrase("uk", callback, at("2026-11-29", "12:00")) == "завтра в першій половині дня"
        assert window_phrase("tr", callback, at("2026-11-30", "09:30")) == "en kısa sürede"
