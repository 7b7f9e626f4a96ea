"""Opening hours with the packaged configuration (Sofia Mon-Fri 09:00-17:30, Burgas Mon-Thu
09:00-17:00 and Fri 09:00-13:00, Bulgarian public holidays) and a fixed clock: the hotline is
open while any office is; when closed the caller hears, in their language, when it opens next."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from hotline import hours
from tests.support.helpers import new_call
from tests.support.journeys import (
    BURGAS_NUMBER,
    LANGUAGE_KEYS,
    hang_up,
    journal,
    prompt,
    record_of,
    record_prompt,
    set_clock,
    stored_call,
    texts,
    verbs,
)

SOFIA = ZoneInfo("Europe/Sofia")


@pytest.fixture
def app_config(app_config):
    """The packaged default configuration: no HOTLINE_CONFIG file merged over it."""
    return {**app_config, "HOTLINE_CONFIG": ""}


def _sofia(*args: int) -> datetime:
    return datetime(*args, tzinfo=SOFIA)


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def _call_at(twilio, monkeypatch, moment: datetime, lang: str = "en", **call_kwargs):
    """A caller who chooses `lang` at `moment`; the answer is the topic menu, or "closed"."""
    set_clock(monkeypatch, moment)
    call = new_call(twilio, **call_kwargs)
    call.ring()
    call.press(LANGUAGE_KEYS[lang])
    return call


def _is_open(call) -> bool:
    gather = call.last.find("Gather")
    return gather is not None and "/ivr/topic" in gather.attrib["action"]


def _closed_message(app, lang: str, when_key: str, **when_fields) -> str:
    return prompt(app, lang, "closed", when=prompt(app, lang, when_key, **when_fields))


def test_the_packaged_configuration_is_in_use(app):
    sofia = app.extensions["hotline"].catalogue.office("sofia")
    assert sofia.hours["mon"] == (("09:00", "17:30"),) and sofia.holidays == "BG"


def test_open_on_a_weekday_morning(twilio, monkeypatch):
    assert _is_open(_call_at(twilio, monkeypatch, _sofia(2026, 11, 18, 10, 0)))


@pytest.mark.parametrize("lang, expected", [
    ("en", "The centre is closed now. We open tomorrow at 9 AM."),
    ("bg", "В момента центърът е затворен. Отваряме утре в 9 часа."),
    ("ru", "Сейчас центр закрыт. Мы открываемся завтра в 9 часов."),
])
def test_closed_in_the_evening_says_tomorrow_in_the_callers_language(app, db, twilio, monkeypatch, lang,
                                                                     expected):
    call = _call_at(twilio, monkeypatch, _sofia(2026, 11, 18, 20, 0), lang)
    assert texts(call.last) == [expected, prompt(app, lang, "goodbye")]
    assert verbs(call.last) == ["Say", "Say", "Hangup"]
    assert call.last.find("Say").attrib["language"] == app.extensions["hotline"].catalogue.language(lang).tts
    stored = stored_call(db, call)
    assert (stored.outcome, stored.stage, stored.language_code) == ("closed", "closed", lang)
    assert journal(db, call)[-1][0] == "closed"


def test_a_closed_call_makes_a_closed_consultation_record(db, twilio, monkeypatch):
    call = _call_at(twilio, monkeypatch, _sofia(2026, 11, 18, 20, 0), "uk")
    hang_up(call, duration=15)
    record = record_of(db, call)
    assert (record.outcome, record.language_code, record.topic_code) == ("closed", "uk", None)


@pytest.mark.parametrize("moment, when_key, fields", [
    (_sofia(2026, 11, 18, 7, 30), "opens_today", {"time": "9 AM"}),  # Wednesday, early
    (_sofia(2026, 11, 18, 17, 30), "opens_tomorrow", {"time": "9 AM"}),  # Sofia just closed
    (_sofia(2026, 11, 20, 17, 45), "opens_on", {"weekday": "on Monday", "time": "9 AM"}),  # Friday
    (_sofia(2026, 11, 21, 12, 0), "opens_on", {"weekday": "on Monday", "time": "9 AM"}),  # Saturday
    (_sofia(2026, 11, 22, 12, 0), "opens_tomorrow", {"time": "9 AM"}),  # Sunday
])
def test_closed_says_when_it_opens_next(app, twilio, monkeypatch, moment, when_key, fields):
    call = _call_at(twilio, monkeypatch, moment)
    assert texts(call.last)[0] == _closed_message(app, "en", when_key, **fields)


@pytest.mark.parametrize("moment, when_key, fields", [
    (_sofia(2026, 12, 24, 10, 0), "opens_on", {"weekday": "on Tuesday", "time": "9 AM"}),  # Christmas Eve
    (_sofia(2026, 12, 25, 10, 0), "opens_on", {"weekday": "on Tuesday", "time": "9 AM"}),  # Christmas
    (_sofia(2026, 12, 23, 18, 0), "opens_on", {"weekday": "on Tuesday", "time": "9 AM"}),  # holidays eve
    (_sofia(2026, 4, 10, 10, 0), "opens_on", {"weekday": "on Tuesday", "time": "9 AM"}),  # Good Friday
    (_sofia(2026, 4, 13, 10, 0), "opens_tomorrow", {"time": "9 AM"}),  # Orthodox Easter Monday
    (_sofia(2026, 3, 3, 11, 0), "opens_tomorrow", {"time": "9 AM"}),  # Liberation Day, a Tuesday
    (_sofia(2026, 1, 1, 12, 0), "opens_on", {"weekday": "on Monday", "time": "9 AM"}),  # Jan 1-2, weekend
    (_sofia(2026, 12, 31, 18, 0), "opens_on", {"weekday": "on Monday", "time": "9 AM"}),  # into 2027
    (_sofia(2027, 4, 30, 10, 0), "opens_on", {"weekday": "on Wednesday", "time": "9 AM"}),  # Easter 2027
])
def test_closed_on_public_holidays(app, twilio, monkeypatch, moment, when_key, fields):
    call = _call_at(twilio, monkeypatch, moment)
    assert texts(call.last)[0] == _closed_message(app, "en", when_key, **fields)


def test_open_on_the_day_after_easter_monday(twilio, monkeypatch):
    assert _is_open(_call_at(twilio, monkeypatch, _sofia(2026, 4, 14, 9, 0)))


def test_weekday_named_in_the_callers_language(app, twilio, monkeypatch):
    call = _call_at(twilio, monkeypatch, _sofia(2026, 12, 24, 10, 0), "tr")
    assert texts(call.last)[0] == _closed_message(app, "tr", "opens_on", weekday="salı", time="9")


def test_friday_afternoon_burgas_is_closed_but_sofia_is_open(app, twilio, monkeypatch):
    catalogue = app.extensions["hotline"].catalogue
    burgas, sofia = catalogue.office("burgas"), catalogue.office("sofia")
    friday = _sofia(2026, 11, 20, 14, 0)
    assert not hours.is_open(burgas, friday) and hours.is_open(sofia, friday)
    assert _is_open(_call_at(twilio, monkeypatch, friday, called=BURGAS_NUMBER))


def test_friday_after_sofia_closes_too(app, twilio, monkeypatch):
    call = _call_at(twilio, monkeypatch, _sofia(2026, 11, 20, 17, 30), called=BURGAS_NUMBER)
    assert texts(call.last)[0] == _closed_message(app, "en", "opens_on", weekday="on Monday", time="9 AM")


@pytest.mark.parametrize("moment, is_open", [
    (_utc(2026, 3, 27, 15, 0), True),  # Friday 17:00 EET, before clocks go forward
    (_utc(2026, 3, 30, 6, 30), True),  # Monday 09:30 EEST, after
    (_utc(2026, 3, 30, 5, 30), False),  # Monday 08:30 EEST (09:30 if the offset were still +2)
    (_utc(2026, 3, 30, 14, 45), False),  # Monday 17:45 EEST (16:45 at +2)
    (_utc(2026, 10, 23, 14, 15), True),  # Friday 17:15 EEST, before clocks go back
    (_utc(2026, 10, 26, 7, 30), True),  # Monday 09:30 EET, after
    (_utc(2026, 10, 26, 6, 30), False),  # Monday 08:30 EET (09:30 if the offset were still +3)
    (_utc(2026, 10, 26, 15, 15), True),  # Monday 17:15 EET (18:15 at +3)
])
def test_hours_follow_sofia_wall_clock_across_daylight_saving_changes(twilio, monkeypatch, moment, is_open):
    assert _is_open(_call_at(twilio, monkeypatch, moment)) is is_open


@pytest.mark.parametrize("moment, when_key, fields", [
    (_utc(2026, 3, 30, 5, 30), "opens_today", {"time": "9 AM"}),
    (_utc(2026, 3, 28, 21, 30), "opens_on", {"weekday": "on Monday", "time": "9 AM"}),  # Sat 23:30 EET
    (_utc(2026, 3, 29, 21, 30), "opens_today", {"time": "9 AM"}),  # Mon 00:30 EEST (Sun 23:30 at +2)
    (_utc(2026, 10, 25, 21, 59), "opens_tomorrow", {"time": "9 AM"}),  # Sun 23:59 EET (Mon 00:59 at +3)
])
def test_the_next_opening_is_local_time_across_daylight_saving_changes(app, twilio, monkeypatch, moment,
                                                                       when_key, fields):
    call = _call_at(twilio, monkeypatch, moment)
    assert texts(call.last)[0] == _closed_message(app, "en", when_key, **fields)


@pytest.mark.speech_engine("none")  # with one, Farsi audio (tests/ivr/test_farsi_audio.py)
def test_farsi_closed_message_is_spoken_in_english_even_with_a_recording(app, twilio, monkeypatch):
    record_prompt(app, "closed")  # a recording could not say when the centre opens
    call = _call_at(twilio, monkeypatch, _sofia(2026, 11, 18, 20, 0), "fa")
    assert texts(call.last)[0] == _closed_message(app, "en", "opens_tomorrow", time="9 AM")
    assert call.last.find("Say").attrib["language"] == "en-GB"
