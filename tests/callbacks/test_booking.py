"""Booking a callback on the phone, whole calls through the signed webhooks as Twilio drives them:
a queued caller presses the callback key, confirms their number or keys in another, picks a
window within the Sofia office's hours, and a scheduled callback exists, booked once."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from callbacks import booking
from hotline.models import Callback
from hotline.voice.speech import audio
from tests.conftest import PUBLIC_BASE_URL, config_with, services_of
from tests.support import journeys
from tests.support.clock import set_clock
from tests.support.helpers import add_consultant
from tests.support.journeys import journal, prompt, route, stored_call, texts, verbs
from tests.support.queueing import enqueued, leaves_queue, wait_turn

SOFIA = ZoneInfo("Europe/Sofia")
MONDAY_10 = datetime(2026, 11, 30, 10, 0, tzinfo=SOFIA)
MONDAY_MORNING_WINDOWS = ("as soon as possible", "this afternoon", "tomorrow morning", "tomorrow afternoon")
CALLER = "+359888123456"  # CallerLeg's default caller ID
# Sofia keeps its packaged hours (Monday-Friday 09:00-17:30, Bulgarian holidays), so windows are
# real; Burgas is open around the clock, so the call flow (on the real clock) never finds the
# centre closed.
HOURS = """
[offices.burgas]
holidays = ""
[offices.burgas.hours]
mon = ["00:00-24:00"]
tue = ["00:00-24:00"]
wed = ["00:00-24:00"]
thu = ["00:00-24:00"]
fri = ["00:00-24:00"]
sat = ["00:00-24:00"]
sun = ["00:00-24:00"]
"""


@pytest.fixture
def extra_config() -> str:
    """More TOML for this test's configuration (see with_config())."""
    return ""


@pytest.fixture
def app_config(app_config, tmp_path, extra_config):
    return {**app_config, "HOTLINE_CONFIG": config_with(tmp_path, HOURS + extra_config, base=None)}


def with_config(toml: str):
    return pytest.mark.parametrize("extra_config", [toml], ids=["config"])


@pytest.fixture(autouse=True)
def _staffed_and_busy(app, db, languages_on_duty):
    """Every language is on duty, and the one consultant for English health questions is busy:
    callers of en-health wait in the queue."""
    add_consultant(app, db, "On a call", languages=["en", "fa"], topics=["health"], status="busy")


@pytest.fixture
def clock(monkeypatch):
    """Fix the booking's clock (the windows it offers) at a moment: clock(datetime)."""

    def set_to(moment: datetime) -> None:
        set_clock(monkeypatch, moment)

    set_to(MONDAY_10)
    return set_to


# -- helpers -----------------------------------------------------------------------------------------

def asks_for_callback(app, twilio, language: str = "en", **call_kwargs):
    """A caller queued for `language` health presses the callback key in the wait; the <Enqueue>
    action follows (QueueResult=leave), which starts the booking."""
    call = route(twilio, language, "health", **call_kwargs)
    enqueue = enqueued(call)
    expected = journeys.hears(app, _spoken(app, language), "queue_exit_callback", digit="1")
    assert expected in journeys.heard(app, wait_turn(call, enqueue))
    assert verbs(call.press("1")) == ["Leave"]
    leaves_queue(call, enqueue, "leave")
    return call


def _spoken(app, language: str) -> str:
    """The language a caller of `language` hears: Farsi's fallback where no engine speaks Farsi."""
    with app.app_context():
        return language if language != "fa" or audio.engine_for("fa") else "en"


def window_options(app, lang: str, *phrases: str) -> list[str]:
    return [prompt(app, lang, "callback_when")] + [
        prompt(app, lang, "callback_window_option", window=phrase, digit=str(digit))
        for digit, phrase in enumerate(phrases, start=1)]


def confirmation(app, lang: str, digits: str = "4 5 6") -> list[str]:
    return [prompt(app, lang, "callback_confirm_number", digits=digits, confirm="1", change="2")]


def read_back(app, lang: str, digits: str) -> str:
    return prompt(app, lang, "callback_number_read_back", digits=digits)


