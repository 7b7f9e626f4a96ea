"""A consultant who does not take the call (no answer, declined whisper, silence) is released
and the next one is rung; nobody is offered the same call twice, and after max_consultant_attempts
the caller is told that everybody is busy.

These run on a hotline configured without a queue and with missed offers leaving the consultant
available (missed_offer_status = ""): the live routing on its own. The queue and the default
(a missed offer puts the consultant on break) are tested in test_queue_*.py."""
from __future__ import annotations

import pytest

from hotline.dev.twilio_stand_in import ConsultantLeg
from tests.conftest import config_with
from tests.support.helpers import add_consultant
from tests.support.journeys import (
    answer_and_press,
    dialled,
    journal,
    offered_to,
    prompt,
    route,
    status_of,
    stored_call,
    texts,
    verbs,
)


@pytest.fixture
def app_config(app_config, tmp_path):
    return {**app_config,
            "HOTLINE_CONFIG": config_with(tmp_path, '[queue]\nmax_size = 0\nmissed_offer_status = ""')}


def _two_consultants(app, db):
    first = add_consultant(app, db, "First", idle_minutes=30)
    second = add_consultant(app, db, "Second", idle_minutes=10)
    return first, second


def _expect_next(app, db, call, answer, released, next_one) -> None:
    assert texts(answer)[0] == prompt(app, "en", "trying_next")
    assert dialled(call) == next_one.phone
    assert status_of(db, released) == ("available", None)
    assert status_of(db, next_one) == ("offered", call.call_sid)
    assert offered_to(db, call) == [released.id, next_one.id]


@pytest.mark.parametrize("dial_status", ["no-answer", "busy", "failed", "canceled"])
def test_an_unanswered_consultant_is_released_and_the_next_is_rung(app, db, twilio, dial_status):
    first, second = _two_consultants(app, db)
    call = route(twilio)
    assert dialled(call) == first.phone
    answer = call.dial_ends(dial_status)
    _expect_next(app, db, call, answer, first, second)
    assert ("not_accepted", dial_status, first.id) in journal(db, call)


@pytest.mark.parametrize("key", ["2", "9", None])
def test_a_declined_whisper_releases_the_consultant_and_the_next_is_rung(app, db, twilio, key):
    first, second = _two_consultants(app, db)
    call = route(twilio)
    declined = answer_and_press(call, key)
    assert texts(declined) == [prompt(app, "en", "whisper_declined")]  # the language she lists
    assert verbs(declined) == ["Say", "Hangup"]
    assert ("declined", None, first.id) in journal(db, call)
    answer = call.dial_ends("completed")
    _expect_next(app, db, call, answer, first, second)


def test_nobody_is_offered_the_same_call_twice(app, db, twilio):
    first, second = _two_consultants(app, db)
    call = route(twilio)
    call.dial_ends("no-answer")
    answer = call.dial_ends("no-answer")
    # The first consultant is free again, but has already let this call go.
    assert status_of(db, first) == ("available", None)
    assert dialled(call) is None
    assert texts(answer)[0] == prompt(app, "en", "trying_next")
    assert answer.find("Hangup") is not None
    assert offered_to(db, call) == [first.id, second.id]
    assert stored_call(db, call).outcome == "no_consultant"


def test_at_most_max_consultant_attempts_are_rung(app, db, twilio):
    limit = app.extensions["hotline"].catalogue.max_consultant_attempts
    staff = [add_consultant(app, db, f"C{n}", idle_minutes=100 - n) for n in range(limit + 1)]
    call = route(twilio)
    for _ in range(limit):
        call.dial_ends("no-answer")
    assert offered_to(db, call) == [s.id for s in staff[:limit]]
    assert dialled(call) is None and call.last.find("Hangup") is not None
    assert status_of(db, staff[limit]) == ("available", None)


def test_accepting_connects_and_the_consultant_is_busy_then_wrapping_up(app, db, twilio):
    first, _ = _two_consultants(app, db)
    call = route(twilio)
    bridged = answer_and_press(call, "1")
    assert verbs(bridged) == []  # an empty <Response/> bridges the two legs
    assert status_of(db, first) == ("busy", call.call_sid)
    stored = stored_call(db, call)
    assert (stored.consultant_id, stored.stage) == (first.id, "connected")
    assert ("accepted", None, first.id) in journal(db, call)
    after = call.dial_ends("completed", duration=200, bridged=True)
    assert texts(after) == [prompt(app, "en", "goodbye")] and after.find("Hangup") is not None
    assert status_of(db, first) == ("wrap_up", None)


def test_a_key_pressed_after_the_ringing_gave_up_does_not_take_the_call(app, db, twilio):
    first, second = _two_consultants(app, db)
    call = route(twilio)
    late = ConsultantLeg.from_dial(call)
    late.answer()
    call.dial_ends("no-answer")  # Twilio gave up on the first phone; the second now rings
    answer = late.press("1")
    assert answer.find("Hangup") is not None
    assert status_of(db, first) == ("available", None)
    assert status_of(db, second) == ("offered", call.call_sid)
    assert stored_call(db, call).consultant_id is None


def test_a_declined_consultant_keeps_their_place_in_the_idle_order(app, db, twilio):
    first, second = _two_consultants(app, db)
    call = route(twilio)
    answer_and_press(call, "2")
    call.dial_ends("completed")
    assert dialled(route(twilio)) == first.phone
