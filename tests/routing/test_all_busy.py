"""Nobody free for the caller's language and topic, on a hotline without a queue: they hear so in
their language with the closing time, the call ends (never waits in silence), and its record says
no_consultant. (With a queue, the same words end a wait that found nobody: test_queue_limits.py.)"""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import config_with
from tests.support.helpers import add_consultant, new_call
from tests.support.journeys import (
    BURGAS_NUMBER,
    LANGUAGE_KEYS,
    TOPIC_KEYS,
    hang_up,
    journal,
    offered_to,
    prompt,
    record_of,
    route,
    set_clock,
    stored_call,
    texts,
    verbs,
)

SOFIA = ZoneInfo("Europe/Sofia")


@pytest.fixture
def app_config(app_config, tmp_path):
    """The packaged configuration (Sofia until 17:30, Burgas until 17:00, Fridays 13:00), on a
    hotline that does not queue callers (queue.max_size = 0): nobody free ends the call at once."""
    return {**app_config, "HOTLINE_CONFIG": config_with(tmp_path, "[queue]\nmax_size = 0", base=None)}


def _busy_call(twilio, monkeypatch, lang: str, moment: datetime, **kwargs):
    set_clock(monkeypatch, moment)
    return route(twilio, lang, "health", **kwargs)


@pytest.mark.parametrize("lang, closing", [("ru", "17 часов 30 минут"), ("bg", "17 и 30 часа"),
                                           ("ar", "الساعة الخامسة و30 دقيقة بعد الظهر")])
def test_all_busy_is_said_in_the_callers_language_then_goodbye_and_hangup(app, db, twilio, monkeypatch, lang,
                                                                          closing):
    add_consultant(app, db, "On a call", languages=[lang], topics=["health"], status="busy")
    call = _busy_call(twilio, monkeypatch, lang, datetime(2026, 11, 18, 10, 0, tzinfo=SOFIA))
    assert texts(call.last) == [prompt(app, lang, "connecting"), prompt(app, lang, "all_busy", time=closing),
                                prompt(app, lang, "goodbye")]
    assert verbs(call.last) == ["Say", "Say", "Say", "Hangup"]
    assert offered_to(db, call) == []
    assert journal(db, call)[-1][0] == "no_consultant"
    assert stored_call(db, call).outcome == "no_consultant"


def test_the_closing_time_is_the_last_open_office(app, twilio, monkeypatch):
    # Friday 11:00: Burgas closes at 13:00, Sofia at 17:30; the caller rang Burgas.
    friday = datetime(2026, 11, 20, 11, 0, tzinfo=SOFIA)
    call = _busy_call(twilio, monkeypatch, "en", friday, called=BURGAS_NUMBER)
    assert texts(call.last)[1] == "All consultants who speak your language are busy right now. " \
                                  "Please call again later. Today we are open until 5:30 PM."


def test_after_closing_time_the_caller_hears_when_to_call_again(app, twilio, monkeypatch):
    # The language was chosen at 17:29 on a Friday, the topic at 17:31: too late to be told "today".
    set_clock(monkeypatch, datetime(2026, 11, 20, 17, 29, tzinfo=SOFIA))
    call = new_call(twilio)
    call.ring()
    call.press(LANGUAGE_KEYS["en"])
    set_clock(monkeypatch, datetime(2026, 11, 20, 17, 31, tzinfo=SOFIA))
    answer = call.press(TOPIC_KEYS["health"])
    assert texts(answer)[1] == prompt(app, "en", "all_busy_closing", when="on Monday at 9 AM")
    assert answer.find("Hangup") is not None


def test_the_status_callback_makes_a_no_consultant_record(app, db, twilio, monkeypatch):
    call = _busy_call(twilio, monkeypatch, "uk", datetime(2026, 11, 18, 10, 0, tzinfo=SOFIA))
    assert record_of(db, call) is None  # made when the call ends, not before
    hang_up(call, duration=25)
    record = record_of(db, call)
    assert (record.outcome, record.language_code, record.topic_code, record.consultant_id) == \
        ("no_consultant", "uk", "health", None)
    assert record.duration_seconds == 25
    assert stored_call(db, call).outcome == "no_consultant"


@pytest.mark.speech_engine("none")  # with one, Farsi audio (tests/ivr/test_farsi_audio.py)
def test_all_busy_for_a_farsi_caller_is_spoken_in_english(app, twilio, monkeypatch):
    call = _busy_call(twilio, monkeypatch, "fa", datetime(2026, 11, 18, 10, 0, tzinfo=SOFIA))
    assert texts(call.last)[1] == prompt(app, "en", "all_busy", time="5:30 PM")

