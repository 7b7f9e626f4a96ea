"""Twilio's webhooks for placing callbacks: the consultant's whisper and answer, the caller's
pickup, and both legs' status callbacks. Each URL names its attempt; a forged or unsigned request
gets 403, anything else valid TwiML (an empty one for status callbacks)."""
from __future__ import annotations

from flask import Blueprint, request
from twilio.twiml.voice_response import VoiceResponse

from callbacks import caller_leg, consultant_leg
from hotline import runtime
from hotline.models import CallbackAttempt
from hotline.telephony import answer_faults_with_twiml, twilio_webhook, twiml
from hotline.webhooks import query_number, whole_number

blueprint = Blueprint("callbacks", __name__, url_prefix="/callbacks")


def _attempt() -> CallbackAttempt | None:
    """The attempt the URL names (None for garbage or one that does not exist)."""
    attempt_id = query_number("attempt")
    return runtime.session().get(CallbackAttempt, attempt_id) if attempt_id is not None else None


def _param(name: str) -> str | None:
    return request.values.get(name)


@blueprint.route("/whisper", methods=["GET", "POST"])
@twilio_webhook
def whisper():
    return twiml(consultant_leg.whisper(runtime.session(), _attempt()))


@blueprint.route("/whisper/answer", methods=["GET", "POST"])
@twilio_webhook
def whisper_answer():
    return twiml(consultant_leg.on_whisper_answer(runtime.session(), _attempt(), _param("Digits")))


@blueprint.route("/answered", methods=["GET", "POST"])
@twilio_webhook
def answered():
    """The caller's phone was picked up (AnsweredBy from answering machine detection)."""
    return twiml(caller_leg.answered(runtime.session(), _attempt(), _param("AnsweredBy"), _param("CallSid")))


@blueprint.route("/not-reached", methods=["GET", "POST"])
@twilio_webhook
def not_reached():
    return twiml(consultant_leg.not_reached(runtime.session(), _attempt()))


@blueprint.route("/caller-status", methods=["GET", "POST"])
@twilio_webhook
def caller_status():
    caller_leg.on_caller_status(runtime.session(), _attempt(), _param("CallStatus") or "",
                             whole_number(_param("CallDuration")), _param("CallSid"))
    return twiml(VoiceResponse())


@blueprint.route("/consultant-status", methods=["GET", "POST"])
@twilio_webhook
def consultant_status():
    consultant_leg.on_consultant_status(runtime.session(), _attempt(), _param("CallStatus") or "")
    return twiml(VoiceResponse())


def _fault_answer() -> VoiceResponse:
    """A failed webhook hangs up its leg (the attempt is then retried); status callbacks: empty."""
    resp = VoiceResponse()
    if request.endpoint not in ("callbacks.caller_status", "callbacks.consultant_status"):
        resp.hangup()
    return resp


answer_faults_with_twiml(blueprint, _fault_answer)
