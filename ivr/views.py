"""Twilio's webhooks for the call flow. Each parses the request, calls the flow, answers TwiML.

Whatever goes wrong, Twilio gets valid TwiML (never a 500 or an empty body, which a caller hears
as "an application error has occurred"); only a forged or unsigned request gets a 403.
"""
from __future__ import annotations

from flask import Blueprint, request
from sqlalchemy import select
from twilio.twiml.voice_response import VoiceResponse

import routing
from hotline import calls, runtime
from hotline.models import Staff
from hotline.telephony import answer_faults_with_twiml, twilio_webhook, twiml
from hotline.webhooks import apology, caller_webhook, menu_attempt, params, query_number, whole_number
from ivr import bridge, flow, on_hold, whisper

blueprint = Blueprint("ivr", __name__, url_prefix="/ivr")
# The empty answer of a status callback (nobody hears it), its text built once.
NOTHING = str(VoiceResponse())


@blueprint.route("/voice", methods=["GET", "POST"])
@caller_webhook(opens=True)
def voice(session, call, params):
    """Twilio's Voice URL: a new call. Greet, then the language menu."""
    return flow.greet(call)


@blueprint.route("/language", methods=["GET", "POST"])
@caller_webhook(loads=routing.LANGUAGES_ON_DUTY)
def language(session, call, params):
    return flow.on_language(session, call, params.get("Digits"), params.get("SpeechResult"), menu_attempt(),
                            request.args.get("heard"))


@blueprint.route("/topic", methods=["GET", "POST"])
@caller_webhook(loads=routing.ROUTING_LOADS, locks=True)  # it may reserve a consultant: ivr.flow.connect
def topic(session, call, params):
    return flow.on_topic(session, call, params.get("Digits"), params.get("SpeechResult"), menu_attempt())


@blueprint.route("/dial-result", methods=["GET", "POST"])
@caller_webhook
def dial_result(session, call, params):
    return flow.on_dial_result(session, call, params.get("DialCallStatus"))


@blueprint.route("/alternatives", methods=["GET", "POST"])
@caller_webhook
def alternatives(session, call, params):
    """The caller's answer to "nobody who speaks your language is on duty"."""
    return flow.on_alternatives(session, call, params.get("Digits"))


@blueprint.route("/closed-choice", methods=["GET", "POST"])
@caller_webhook
def closed_choice(session, call, params):
    """After hours: the caller's answer to the offer of a callback."""
    return flow.on_closed_choice(session, call, params.get("Digits"))


@blueprint.route("/queue/wait", methods=["GET", "POST"])
@caller_webhook
def queue_wait(session, call, params):
    """The <Enqueue> wait URL: position, expected wait and choices, then hold."""
    return on_hold.wait(session, call)


@blueprint.route("/queue/key", methods=["GET", "POST"])
@caller_webhook
def queue_key(session, call, params):
    return on_hold.on_key(session, call, params.get("Digits"))


@blueprint.route("/queue/left", methods=["GET", "POST"])
@caller_webhook
def queue_left(session, call, params):
    """The <Enqueue> action: the caller is out of the queue (Twilio's QueueResult says how)."""
    return on_hold.on_left(session, call, params.get("QueueResult"))


@blueprint.route("/queue/way-out", methods=["GET", "POST"])
@caller_webhook
def queue_way_out(session, call, params):
    return on_hold.on_way_out(session, call, params.get("Digits"))


@blueprint.route("/queue/bridge", methods=["GET", "POST"])
@caller_webhook
def queue_bridge(session, call, params):
    """Where the REST API redirects a waiting caller whose consultant accepted."""
    return bridge.bridge(session, call)


@blueprint.route("/queue/offer-status", methods=["GET", "POST"], endpoint="offer_status")
@twilio_webhook
def offer_status():
    """Status callback of a consultant's phone rung for a waiting caller."""
    routing.on_offer_status(runtime.session(), query_number("entry"), query_number("staff"),
                            params().get("CallStatus", ""))
    return twiml(NOTHING)


def _consultant_leg():
    """The caller's call and the consultant named in a whisper URL (None for garbage)."""
    session = runtime.session()
    values = params()
    call = calls.find_call(session, request.args.get("call") or values.get("ParentCallSid"))
    staff_id = query_number("staff")
    staff = session.scalar(select(Staff).where(Staff.id == staff_id)) if staff_id is not None else None
    return call, staff, values


@blueprint.route("/whisper", methods=["GET", "POST"], endpoint="whisper")
@twilio_webhook
def whisper_prompt():
    call, staff, _ = _consultant_leg()
    return twiml(whisper.whisper(call, staff))


@blueprint.route("/whisper/answer", methods=["GET", "POST"])
@twilio_webhook
def whisper_answer():
    call, staff, values = _consultant_leg()
    return twiml(whisper.on_whisper_answer(runtime.session(), call, staff, values.get("Digits")))


@blueprint.route("/status", methods=["GET", "POST"])
@twilio_webhook
def status():
    """Twilio's status callback: a final status closes the call and makes its record."""
    values = params()
    call_status = values.get("CallStatus", "")
    call = calls.find_call(runtime.session(), values.get("CallSid"), routing.END_CALL_LOADS)
    if call is not None and call_status in calls.FINAL_STATUSES:
        routing.end_call(runtime.session(), call, call_status, whole_number(values.get("CallDuration")))
    return twiml(NOTHING)


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
    return apology()


answer_faults_with_twiml(blueprint, _fault_answer)
