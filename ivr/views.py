"""Twilio's webhooks for the call flow. Each parses the request, calls the flow, answers TwiML.

Whatever goes wrong, Twilio gets valid TwiML (never a 500 or an empty body, which a caller hears
as "an application error has occurred"); only a forged or unsigned request gets a 403.
"""
from __future__ import annotations

from flask import Blueprint, request
from sqlalchemy import select
from twilio.twiml.voice_response import VoiceResponse

import routing
from hotline import calls, services
from hotline.models import Staff
from hotline.telephony import answer_faults_with_twiml, twilio_webhook, twiml
from ivr import flow, queue_flow, whisper
from ivr.menus import speak_to_unknown_language

blueprint = Blueprint("ivr", __name__, url_prefix="/ivr")


def _params() -> dict[str, str]:
    return {key: value for key, value in request.values.items()}


def _whole_number(raw: str | None) -> int | None:
    """A non-negative whole number small enough for any INTEGER column, or None for anything else
    ("²".isdigit() is true, yet int() refuses it: isdecimal() is what int() accepts)."""
    raw = raw or ""
    return int(raw) if raw.isdecimal() and len(raw) <= 9 else None


def _attempt() -> int:
    return min(_whole_number(request.args.get("attempt")) or 0, 99)


def _caller_call(params: dict[str, str]):
    """The call this caller-side webhook belongs to; re-created if its row was somehow lost."""
    if not params.get("CallSid"):
        return None
    return calls.open_call(services.session(), services.catalogue(), params)


def _apology() -> VoiceResponse:
    resp = VoiceResponse()
    speak_to_unknown_language(resp, "technical_problem")
    resp.hangup()
    return resp


@blueprint.route("/voice", methods=["GET", "POST"])
@twilio_webhook
def voice():
    """Twilio's Voice URL: a new call. Greet, then the language menu."""
    call = _caller_call(_params())
    return twiml(flow.greet(call) if call else _apology())


@blueprint.route("/language", methods=["GET", "POST"])
@twilio_webhook
def language():
    params = _params()
    call = _caller_call(params)
    if call is None:
        return twiml(_apology())
    return twiml(flow.on_language(services.session(), call, params.get("Digits"), params.get("SpeechResult"),
                                  _attempt()))


@blueprint.route("/topic", methods=["GET", "POST"])
@twilio_webhook
def topic():
    params = _params()
    call = _caller_call(params)
    if call is None:
        return twiml(_apology())
    return twiml(flow.on_topic(services.session(), call, params.get("Digits"), params.get("SpeechResult"),
                               _attempt()))


@blueprint.route("/dial-result", methods=["GET", "POST"])
@twilio_webhook
def dial_result():
    params = _params()
    call = _caller_call(params)
    if call is None:
        return twiml(_apology())
    return twiml(flow.on_dial_result(services.session(), call, params.get("DialCallStatus")))


@blueprint.route("/alternatives", methods=["GET", "POST"])
@twilio_webhook
def alternatives():
    """The caller's answer to "nobody who speaks your language is on duty"."""
    params = _params()
    call = _caller_call(params)
    if call is None:
        return twiml(_apology())
    return twiml(flow.on_alternatives(services.session(), call, params.get("Digits")))


@blueprint.route("/closed-choice", methods=["GET", "POST"])
@twilio_webhook
def closed_choice():
    """After hours: the caller's answer to the offer of a callback."""
    params = _params()
    call = _caller_call(params)
    if call is None:
        return twiml(_apology())
    return twiml(flow.on_closed_choice(services.session(), call, params.get("Digits")))


@blueprint.route("/queue/wait", methods=["GET", "POST"])
@twilio_webhook
def queue_wait():
    """The <Enqueue> wait URL: position, expected wait and choices, then hold."""
    call = _caller_call(_params())
    if call is None:
        return twiml(_apology())
    return twiml(queue_flow.wait(services.session(), call))


@blueprint.route("/queue/key", methods=["GET", "POST"])
@twilio_webhook
def queue_key():
    params = _params()
    call = _caller_call(params)
    if call is None:
        return twiml(_apology())
    return twiml(queue_flow.on_key(services.session(), call, params.get("Digits")))


@blueprint.route("/queue/left", methods=["GET", "POST"])
@twilio_webhook
def queue_left():
    """The <Enqueue> action: the caller is out of the queue (Twilio's QueueResult says how)."""
    params = _params()
    call = _caller_call(params)
    if call is None:
        return twiml(_apology())
    return twiml(queue_flow.on_left(services.session(), call, params.get("QueueResult")))


@blueprint.route("/queue/way-out", methods=["GET", "POST"])
@twilio_webhook
def queue_way_out():
    params = _params()
    call = _caller_call(params)
    if call is None:
        return twiml(_apology())
    return twiml(queue_flow.on_way_out(services.session(), call, params.get("Digits")))


@blueprint.route("/queue/bridge", methods=["GET", "POST"])
@twilio_webhook
def queue_bridge():
    """Where the REST API redirects a waiting caller whose consultant accepted."""
    call = _caller_call(_params())
    if call is None:
        return twiml(_apology())
    return twiml(queue_flow.bridge(services.session(), call))


@blueprint.route("/queue/offer-status", methods=["GET", "POST"], endpoint="offer_status")
@twilio_webhook
def offer_status():
    """Status callback of a consultant's phone rung for a waiting caller."""
    routing.on_offer_status(services.session(), _whole_number(request.args.get("entry")),
                           _whole_number(request.args.get("staff")), _params().get("CallStatus", ""))
    return twiml(VoiceResponse())


def _consultant_leg():
    """The caller's call and the consultant named in a whisper URL (None for garbage)."""
    session = services.session()
    params = _params()
    call = calls.find_call(session, request.args.get("call") or params.get("ParentCallSid"))
    staff_id = _whole_number(request.args.get("staff"))
    staff = session.scalar(select(Staff).where(Staff.id == staff_id)) if staff_id is not None else None
    return call, staff, params


@blueprint.route("/whisper", methods=["GET", "POST"], endpoint="whisper")
@twilio_webhook
def whisper_prompt():
    call, staff, _ = _consultant_leg()
    return twiml(whisper.whisper(call, staff))


@blueprint.route("/whisper/answer", methods=["GET", "POST"])
@twilio_webhook
def whisper_answer():
    call, staff, params = _consultant_leg()
    return twiml(whisper.on_whisper_answer(services.session(), call, staff, params.get("Digits")))


@blueprint.route("/status", methods=["GET", "POST"])
@twilio_webhook
def status():
    """Twilio's status callback: a final status closes the call and makes its record."""
    params = _params()
    call_status = params.get("CallStatus", "")
    call = calls.find_call(services.session(), params.get("CallSid"))
    if call is not None and call_status in calls.FINAL_STATUSES:
        session = services.session()
        routing.call_ended(session, call.call_sid)
        calls.close_call(session, call, call_status, _whole_number(params.get("CallDuration")))
    return twiml(VoiceResponse())


def _fault_answer() -> VoiceResponse:
    """What Twilio gets when a webhook of the call flow fails."""
    resp = VoiceResponse()
    if request.endpoint == "ivr.queue_wait":
        # A caller waiting is not hung up on for one failed turn: they hold on, and Twilio asks
        # the wait URL again when this pause ends.
        resp.pause(length=10)
        return resp
    if request.endpoint in ("ivr.offer_status", "ivr.status"):
        return resp  # nobody hears a status callback's answer
    return _apology()


answer_faults_with_twiml(blueprint, _fault_answer)