def booked_callbacks(db) -> list[Callback]:
    db.expire_all()
    return list(db.scalars(select(Callback).order_by(Callback.id)))


def scheduled_job_ids(app) -> list[str]:
    return services_of(app).queue().scheduled_job_registry.get_job_ids()


def callback_events(db, call) -> list[tuple[str, str | None]]:
    return [(kind, detail) for kind, detail, _ in journal(db, call) if kind.startswith("callback")]


def query_of(element: ET.Element, name: str) -> str | None:
    values = parse_qs(urlsplit(element.attrib["action"]).query).get(name)
    return values[0] if values else None


def ends_call(root: ET.Element) -> bool:
    return verbs(root)[-1] == "Hangup"


# -- from the queue: caller ID confirmed, a window chosen ------------------------------------------

def test_a_queued_caller_confirms_their_number_picks_tomorrow_morning_and_is_booked(app, db, twilio, clock):
    call = asks_for_callback(app, twilio)
    gather = call.gather()
    assert texts(call.last) == confirmation(app, "en")
    assert (gather.attrib["numDigits"], gather.attrib["actionOnEmptyResult"]) == ("1", "true")

    asked = call.press("1")
    assert texts(asked) == window_options(app, "en", *MONDAY_MORNING_WINDOWS)
    assert call.gather().attrib["actionOnEmptyResult"] == "true"

    done = call.press("3")
    assert texts(done) == [prompt(app, "en", "callback_booked", window="tomorrow morning"),
                           prompt(app, "en", "goodbye")]
    assert ends_call(done)
    [callback] = booked_callbacks(db)
    assert (callback.state, callback.number, callback.language_code) == ("scheduled", CALLER, "en")
    assert (callback.topic_code, callback.office_code) == ("health", "sofia")
    tuesday_9, tuesday_13 = datetime(2026, 12, 1, 9, tzinfo=SOFIA), datetime(2026, 12, 1, 13, tzinfo=SOFIA)
    assert (callback.window_start, callback.window_end, callback.due_at) == (tuesday_9, tuesday_13, tuesday_9)
    assert callback.first_rang_at == stored_call(db, call).started_at
    assert f"callback_{callback.id}_1_{int(tuesday_9.timestamp())}" in scheduled_job_ids(app)
    assert callback_events(db, call) == [("callback_offered", None), ("callback_number", "caller_id"),
                                         ("callback_booked", "tomorrow_morning")]
    assert stored_call(db, call).outcome == "callback"


def test_as_soon_as_possible_is_due_at_once(app, db, twilio, clock):
    call = asks_for_callback(app, twilio)
    call.press("1")
    done = call.press("1")
    assert texts(done)[0] == prompt(app, "en", "callback_booked", window="as soon as possible")
    [callback] = booked_callbacks(db)
    assert (callback.window_start, callback.due_at) == (MONDAY_10, MONDAY_10)
    assert callback.window_end == datetime(2026, 11, 30, 17, 30, tzinfo=SOFIA)
    assert ("callback_booked", "asap") in callback_events(db, call)


def test_a_retried_webhook_books_once_and_repeats_the_booking(app, db, twilio, clock):
    call = asks_for_callback(app, twilio)
    call.press("1")
    window_url = call.gather().attrib["action"]
    first = call.press("4")
    again = call.follow(window_url, Digits="4")
    other_key = call.follow(window_url, Digits="2")  # a forged or garbled retry cannot move it
    assert texts(again) == texts(other_key) == texts(first)
    [callback] = booked_callbacks(db)
    tuesday_13 = datetime(2026, 12, 1, 13, tzinfo=SOFIA)
    assert callback.window_start == tuesday_13
    assert callback_events(db, call).count(("callback_booked", "tomorrow_afternoon")) == 1
    # (Matched by its time too: another test run may share the real Redis.)
    wake_jobs = [job for job in scheduled_job_ids(app) if job.endswith(f"_{int(tuesday_13.timestamp())}")]
    # Armed once each: the callback's own wake-up and the job waking every callback due then.
    assert sorted(wake_jobs) == [f"callback_{callback.id}_1_{int(tuesday_13.timestamp())}",
                                 f"callbacks_due_{int(tuesday_13.timestamp())}"]


