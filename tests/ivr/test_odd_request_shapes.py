"""Odd but well-formed webhook requests: repeated keys, NUL characters, parameters longer than any
Twilio sends. A genuine one gets valid TwiML and goes on as the caller meant; a forged one 403;
nothing reaches the database that it cannot store (PostgreSQL refuses NULs and over-long text)."""
from __future__ import annotations

import logging
import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from hotline.models import Call
from tests.conftest import AUTH_TOKEN, PUBLIC_BASE_URL
from tests.support.helpers import new_call
from tests.support.journeys import prompt, route, stored_call, texts


def _signed_post(client, path: str, params: MultiDict, token: str = AUTH_TOKEN):
    """POST `params` (repeated keys kept) signed as Twilio signs them: RequestValidator reads a
    MultiDict's every value."""
    signature = RequestValidator(token).compute_signature(PUBLIC_BASE_URL + path, params)
    return client.post(path, data=params, headers={"X-Twilio-Signature": signature})


def _twiml(response) -> ET.Element:
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    root = ET.fromstring(response.get_data(as_text=True))
    assert root.tag == "Response"
    return root


def _no_errors_logged(caplog) -> None:
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


# -- repeated keys ---------------------------------------------------------------------------------

def test_a_genuine_request_with_a_repeated_key_is_answered(app, client, twilio, caplog):
    call = new_call(twilio)
    call.ring()
    params = MultiDict(call.base_params())
    params.add("Digits", "2")
    params.add("Digits", "3")
    answer = _twiml(_signed_post(client, "/ivr/language?attempt=0", params))
    assert prompt(app, "en", "technical_problem") not in texts(answer)
    assert answer.find("Gather") is not None  # the first value (English) chosen: the topic menu
    _no_errors_logged(caplog)


def test_a_forged_request_with_a_repeated_key_is_refused(client, twilio, db):
    call = new_call(twilio)
    params = MultiDict(call.base_params())
    params.add("Digits", "2")
    params.add("Digits", "3")
    forged = _signed_post(client, "/ivr/voice", params, token="someone-elses-token")
    assert forged.status_code == 403
    # Signed with one value, sent with two: also forged.
    single = MultiDict(call.base_params(Digits="2"))
    signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_BASE_URL + "/ivr/voice", single)
    sent = client.post("/ivr/voice", data=params, headers={"X-Twilio-Signature": signature})
    assert sent.status_code == 403
    assert db.scalar(select(func.count()).select_from(Call)) == 0


@pytest.mark.parametrize("path", ["/ivr/status", "/callbacks/caller-status?attempt=1",
                                  "/callbacks/booking/number?attempt=0"])
def test_a_repeated_key_is_validated_on_every_blueprint(client, twilio, path):
    params = MultiDict(new_call(twilio).base_params(CallStatus="completed"))
    params.add("CallStatus", "busy")
    assert _signed_post(client, path, params).status_code == 200
    assert _signed_post(client, path, params, token="someone-elses-token").status_code == 403


# -- NUL characters and over-long parameters -------------------------------------------------------

def _calls(db) -> list[Call]:
    db.expire_all()
    return list(db.scalars(select(Call)))


def test_a_nul_in_the_digits_is_dropped_and_the_choice_stands(app, twilio, caplog):
    call = new_call(twilio)
    call.ring()
    answer = call.follow(call.gather().attrib["action"], Digits="2\x00")
    assert prompt(app, "en", "topic_intro") in texts(answer)
    _no_errors_logged(caplog)


@pytest.mark.parametrize("call_sid", ["CA" + "a" * 100, "CA" + "a" * 31 + "\x00", "CA\x00" + "a" * 32,
                                      "callback-1-1", "CA" + "g" * 32, "x" * 10_000])
def test_a_call_sid_not_of_twilios_shape_is_never_stored(app, db, twilio, caplog, call_sid):
    answer = twilio.twiml(PUBLIC_BASE_URL + "/ivr/voice", new_call(twilio, call_sid=call_sid).base_params())
    assert answer.find("Hangup") is not None  # the apology: a call we cannot keep track of
    assert _calls(db) == []
    _no_errors_logged(caplog)


@pytest.mark.parametrize("name, value", [("From", "+359888123456\x00"), ("To", "\x00+35924916000"),
                                         ("Direction", "inbound" * 10), ("Direction", "in\x00bound"),
                                         ("CallStatus", "ringing" * 10), ("CallerName", "\x00" * 5),
                                         ("AccountSid", "AC" + "0" * 1000), ("Evil\x00Name", "1")])
def test_nul_characters_and_over_long_values_are_cleaned_before_the_database(app, db, twilio, caplog,
                                                                             name, value):
    call = new_call(twilio)
    answer = twilio.twiml(call.voice_url, call.base_params(**{name: value}))
    assert prompt(app, "en", "technical_problem") not in texts(answer)
    stored = stored_call(db, call)
    assert stored.caller_number == "+359888123456" and stored.called_number == "+35924916000"
    assert "\x00" not in stored.direction and len(stored.direction) <= 16
    assert len(stored.twilio_status or "") <= 16
    _no_errors_logged(caplog)


@pytest.mark.parametrize("queue_result", ["leave" * 20, "hangup\x00", "exploded", ""])
def test_an_odd_queue_result_is_an_error_result_not_a_fault(app, db, twilio, caplog, queue_result):
    call = route(twilio, "en", "health")  # nobody on duty for health: queued
    answer = call.follow(call.last.find("Enqueue").attrib["action"], QueueResult=queue_result)
    assert prompt(app, "en", "technical_problem") not in texts(answer)
    _no_errors_logged(caplog)


@pytest.mark.parametrize("endpoint", ["/ivr/whisper", "/ivr/whisper/answer"])
def test_a_nul_in_the_whisper_url_or_parent_call_sid_is_an_unknown_call(twilio, caplog, endpoint):
    call = route(twilio)
    answer = twilio.twiml(f"{PUBLIC_BASE_URL}{endpoint}?call=CA%00{call.call_sid[3:]}&staff=1",
                          {"CallSid": "CA" + "9" * 32, "ParentCallSid": "\x00", "Digits": "1\x00"})
    assert [child.tag for child in answer] == ["Hangup"]
    _no_errors_logged(caplog)


@pytest.mark.parametrize("path", ["/ivr/status", "/ivr/queue/offer-status?entry=1&staff=1",
                                  "/callbacks/caller-status?attempt=1",
                                  "/callbacks/consultant-status?attempt=1", "/callbacks/answered?attempt=1",
                                  "/callbacks/booking/keyed?attempt=0"])
def test_status_callbacks_with_nuls_and_long_values_are_answered(twilio, caplog, path):
    call = route(twilio)
    params = call.base_params(CallStatus="completed\x00", CallDuration="1" * 5000, AnsweredBy="human\x00",
                              Digits="0888123456\x00" * 50)
    twilio.twiml(PUBLIC_BASE_URL + path, params)
    _no_errors_logged(caplog)
