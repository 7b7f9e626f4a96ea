"""Hotline's outbound calls, call updates and SMS against Prism's mock of Twilio's REST API, built
from Twilio's own OpenAPI spec: every request our code makes must be one the real API accepts.

Each test drives real code paths (routing a caller, the RQ jobs, the webhooks) with the app's
TWILIO_API_BASE_URL at the mock and no stand-in for the REST API; the only addition is a
recording TwilioHttpClient, so that a test can read what was sent and what came back.
"""
from __future__ import annotations

import dataclasses
import re

import pytest
import requests
from sqlalchemy import select
from twilio.base import values
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from callbacks import schedule, sms
from hotline.models import Call, CallbackAttempt, Staff, utcnow
from routing import offers
from tests.conftest import PUBLIC_BASE_URL, services_of
from tests.contract.recording import RecordingHttpClient
from tests.support.helpers import add_consultant, add_staff_with_token
from tests.support.journeys import hang_up, journal, prompt, route, stored_call, texts
from tests.support.placing import CALLER, Leg, attempts_of, booked, reread
from tests.support.queueing import RungConsultant, enqueued, entry_of, run_jobs

CALL_SID = re.compile(r"^CA[0-9a-fA-F]{32}$")
ACCOUNT = "AC" + "0" * 32
# Twilio's path patterns refuse this account sid (^AC[0-9a-fA-F]{32}$): every request gets a 422.
REFUSED_ACCOUNT = "AC" + "z" * 32


@pytest.fixture(autouse=True)
def _languages_on_duty(languages_on_duty):
    return languages_on_duty


def _waiting_caller(app, db, twilio):
    """A caller queued for English x health while Maria, the one consultant who could take them,
    was busy. Returns (caller, Maria)."""
    maria = add_consultant(app, db, "Maria", languages=["en"], topics=["health"], status="busy")
    call = route(twilio, "en", "health")
    enqueued(call)
    run_jobs(app)  # the caller's own pairing job: nobody free yet
    return call, maria


def _set_available(db, staff: Staff) -> None:
    db.expire_all()
    db.get(Staff, staff.id).status = "available"
    db.commit()


def _refuse_everything(app) -> None:
    """From now on the app's requests name an account sid the spec refuses: Twilio answers 4xx."""
    hotline = services_of(app)
    hotline.settings = dataclasses.replace(hotline.settings, twilio_account_sid=REFUSED_ACCOUNT)


def _accepted(exchange) -> None:
    assert exchange.status in (200, 201), f"{exchange.path} answered {exchange.status}: {exchange.answer}"


# -- ringing a consultant for a waiting caller -----------------------------------------------------

def test_a_consultant_rung_for_a_waiting_caller(app, db, twilio, twilio_rest):
    call, maria = _waiting_caller(app, db, twilio)
    assert twilio_rest.created_calls() == []
    _set_available(db, maria)
    with app.app_context(), services_of(app).db.session() as session:
        assert offers.find_consultant(session, entry_of(db, call).id).id == maria.id

    [ring] = twilio_rest.created_calls()
    _accepted(ring)
    assert ring.status == 201 and CALL_SID.match(ring.sid)
    assert ring.data["To"] == maria.phone and ring.data["From"] == "+35924916000"
    assert ring.data["Url"].startswith(PUBLIC_BASE_URL + "/ivr/whisper?")
    assert ring.data["StatusCallback"].startswith(PUBLIC_BASE_URL + "/ivr/queue/offer-status?")
    assert entry_of(db, call).offer_leg_sid == ring.sid  # the sid Twilio returned is kept
    assert ("offered", None, maria.id) in journal(db, call)