def test_the_offer_retried_after_booking_only_repeats_it(app, db, twilio, clock):
    call = asks_for_callback(app, twilio)
    offer_url = call.gather().attrib["action"]
    call.press("1")
    call.press("3")
    again = call.follow(offer_url, Digits="1")  # the number's answer, retried late
    assert texts(again)[0] == prompt(app, "en", "callback_booked", window="tomorrow morning")
    assert ends_call(again)
    assert len(booked_callbacks(db)) == 1
    assert callback_events(db, call).count(("callback_number", "caller_id")) == 1


def test_the_window_offered_is_kept_when_the_answer_comes_after_a_boundary(app, db, twilio, clock):
    """Asked at 12:59:50 ("this afternoon" is option 2), answered at 13:00:05: still this afternoon."""
    clock(datetime(2026, 11, 30, 12, 59, 50, tzinfo=SOFIA))
    call = asks_for_callback(app, twilio)
    asked = call.press("1")
    assert texts(asked)[2] == prompt(app, "en", "callback_window_option", window="this afternoon", digit="2")
    clock(datetime(2026, 11, 30, 13, 0, 5, tzinfo=SOFIA))
    call.press("2")
    [callback] = booked_callbacks(db)
    assert callback.window_start == datetime(2026, 11, 30, 13, tzinfo=SOFIA)


# -- silence and wrong keys ------------------------------------------------------------------------

def test_silence_or_a_wrong_key_twice_at_the_window_is_as_soon_as_possible(app, db, twilio, clock):
    call = asks_for_callback(app, twilio)
    call.press("1")
    once = call.silence()
    assert texts(once)[0] == prompt(app, "en", "no_input")
    assert texts(once)[1:] == window_options(app, "en", *MONDAY_MORNING_WINDOWS)
    twice = call.press("9")
    assert texts(twice)[0] == prompt(app, "en", "callback_booked", window="as soon as possible")
    assert booked_callbacks(db)[0].due_at == MONDAY_10


def test_a_wrong_key_then_a_right_one_at_the_window_books_the_right_one(app, db, twilio, clock):
    call = asks_for_callback(app, twilio)
    call.press("1")
    assert texts(call.press("7"))[0] == prompt(app, "en", "not_understood")
    call.press("2")
    assert booked_callbacks(db)[0].window_start == datetime(2026, 11, 30, 13, tzinfo=SOFIA)


def test_silence_twice_at_the_number_keeps_the_caller_id(app, db, twilio, clock):
    call = asks_for_callback(app, twilio)
    once = call.silence()
    assert texts(once) == [prompt(app, "en", "no_input")] + confirmation(app, "en")
    assert texts(call.silence())[0] == prompt(app, "en", "callback_when")
    assert booked_callbacks(db)[0].number == CALLER
    assert ("callback_number", "caller_id") in callback_events(db, call)


# -- another number ----------------------------------------------------------------------------------

def test_pressing_2_keys_in_another_number(app, db, twilio, clock):
    call = asks_for_callback(app, twilio)
    asked = call.press("2")
    assert texts(asked) == [prompt(app, "en", "callback_key_number")]
    call.press("0887654321")
    call.press("1")
    assert booked_callbacks(db)[0].number == "+359887654321"
    assert ("callback_number", "keyed") in callback_events(db, call)


@pytest.mark.parametrize("caller", ["anonymous", "unknown", "+359900123456", "+35924916000"])
def test_a_withheld_or_uncallable_caller_id_is_not_offered_and_a_number_is_asked_for(
        app, db, twilio, clock, caller):
    """Withheld, premium-rate, or the hotline's own number: the caller keys in a number."""
    call = asks_for_callback(app, twilio, caller=caller)
    assert texts(call.last) == [prompt(app, "en", "callback_key_number")]
    gather = call.gather()
    assert gather.attrib["finishOnKey"] == "#" and gather.attrib["timeout"] == "10"
    assert "numDigits" not in gather.attrib and gather.attrib["actionOnEmptyResult"] == "true"
    asked = call.press("0888765432")
    assert texts(asked)[:2] == [read_back(app, "en", "0 8 8 8 7 6 5 4 3 2"),
                                prompt(app, "en", "callback_when")]
    call.press("1")
    assert booked_callbacks(db)[0].number == "+359888765432"
    assert callback_events(db, call)[:2] == [("callback_offered", None), ("callback_number", "keyed")]


