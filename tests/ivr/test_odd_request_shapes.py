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
from tests.helpers import new_call
from tests.journeys import prompt, texts


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
