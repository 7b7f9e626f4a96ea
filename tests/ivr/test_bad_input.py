"""Whatever a signed webhook carries, Twilio gets 200 and valid TwiML (a 500 or an empty body is
"an application error has occurred" in the caller's ear): missing and garbage parameters, unknown
calls and staff. Garbage a caller can type is a wrong key, not a technical problem."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from tests.conftest import PUBLIC_BASE_URL
from tests.support.helpers import add_consultant, new_call, to_topic_menu
from tests.support.journeys import attempt_of, prompt, route, stored_call, texts

GARBAGE_NUMBERS = ["abc", "-1", "", "1.5", "²", "1e3", " 7", "0x1", "99999999999999999999999"]


def _post(twilio, path: str, **params: str) -> ET.Element:
    """A signed webhook request; it must be answered 200 with a <Response>."""
    status, body = twilio.request(PUBLIC_BASE_URL + path, params)
    assert status == 200, body[:300]
    root = ET.fromstring(body)
    assert root.tag == "Response"
    return root


def _no_technical_problem(app, root: ET.Element) -> None:
    assert prompt(app, "en", "technical_problem") not in texts(root)


@pytest.mark.parametrize("path", ["/ivr/voice", "/ivr/language", "/ivr/topic", "/ivr/dial-result"])
def test_a_caller_webhook_without_call_sid_gets_an_apology(app, twilio, path):
    answer = _post(twilio, path, From="+359888123456", To="+35924916000", Digits="1")
    assert prompt(app, "en", "technical_problem") in texts(answer)
    assert answer.find("Hangup") is not None


@pytest.mark.parametrize("path", ["/ivr/whisper", "/ivr/whisper/answer", "/ivr/status"])
def test_other_webhooks_without_any_parameter_answer_valid_twiml(twilio, path):
    _post(twilio, path)


@pytest.mark.parametrize("digits", ["#*9x", "#", "*", "x", "  ", "٣٣"])
def test_garbage_digits_in_the_language_menu_are_a_wrong_key(app, twilio, digits):
    call = new_call(twilio)
    call.ring()
    answer = call.press(digits)
    _no_technical_problem(app, answer)
    assert answer.find("Gather") is not None


def test_garbage_digits_in_the_topic_menu_are_a_wrong_key(app, twilio):
    call = to_topic_menu(twilio)
    answer = call.press("#*9x")
    assert texts(answer)[0] == prompt(app, "en", "not_understood")
    assert attempt_of(answer.find("Gather")) == 1


@pytest.mark.parametrize("attempt", GARBAGE_NUMBERS)
def test_a_garbage_attempt_is_still_a_menu_not_a_technical_problem(app, db, twilio, attempt):
    call = new_call(twilio)
    call.ring()
    answer = _post(twilio, f"/ivr/language?attempt={attempt}", **call.base_params(Digits="9"))
    _no_technical_problem(app, answer)
    assert answer.find("Hangup") is None
    assert answer.find("Gather") is not None  # asked again, or the topic menu after the default


@pytest.mark.parametrize("attempt", GARBAGE_NUMBERS)
def test_a_garbage_attempt_in_the_topic_menu_is_still_a_menu(app, twilio, attempt):
    call = to_topic_menu(twilio)
    answer = _post(twilio, f"/ivr/topic?attempt={attempt}", **call.base_params(Digits="#"))
    _no_technical_problem(app, answer)


@pytest.mark.parametrize("endpoint", ["/ivr/whisper", "/ivr/whisper/answer"])
@pytest.mark.parametrize("staff", ["999999", "abc", "", "-1", "²", "99999999999999999999999"])
def test_an_unknown_staff_id_in_the_whisper_url_hangs_up_the_consultant_leg(app, db, twilio, endpoint, staff):
    consultant = add_consultant(app, db, "Real")
    call = route(twilio)
    answer = _post(twilio, f"{endpoint}?call={call.call_sid}&staff={staff}", CallSid="CAleg", Digits="1",
                   ParentCallSid=call.call_sid)
    assert [child.tag for child in answer] == ["Hangup"]
    db.expire_all()
    assert stored_call(db, call).answered_at is None
    assert db.get(type(consultant), consultant.id).status == "offered"


@pytest.mark.parametrize("endpoint", ["/ivr/whisper", "/ivr/whisper/answer"])
def test_an_unknown_call_in_the_whisper_url_hangs_up_the_consultant_leg(app, db, twilio, endpoint):
    consultant = add_consultant(app, db, "Real")
    answer = _post(twilio, f"{endpoint}?call=CAnothing&staff={consultant.id}", CallSid="CAleg", Digits="1")
    assert [child.tag for child in answer] == ["Hangup"]


def test_a_status_callback_for_an_unknown_call_is_answered_empty(twilio):
    answer = _post(twilio, "/ivr/status", CallSid="CAunknown", CallStatus="completed", CallDuration="12")
    assert list(answer) == []


@pytest.mark.parametrize("duration", GARBAGE_NUMBERS)
def test_a_garbage_call_duration_still_closes_the_call(db, twilio, duration):
    call = new_call(twilio)
    call.ring()
    answer = _post(twilio, "/ivr/status", **call.base_params(CallStatus="completed", CallDuration=duration))
    assert list(answer) == []
    stored = stored_call(db, call)
    assert stored.outcome == "abandoned" and stored.duration_seconds is None


@pytest.mark.parametrize("call_status", ["exploded", "", "ringing", "in-progress"])
def test_a_status_that_is_not_final_leaves_the_call_open(db, twilio, call_status):
    call = new_call(twilio)
    call.ring()
    _post(twilio, "/ivr/status", **call.base_params(CallStatus=call_status))
    assert stored_call(db, call).ended_at is None


def test_a_dial_result_without_a_status_tries_the_next_consultant(app, db, twilio):
    add_consultant(app, db, "First", idle_minutes=10)
    second = add_consultant(app, db, "Second")
    call = route(twilio)
    answer = _post(twilio, "/ivr/dial-result", **call.base_params())
    assert answer.find("Dial/Number").text == second.phone


@pytest.mark.parametrize("path", ["/ivr/queue/wait", "/ivr/queue/key", "/ivr/queue/left",
                                  "/ivr/queue/way-out", "/ivr/queue/bridge", "/ivr/alternatives"])
def test_a_queue_webhook_without_call_sid_gets_an_apology(app, twilio, path):
    answer = _post(twilio, path, QueueResult="leave", Digits="1")
    assert prompt(app, "en", "technical_problem") in texts(answer)


@pytest.mark.parametrize("query", ["", "?entry=abc&staff=-1", "?entry=99999999999999999999&staff=1",
                                   "?entry=1&staff=1"])
def test_a_consultant_leg_status_with_garbage_or_unknown_ids_is_answered_empty(twilio, query):
    answer = _post(twilio, "/ivr/queue/offer-status" + query, CallSid="CA" + "9" * 32, CallStatus="no-answer")
    assert list(answer) == []


def test_a_fault_in_the_wait_loop_keeps_the_caller_waiting(app, twilio, monkeypatch):
    call = route(twilio, "en", "health")  # nobody on duty for health: queued
    enqueue = call.last.find("Enqueue")

    def broken(*_args):
        raise RuntimeError("database went away")

    monkeypatch.setattr("ivr.on_hold.wait", broken)
    turn = call.follow(enqueue.attrib["waitUrl"], QueuePosition="1", QueueTime="5")
    assert [child.tag for child in turn] == ["Pause"]  # not an apology and a hangup