def test_a_consultant_accepting_redirects_the_caller_to_the_conference(app, db, client, twilio, twilio_rest):
    call, maria = _waiting_caller(app, db, twilio)
    _, token = add_staff_with_token(app, db, "Supervisor")
    response = client.put(f"/api/consultants/{maria.id}/status", json={"status": "available"},
                          headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    run_jobs(app)  # offer_next_caller: Maria's phone rung through the REST API
    [ring] = twilio_rest.created_calls()
    _accepted(ring)

    consultant = RungConsultant(twilio, ring)
    consultant.answer()
    joined = consultant.press("1")
    assert joined.find("Dial/Conference").text == f"hotline-{call.call_sid}"
    [redirect] = twilio_rest.updates_of(call.call_sid)
    _accepted(redirect)
    assert redirect.data == {"Url": PUBLIC_BASE_URL + "/ivr/queue/bridge", "Method": "POST"}
    assert stored_call(db, call).stage == "connected"
    assert [kind for kind, _, _ in journal(db, call)][-2:] == ["accepted", "bridged"]


def test_a_caller_hanging_up_while_their_consultant_is_rung_cancels_that_leg(app, db, twilio, twilio_rest):
    call, maria = _waiting_caller(app, db, twilio)
    _set_available(db, maria)
    with app.app_context(), services_of(app).db.session() as session:
        offers.find_consultant(session, entry_of(db, call).id)
    [ring] = twilio_rest.created_calls()

    hang_up(call)
    [cancel] = twilio_rest.updates_of(ring.sid)
    _accepted(cancel)
    assert cancel.data == {"Status": "canceled"}  # accepted: no second try with "completed"


# -- placing a callback -----------------------------------------------------------------------------

def _wake(app, callback) -> None:
    with app.app_context(), services_of(app).db.session() as session:
        schedule.wake(session, callback.id, utcnow())
    run_jobs(app)


def test_a_callback_rings_the_consultant_then_dials_the_caller_with_amd(app, db, twilio, twilio_rest):
    maria = add_consultant(app, db, "Maria", languages=["ru"], topics=["health"])
    callback = booked(db)
    _wake(app, callback)

    [ring] = twilio_rest.created_calls()
    _accepted(ring)
    assert ring.data["To"] == maria.phone and "/callbacks/whisper" in ring.data["Url"]
    [attempt] = db.scalars(select(CallbackAttempt).where(CallbackAttempt.callback_id == callback.id))
    assert attempt.consultant_leg_sid == ring.sid

    consultant = Leg(twilio, ring)
    consultant.answer()
    consultant.press("1")
    [_, dial] = twilio_rest.created_calls()
    _accepted(dial)
    assert dial.data["To"] == CALLER and dial.data["From"] == "+35924916000"
    assert dial.data["MachineDetection"] == "Enable" and dial.data["Timeout"] == "30"
    db.expire_all()
    assert db.get(CallbackAttempt, attempt.id).caller_leg_sid == dial.sid
    returned = db.scalar(select(Call).where(Call.call_sid == dial.sid))
    assert returned.original_call_id == callback.call_id and returned.direction == "outbound-api"
    assert reread(db, callback).state == "in_progress"


def test_a_caller_not_reached_is_told_to_the_consultant_by_updating_their_leg(app, db, twilio, twilio_rest):
    add_consultant(app, db, "Maria", languages=["ru"], topics=["health"])
    callback = booked(db)
    _wake(app, callback)
    [ring] = twilio_rest.created_calls()
    consultant = Leg(twilio, ring)
    consultant.answer()
    consultant.press("1")
    [_, dial] = twilio_rest.created_calls()

    Leg(twilio, dial).ends("busy")
    [told] = twilio_rest.updates_of(ring.sid)
    _accepted(told)
    assert told.data["Url"].startswith(PUBLIC_BASE_URL + "/callbacks/not-reached")
    assert told.data["Method"] == "POST"
    assert [outcome for _, _, outcome in attempts_of(db, callback)] == ["caller_busy"]
    assert reread(db, callback).state == "scheduled"  # retried later


def test_every_leg_gets_its_own_sid_as_hotlines_unique_constraints_need(app, db, twilio, twilio_rest):
    """calls.call_sid and callback_attempts.caller_leg_sid are unique, as Twilio's sids are. The
    spec's example answer has one sid for every call: the mock runs in dynamic mode (prism.py)."""
    add_consultant(app, db, "Maria", languages=["ru"], topics=["health"])
    add_consultant(app, db, "Ivan", languages=["ru"], topics=["health"])
    first, second = booked(db), booked(db, number="+359888765433")
    _wake(app, first)
    _wake(app, second)
    for ring in twilio_rest.created_calls()[:2]:
        leg = Leg(twilio, ring)
        leg.answer()
        leg.press("1")
    sids = [exchange.sid for exchange in twilio_rest.created_calls()]
    assert len(sids) == 4 and len(set(sids)) == 4 and all(CALL_SID.match(sid) for sid in sids)
    db.expire_all()
    assert sorted(db.scalars(select(CallbackAttempt.caller_leg_sid).where(
        CallbackAttempt.caller_leg_sid.is_not(None)))) == sorted(sids[2:])


# -- SMS --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["booked", "unreachable"])
def test_the_callers_sms_is_accepted(app, db, twilio_rest, kind):
    callback = booked(db)
    with app.app_context(), services_of(app).db.session() as session:
        assert sms.send(session, callback.id, kind) is True
    [message] = twilio_rest.messages()
    _accepted(message)
    assert message.status == 201 and re.match(r"^(SM|MM)[0-9a-fA-F]{32}$", message.answer["sid"])
    assert (message.data["To"], message.data["From"]) == (CALLER, "+35924916000")
    assert re.search("[а-я]", message.data["Body"])  # in Russian, the callback's language
    if kind == "unreachable":
        assert message.data["Body"] == prompt(app, "ru", "sms_callback_unreachable")


# -- the mock validates: negative controls ---------------------------------------------------------

def test_the_mock_refuses_a_call_without_from(prism):
    http = RecordingHttpClient()
    client = Client(ACCOUNT, "token", http_client=http)
    client.api.base_url = prism.url
    try:
        with pytest.raises(TwilioRestException) as refused:
            client.calls.create(to="+359888123456", from_=values.unset, url=PUBLIC_BASE_URL + "/ivr/whisper")
        assert refused.value.status == 422
        [missing] = http.created_calls()
        assert "From" not in missing.data
        assert "Request body must have required property 'From'" in str(missing.answer["validation"])
        # The same request with From is accepted: the 422 was about From.
        assert client.calls.create(to="+359888123456", from_="+35924916000",
                                   url=PUBLIC_BASE_URL + "/ivr/whisper").sid.startswith("CA")
    finally:
        http.session.close()


def test_the_mock_refuses_what_twilio_would(prism):
    """Raw requests, as Twilio's API sees them: no credentials, an update to a status Twilio does
    not allow, a sid that is not one."""
    calls = f"{prism.url}/2010-04-01/Accounts/{ACCOUNT}/Calls"
    sid = "CA" + "1" * 32
    with requests.Session() as http:
        no_auth = http.post(calls + ".json", data={"To": "+359888123456", "From": "+35924916000",
                                                   "Url": PUBLIC_BASE_URL + "/ivr/whisper"}, timeout=10)
        assert no_auth.status_code == 401
        http.auth = (ACCOUNT, "token")
        assert http.post(f"{calls}/{sid}.json", data={"Status": "canceled"}, timeout=10).status_code == 200
        bad_status = http.post(f"{calls}/{sid}.json", data={"Status": "in-progress"}, timeout=10)
        assert bad_status.status_code == 422 and "Status" in bad_status.text
        not_a_sid = http.post(f"{calls}/CA-not-a-sid.json", data={"Status": "canceled"}, timeout=10)
        assert not_a_sid.status_code == 422


def test_a_consultant_twilio_refuses_to_ring_leaves_the_caller_waiting_in_place(app, db, twilio, twilio_rest):
    call, maria = _waiting_caller(app, db, twilio)
    _set_available(db, maria)
    _refuse_everything(app)
    with app.app_context(), services_of(app).db.session() as session:
        assert offers.find_consultant(session, entry_of(db, call).id) is None

    [refused] = twilio_rest.created_calls()
    assert refused.status == 422
    entry = entry_of(db, call)
    assert (entry.state, entry.offered_staff_id, entry.offer_leg_sid) == ("waiting", None, None)
    assert ("not_accepted", "offer_failed", maria.id) in journal(db, call)


def test_a_redirect_twilio_refuses_tells_the_consultant_and_frees_them(app, db, twilio, twilio_rest):
    call, maria = _waiting_caller(app, db, twilio)
    _set_available(db, maria)
    with app.app_context(), services_of(app).db.session() as session:
        offers.find_consultant(session, entry_of(db, call).id)
    consultant = RungConsultant(twilio, twilio_rest.created_calls()[0])
    consultant.answer()
    _refuse_everything(app)

    heard = consultant.press("1")
    [refused] = twilio_rest.updates_of(call.call_sid)
    assert refused.status == 422
    # Maria lists English only, so she is told in English (hotline.voice.speaking.staff_language).
    assert texts(heard) == [prompt(app, "en", "caller_gone")] and heard.find("Hangup") is not None
    db.expire_all()
    assert db.get(Staff, maria.id).current_call_sid is None


def test_a_callback_consultant_twilio_refuses_to_ring_is_a_failed_attempt(app, db, twilio, twilio_rest):
    maria = add_consultant(app, db, "Maria", languages=["ru"], topics=["health"])
    callback = booked(db)
    _refuse_everything(app)
    _wake(app, callback)
    assert [exchange.status for exchange in twilio_rest.created_calls()] == [422]
    assert attempts_of(db, callback) == [(1, maria.id, "failed")]
    assert reread(db, callback).state == "due"  # still waiting for a consultant, its place kept