@pytest.mark.parametrize(("keyed", "heard"), [
    ("0888765432", "0 8 8 8 7 6 5 4 3 2"),  # a number of the office's country: as dialled there
    ("359888765432", "0 8 8 8 7 6 5 4 3 2"),  # ... however it was keyed
    ("00447911123456", "0 0 4 4 7 9 1 1 1 2 3 4 5 6"),  # abroad: with 00 and the country code
])
def test_a_keyed_number_is_read_back_digit_by_digit_before_the_windows(app, db, twilio, clock, keyed, heard):
    call = asks_for_callback(app, twilio, caller="anonymous")
    asked = call.press(keyed)
    assert texts(asked) == [read_back(app, "en", heard)] + window_options(app, "en", *MONDAY_MORNING_WINDOWS)
    assert verbs(asked) == ["Say", "Gather"]  # heard whole, before the choice (no barge-in)


@pytest.mark.parametrize("language", ["bg", "ru", "uk", "ar", "tr", "fa"])
def test_the_keyed_number_is_read_back_in_the_callers_language(app, db, twilio, clock, language):
    call = asks_for_callback(app, twilio, language=language, caller="anonymous")
    expected = journeys.hears_parts(app, language, "callback_number_read_back", digits="0 8 8 8 7 6 5 4 3 2")
    assert journeys.heard(app, call.press("0888765432"))[:len(expected)] == expected


def test_the_confirmed_caller_id_is_not_read_back_again(app, db, twilio, clock):
    call = asks_for_callback(app, twilio)
    assert texts(call.press("1"))[0] == prompt(app, "en", "callback_when")


@pytest.mark.parametrize(("keyed", "number"), [
    ("0888765432", "+359888765432"),  # national, with the trunk 0
    ("359888765432", "+359888765432"),  # the country code without 00
    ("00359888765432", "+359888765432"),
    ("029876543", "+35929876543"),  # a Sofia fixed line, nationally
    ("00447911123456", "+447911123456"),  # a British mobile
    ("380501234567", "+380501234567"),  # a Ukrainian mobile, without 00
    ("888765432", "+359888765432"),  # a national number without its 0
])
def test_keyed_numbers_are_read_in_each_form(keyed, number):
    assert booking.keyed_number(keyed, "BG") == number


@pytest.mark.parametrize("keyed", ["", "112", "12345", "0900123456", "00000000000", "*888",
                                   "99999999999999999", "024916000", "٠٨٨٨٧٦٥٤٣٢"])
def test_keyed_numbers_that_are_not_callable_are_refused(keyed):
    """Garbage, emergency and short numbers, premium rate, the hotline itself, non-ASCII digits."""
    assert booking.keyed_number(keyed, "BG", ("+35924916000",)) is None


def test_an_invalid_number_then_a_valid_one(app, db, twilio, clock):
    call = asks_for_callback(app, twilio, caller="anonymous")
    wrong = call.press("12345")
    assert texts(wrong) == [prompt(app, "en", "callback_number_invalid"),
                            prompt(app, "en", "callback_key_number")]
    assert query_of(call.gather(), "attempt") == "1"
    assert texts(call.press("0888765432"))[1] == prompt(app, "en", "callback_when")
    call.press("3")
    assert booked_callbacks(db)[0].number == "+359888765432"


def test_silence_at_the_number_is_asked_again(app, db, twilio, clock):
    call = asks_for_callback(app, twilio, caller="anonymous")
    assert texts(call.silence()) == [prompt(app, "en", "no_input"), prompt(app, "en", "callback_key_number")]


