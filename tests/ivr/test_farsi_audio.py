"""A Farsi caller hears Farsi from the language menu to the end of every path (menus, queue,
callback booking, after hours): each prompt a <Play> of audio rendered by the speech engine, with
its fields (position, times, digits) filled in Farsi, and never a <Say> in English."""
from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from datetime import datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import PUBLIC_BASE_URL, REQUIRE_REAL
from tests.support.clock import set_clock
from tests.support.helpers import add_consultant, new_call, to_topic_menu
from tests.support.journeys import LANGUAGE_KEYS, TOPIC_KEYS, heard, hears, hears_parts, route
from tests.support.queueing import enqueued, leaves_queue, wait_turn

SOFIA = ZoneInfo("Europe/Sofia")
MONDAY_10 = datetime(2026, 11, 30, 10, 0, tzinfo=SOFIA)
WEDNESDAY_20 = datetime(2026, 11, 18, 20, 0, tzinfo=SOFIA)
FARSI_LETTERS = set("ابپتثجچحخدذرزژسشصضطظعغفقکگلمنوهیآ")


@pytest.fixture(autouse=True)
def _engine(app):
    """These tests need the speech engine: skipped without it, failed with HOTLINE_REQUIRE_REAL."""
    from hotline.voice.speech import audio

    with app.app_context():
        if audio.engine_for("fa") is None:
            message = "no speech engine speaks Farsi here (see the README's Farsi section)"
            if REQUIRE_REAL:
                pytest.fail(message)
            pytest.skip(message)


@pytest.fixture
def _callbacks_not_offered():
    """Unlike the rest of tests/ivr, the callback is offered: its booking is one of the paths here."""


@pytest.fixture
def app_config(app_config):
    """The packaged offices and hours (Sofia and Burgas close at night), the clock set per test."""
    return {**app_config, "HOTLINE_CONFIG": ""}


@pytest.fixture
def clock(monkeypatch):
    def set_to(moment: datetime) -> None:
        set_clock(monkeypatch, moment)

    set_to(MONDAY_10)
    return set_to


def farsi(app, root: ET.Element) -> list[str]:
    """What the caller hears of TwiML `root`, checked to be Farsi audio only: no <Say> at all, each
    <Play> a prompt rendered for Farsi whose text is in Farsi script (or a digit of a number, read
    on its own)."""
    assert root.find(".//Say") is None, ET.tostring(root, encoding="unicode")
    plays = [play.text for play in root.iter("Play")]
    assert plays and all(url.startswith(f"{PUBLIC_BASE_URL}/audio/fa/r/") for url in plays)
    spoken = heard(app, root)
    assert all(FARSI_LETTERS & set(text) or text.isdigit() for text in spoken), spoken
    return spoken


def _term(app, table: str, code: str) -> str:
    return app.extensions["hotline"].catalogue.term("fa", table, code)


def test_the_topic_menu_is_farsi(app, twilio, clock, languages_on_duty):
    gather = to_topic_menu(twilio, LANGUAGE_KEYS["fa"]).last.find("Gather")
    assert farsi(app, gather) == [hears(app, "fa", "topic_intro")] + [
        hears(app, "fa", "topic_option", topic=_term(app, "topics", code), digit=digit)
        for code, digit in TOPIC_KEYS.items()]


def test_the_queue_speaks_farsi_with_the_position_in_it(app, db, twilio, clock, languages_on_duty):
    add_consultant(app, db, "On a call", languages=["fa"], topics=["health"], status="busy")
    call = route(twilio, "fa", "health")
    farsi(app, call.last)
    waiting = farsi(app, wait_turn(call, enqueued(call)))
    assert hears(app, "fa", "queue_position", position=1) in waiting
    assert hears(app, "fa", "queue_exit_callback", digit="1") in waiting
    assert "صفِ انتظار" in hears(app, "fa", "queue_position", position=1)  # the engine's ezafe


def test_booking_a_callback_is_farsi_to_the_goodbye(app, db, twilio, clock, languages_on_duty):
    add_consultant(app, db, "On a call", languages=["fa"], topics=["health"], status="busy")
    call = route(twilio, "fa", "health")
    enqueue = enqueued(call)
    wait_turn(call, enqueue)
    call.press("1")
    confirm = farsi(app, leaves_queue(call, enqueue, "leave"))
    keys = {"confirm": "1", "change": "2"}
    assert confirm == hears_parts(app, "fa", "callback_confirm_number", digits="4 5 6", **keys)
    assert confirm[1:4] == ["4", "5", "6"]  # the caller's digits, each on its own
    windows = farsi(app, call.press("1"))
    tomorrow_morning = app.extensions["hotline"].catalogue.prompt("fa", "window_tomorrow_morning")
    assert windows[0] == hears(app, "fa", "callback_when")
    assert windows[3] == hears(app, "fa", "callback_window_option", window=tomorrow_morning, digit="3")
    booked = farsi(app, call.press("3"))
    assert booked == [hears(app, "fa", "callback_booked", window=tomorrow_morning),
                      hears(app, "fa", "goodbye")]


def test_a_keyed_number_is_read_back_in_farsi_digit_by_digit_and_never_stored_whole(
        app, db, twilio, clock, languages_on_duty):
    """The digits of a caller's number are personal data: rendered one by one, so no URL, log line
    or cached file holds the number."""
    add_consultant(app, db, "On a call", languages=["fa"], topics=["health"], status="busy")
    call = route(twilio, "fa", "health", caller="anonymous")
    enqueue = enqueued(call)
    wait_turn(call, enqueue)
    call.press("1")
    farsi(app, leaves_queue(call, enqueue, "leave"))
    answer = call.press("0888765432")
    spoken = farsi(app, answer)
    expected = hears_parts(app, "fa", "callback_number_read_back", digits="0 8 8 8 7 6 5 4 3 2")
    assert spoken[:len(expected)] == expected and len(expected) == 12
    assert not any("876" in url.replace(" ", "") for url in heard(app, answer))
    cached = Path(app.instance_path) / "audio" / "rendered"
    assert not any("7 6 5" in path.read_text(encoding="utf-8") for path in cached.rglob("*.json"))


def test_after_hours_is_farsi_with_the_opening_time(app, twilio, clock, languages_on_duty):
    clock(WEDNESDAY_20)
    call = new_call(twilio)
    call.ring()
    closed = farsi(app, call.press(LANGUAGE_KEYS["fa"]))
    catalogue = app.extensions["hotline"].catalogue
    when = catalogue.prompt("fa", "opens_tomorrow", time=catalogue.clock_time("fa", time(9)))
    assert "۹" in when and "09" not in when and "۰۹" not in when  # said as a person says it
    assert closed[0] == hears(app, "fa", "closed", when=when)
    assert farsi(app, call.press(None)) == [hears(app, "fa", "goodbye")]


def test_every_played_prompt_is_served_even_by_a_machine_that_never_rendered_it(
        app, client, twilio, clock, languages_on_duty):
    """Twilio may fetch the audio from another web machine than the one that built the TwiML: the
    rendered files are gone, and /audio renders each again from the text signed in its URL."""
    gather = to_topic_menu(twilio, LANGUAGE_KEYS["fa"]).last.find("Gather")
    shutil.rmtree(Path(app.instance_path) / "audio", ignore_errors=True)
    for play in gather.iter("Play"):
        with client.get(play.text.removeprefix(PUBLIC_BASE_URL)) as response:
            assert response.status_code == 200
            assert response.mimetype in ("audio/mpeg", "audio/wav")
            assert len(response.data) > 1000
