"""A language with nobody on duty: the caller is told at once, in that language, and, where the
language's usual duty hours are configured ([languages.<code>.on_duty]), when it is next staffed."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import config_with
from tests.support.helpers import add_consultant, new_call
from tests.support.journeys import LANGUAGE_KEYS, prompt, set_clock, texts

SOFIA = ZoneInfo("Europe/Sofia")


@pytest.fixture
def app_config(app_config, tmp_path):
    return {**app_config, "HOTLINE_CONFIG": config_with(
        tmp_path, '[languages.ar]\non_duty = { mon = ["09:00-13:00"], wed = ["14:00-17:00"] }')}


def _weekday(app, lang: str, index: int) -> str:
    return app.extensions["hotline"].catalogue.words(lang, "weekdays")[index]


def _choose(twilio, lang: str):
    call = new_call(twilio)
    call.ring()
    return call.press(LANGUAGE_KEYS[lang])


def test_the_caller_hears_when_their_language_is_next_staffed(app, db, twilio, monkeypatch,
                                                              languages_on_duty):
    for staff in languages_on_duty:
        if staff.skills[0].language_code == "ar":
            staff.status = "offline"
    db.commit()
    set_clock(monkeypatch, datetime(2026, 11, 24, 11, 0, tzinfo=SOFIA))  # a Tuesday
    told = _choose(twilio, "ar")
    when = prompt(app, "ar", "opens_tomorrow", time="الساعة الثانية بعد الظهر")  # Wednesday
    assert texts(told)[:3] == [prompt(app, "ar", "language_unstaffed", language="العربية"),
                               prompt(app, "ar", "language_next_on_duty", when=when),
                               prompt(app, "ar", "language_alternatives", digit="3",
                                      languages="بالإنجليزية أو بالبلغارية")]


def test_on_a_weekday_further_ahead(app, db, twilio, monkeypatch, languages_on_duty):
    for staff in languages_on_duty:
        staff.status = "offline"
    db.commit()
    set_clock(monkeypatch, datetime(2026, 11, 26, 10, 0, tzinfo=SOFIA))  # Thursday: next is Monday
    told = _choose(twilio, "ar")
    when = prompt(app, "ar", "opens_on", weekday=_weekday(app, "ar", 0), time="الساعة التاسعة صباحاً")
    assert when == "يوم الاثنين الساعة التاسعة صباحاً"
    assert texts(told)[1] == prompt(app, "ar", "language_next_on_duty", when=when)


def test_later_the_same_day(app, db, twilio, monkeypatch, languages_on_duty):
    for staff in languages_on_duty:
        staff.status = "offline"
    db.commit()
    set_clock(monkeypatch, datetime(2026, 11, 25, 10, 0, tzinfo=SOFIA))  # Wednesday morning
    told = _choose(twilio, "ar")
    assert texts(told)[1] == prompt(app, "ar", "language_next_on_duty",
                                    when=prompt(app, "ar", "opens_today", time="الساعة الثانية بعد الظهر"))


def test_a_language_without_duty_hours_says_nobody_is_on_duty_but_not_when(app, db, twilio,
                                                                           languages_on_duty):
    for staff in languages_on_duty:
        staff.status = "offline"
    db.commit()
    told = _choose(twilio, "tr")
    assert texts(told) == [prompt(app, "tr", "language_unstaffed", language="Türkçe"),
                           prompt(app, "tr", "language_alternatives", digit="3",
                                  languages="İngilizce veya Bulgarca")]


def test_a_language_with_someone_on_duty_goes_straight_to_the_topic_menu(app, db, twilio, languages_on_duty):
    add_consultant(app, db, "Busy in Arabic", languages=["ar"], topics=["health"], status="busy")
    told = _choose(twilio, "ar")
    assert texts(told)[0] == prompt(app, "ar", "topic_intro")