def test_three_invalid_numbers_end_the_call_politely_without_a_booking(app, db, twilio, clock):
    call = asks_for_callback(app, twilio, caller="anonymous")
    call.press("12345")
    call.press("0900123456")
    last = call.press("1")
    assert texts(last) == [prompt(app, "en", key)
                           for key in ("callback_number_invalid", "callback_number_failed", "goodbye")]
    assert ends_call(last)
    assert booked_callbacks(db) == []
    assert callback_events(db, call) == [("callback_offered", None), ("callback_not_booked", "no_number")]
    assert stored_call(db, call).outcome == "no_consultant"


def test_no_number_is_ever_journalled_or_logged(app, db, twilio, clock, caplog):
    call = asks_for_callback(app, twilio, caller="anonymous")
    call.press("0888765432")
    call.press("1")
    details = " ".join(detail or "" for _, detail, _ in journal(db, call))
    assert "888765432" not in details and "888765432" not in caplog.text


# -- other entry points and offices ----------------------------------------------------------------

@with_config("[queue]\nmax_size = 0")
def test_on_a_saturday_a_caller_who_cannot_be_queued_is_offered_monday(app, db, twilio, clock):
    clock(datetime(2026, 11, 28, 11, 0, tzinfo=SOFIA))
    call = route(twilio, "en", "health")
    assert texts(call.gather()) == [prompt(app, "en", "queue_exit_callback", digit="1")]
    call.press("1")
    asked = call.press("1")
    assert texts(asked) == window_options(app, "en", "as soon as possible", "on Monday morning",
                                          "on Monday afternoon", "on Tuesday morning")
    call.press("2")
    [callback] = booked_callbacks(db)
    monday_9 = datetime(2026, 11, 30, 9, tzinfo=SOFIA)
    assert (callback.window_start, callback.due_at) == (monday_9, monday_9)


@with_config("[queue]\nmax_size = 0")
def test_after_hours_as_soon_as_possible_is_due_at_the_next_opening(app, db, twilio, clock):
    clock(datetime(2026, 12, 23, 17, 20, tzinfo=SOFIA))  # the last minutes before Christmas
    call = route(twilio, "en", "health")
    call.press("1")
    call.press("1")
    call.press("1")
    [callback] = booked_callbacks(db)
    assert callback.due_at == datetime(2026, 12, 29, 9, tzinfo=SOFIA)


@pytest.mark.speech_engine("none")
def test_a_farsi_caller_hears_the_booking_in_the_fallback_language(app, db, twilio, clock):
    """Farsi has no voice and this machine no speech engine: prompts are spoken in English, the
    window too."""
    call = asks_for_callback(app, twilio, "fa")
    assert texts(call.last) == confirmation(app, "en")
    call.press("1")
    done = call.press("3")
    assert texts(done)[0] == prompt(app, "en", "callback_booked", window="tomorrow morning")
    assert booked_callbacks(db)[0].language_code == "fa"


def test_a_russian_caller_hears_the_weekday_in_russian(app, db, twilio, clock):
    clock(datetime(2026, 11, 30, 15, 0, tzinfo=SOFIA))
    call = asks_for_callback(app, twilio, "ru")
    asked = call.press("1")
    wednesday_morning = "в среду в первой половине дня"
    assert texts(asked)[-1] == prompt(app, "ru", "callback_window_option", window=wednesday_morning,
                                      digit="4")


# -- the webhooks themselves -------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["number", "keyed", "window"])
def test_unsigned_requests_are_refused(client, path):
    response = client.post(f"/callbacks/booking/{path}", data={"CallSid": "CA" + "1" * 32, "Digits": "1"})
    assert response.status_code == 403


def test_a_fault_while_booking_still_answers_the_caller(app, db, twilio, clock, monkeypatch):
    call = asks_for_callback(app, twilio)
    call.press("1")

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr("callbacks.schedule.confirm", broken)
    answer = call.press("1")
    assert prompt(app, "en", "technical_problem") in texts(answer) and ends_call(answer)


def test_a_window_answer_for_a_call_without_a_number_starts_the_booking(app, db, twilio, clock):
    call = route(twilio, "en", "health")
    answer = call.follow(PUBLIC_BASE_URL + "/callbacks/booking/window?attempt=0", Digits="1")
    assert texts(answer) == confirmation(app, "en")
    assert db.scalar(select(func.count()).select_from(Callback)) == 0
