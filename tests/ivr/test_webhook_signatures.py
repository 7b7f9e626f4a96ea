"""Only Twilio may drive a call: every webhook checks X-Twilio-Signature against PUBLIC_BASE_URL
(so it still validates behind a TLS-terminating proxy), and refuses anything else with 403."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from hotline.models import Call
from tests.conftest import AUTH_TOKEN, PUBLIC_BASE_URL
from tests.support.helpers import new_call

WEBHOOKS = ["/ivr/voice", "/ivr/language?attempt=0", "/ivr/topic?attempt=1", "/ivr/dial-result",
            "/ivr/whisper?call=CA1&staff=1", "/ivr/whisper/answer?call=CA1&staff=1", "/ivr/status"]


def _params(**extra: str) -> dict[str, str]:
    params = {"CallSid": "CA" + "1" * 32, "AccountSid": "AC" + "0" * 32, "From": "+359888123456",
              "To": "+35924916000", "CallStatus": "in-progress", "Direction": "inbound", "Digits": "2"}
    params.update(extra)
    return params


def _signature(url: str, params: dict[str, str], token: str = AUTH_TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, params)


def _post(client, path: str, params: dict[str, str], signature: str | None, **kwargs):
    headers = {"X-Twilio-Signature": signature} if signature is not None else {}
    return client.post(path, data=params, headers=headers, **kwargs)


def _calls(db) -> int:
    return db.scalar(select(func.count()).select_from(Call))


@pytest.mark.parametrize("path", WEBHOOKS)
def test_every_webhook_refuses_an_unsigned_request(client, path):
    assert _post(client, path, _params(), None).status_code == 403


@pytest.mark.parametrize("path", WEBHOOKS)
def test_every_webhook_accepts_a_request_signed_for_its_public_url(client, path):
    params = _params()
    assert _post(client, path, params, _signature(PUBLIC_BASE_URL + path, params)).status_code == 200


@pytest.mark.parametrize("signature", ["", "bm90LWl0", "x" * 28, "=="])
def test_a_garbage_signature_is_refused(client, signature):
    assert _post(client, "/ivr/voice", _params(), signature).status_code == 403


def test_a_signature_made_with_another_token_is_refused(db, client):
    params = _params()
    forged = _signature(PUBLIC_BASE_URL + "/ivr/voice", params, token="someone-elses-token")
    assert _post(client, "/ivr/voice", params, forged).status_code == 403
    assert _calls(db) == 0


@pytest.mark.parametrize("signed_path, sent_path", [
    ("/ivr/topic?attempt=0", "/ivr/language?attempt=0"),
    ("/ivr/language?attempt=0", "/ivr/language?attempt=2"),
    ("/ivr/language?attempt=0", "/ivr/language"),
    ("/ivr/whisper/answer?call=CA1&staff=1", "/ivr/whisper/answer?call=CA1&staff=2"),
])
def test_a_signature_for_another_url_is_refused(client, signed_path, sent_path):
    params = _params()
    signature = _signature(PUBLIC_BASE_URL + signed_path, params)
    assert _post(client, sent_path, params, signature).status_code == 403


@pytest.mark.parametrize("tamper", [
    lambda params: params.update(Digits="1"),
    lambda params: params.update(From="+359899999999"),
    lambda params: params.update(Extra="1"),
    lambda params: params.pop("To"),
])
def test_parameters_changed_after_signing_are_refused(db, client, tamper):
    params = _params()
    signature = _signature(PUBLIC_BASE_URL + "/ivr/voice", params)
    tamper(params)
    assert _post(client, "/ivr/voice", params, signature).status_code == 403
    assert _calls(db) == 0


def test_behind_a_proxy_the_public_url_is_what_is_validated(db, client):
    # The proxy terminates TLS and forwards to http://10.0.0.5:8000: request.url is not what Twilio signed.
    params = _params()
    public = _signature(PUBLIC_BASE_URL + "/ivr/voice", params)
    internal = _signature("http://10.0.0.5:8000/ivr/voice", params)
    assert _post(client, "/ivr/voice", params, public, base_url="http://10.0.0.5:8000").status_code == 200
    assert _post(client, "/ivr/voice", params, internal, base_url="http://10.0.0.5:8000").status_code == 403
    assert _calls(db) == 1


def test_urls_given_to_twilio_are_public_even_when_the_request_came_through_a_proxy(client):
    params = _params()
    answer = _post(client, "/ivr/voice", params, _signature(PUBLIC_BASE_URL + "/ivr/voice", params),
                   base_url="http://10.0.0.5:8000")
    assert 'action="https://hotline.example.org/ivr/language?attempt=0"' in answer.get_data(as_text=True)


def test_a_signature_computed_with_the_https_port_is_accepted(client):
    params = _params()
    signature = _signature("https://hotline.example.org:443/ivr/voice", params)
    assert _post(client, "/ivr/voice", params, signature).status_code == 200


def test_a_signed_get_is_accepted(client):
    path = "/ivr/voice?CallSid=CA42&From=%2B359888123456&To=%2B35924916000"
    response = client.get(path, headers={"X-Twilio-Signature": _signature(PUBLIC_BASE_URL + path, {})})
    assert response.status_code == 200


def test_the_call_flow_simulator_signs_like_twilio(twilio):
    call = new_call(twilio)
    assert twilio.request(call.voice_url, call.base_params(), signed=True)[0] == 200
    assert twilio.request(call.voice_url, call.base_params(), signed=False)[0] == 403
