"""A callback is offered wherever a caller cannot be put through: after hours, when their language
has nobody on duty, and when the queue is full (the queue's own key is in test_booking.py). Each
leads, after the topic where it is not known yet, to the same booking conversation."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import config_with
from tests.support.helpers import add_consultant, new_call
from tests.support.journeys import LANGUAGE_KEYS, TOPIC_KEYS, journal, prompt, route, set_clock, texts

SOFIA = ZoneInfo("Europe/Sofia")


def _booking_started(app, root) -> bool:
    """The first step of booking: the number ending in ..., or keying one in."""
    heard = " ".join(texts(root))
    return "456" in heard.replace(" ", "") or prompt(app, "en", "callback_key_number") in heard


class TestAfterHours:
    @pytest.fixture
    def app_config(self, app_config, tmp_path):
        return {**app_config, "HOTLINE_CONFIG": config_with(tmp_path, "", base=None)}  # packaged hours

    def test_after_hours_the_caller_may_book_a_callback_choosing_the_topic_first(self, app, db, twilio,
                                                                               monkeypatch):
        set_clock(monkeypatch, datetime(2026, 11, 24, 20, 0, tzinfo=SOFIA))  # a Tuesday evening
        call = new_call(twilio)
        call.ring()
        closed = call.press(LANGUAGE_KEYS["en"])
        assert prompt(app, "en", "closed_callback", digit="1") in texts(closed)
        menu = call.press("1")
        assert texts(menu)[0] == prompt(app, "en", "topic_intro")
        offered = call.press(TOPIC_KEYS["residence"])
        assert _booking_started(app, offered)
        kinds = [kind for kind, _, _ in journal(db, call)]
        assert kinds.index("closed") < kinds.index("callback_requested") < kinds.index("callback_offered")

    def test_letting_the_offer_pass_says_goodbye(self, app, db, twilio, monkeypatch):
        set_clock(monkeypatch, datetime(2026, 11, 24, 20, 0, tzinfo=SOFIA))
        call = new_call(twilio)
        call.ring()
        call.press(LANGUAGE_KEYS["ru"])
        bye = call.silence()
        assert texts(bye) == [prompt(app, "ru", "goodbye")] and bye.find("Hangup") is not None


def test_a_language_with_nobody_on_duty_offers_a_callback(app, db, twilio):
    call = new_call(twilio)
    call.ring()
    told = call.press(LANGUAGE_KEYS["ar"])  # nobody at all on duty in these tests
    assert prompt(app, "ar", "queue_exit_callback", digit="1") in texts(told)
    menu = call.press("1")
    assert texts(menu)[0] == prompt(app, "ar", "topic_intro")
    assert _booking_started(app, call.press(TOPIC_KEYS["health"]))  # the number ending in 4 5 6, in Arabic
    assert "callback_offered" in [kind for kind, _, _ in journal(db, call)]


class TestQueueFull:
    @pytest.fixture
    def app_config(self, app_config, tmp_path):
        return {**app_config, "HOTLINE_CONFIG": config_with(tmp_path, "[queue]\nmax_size = 0")}

    def test_with_no_room_in_the_queue_a_callback_is_offered(self, app, db, twilio):
        add_consultant(app, db, "Busy", languages=["en"], topics=["health"], status="busy")
        call = route(twilio, "en", "health")
        assert prompt(app, "en", "queue_exit_callback", digit="1") in texts(call.last)
        assert _booking_started(app, call.press("1"))
