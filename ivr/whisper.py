"""The consultant's side of a routed call: the whisper, and accepting with a key press."""
from __future__ import annotations

from sqlalchemy.orm import Session
from twilio.twiml.voice_response import Gather, VoiceResponse

import routing
from hotline import services
from hotline.models import Call, Staff, utcnow
from hotline.telephony import external_url
from hotline.voice import speak
from ivr import calls

ACCEPT_KEY = "1"
WHISPER_TIMEOUT = 8


def _staff_language(staff: Staff) -> str:
    catalogue = services.catalogue()
    return staff.whisper_language if catalogue.language(staff.whisper_language) else catalogue.staff_language


def whisper(call: Call | None, staff: Staff | None) -> VoiceResponse:
    """What the consultant hears on picking up: who is calling about what, and the key to accept."""
    resp = VoiceResponse()
    if call is None or staff is None or call.ended_at is not None:
        resp.hangup()
        return resp
    catalogue = services.catalogue()
    lang = _staff_language(staff)
    gather = Gather(num_digits=1, timeout=WHISPER_TIMEOUT, action_on_empty_result=True, method="POST",
                    action=external_url("ivr.whisper_answer", call=call.call_sid, staff=staff.id))
    speak(gather, lang, "whisper",
          language=lambda spoken: catalogue.term(spoken, "languages", call.language_code),
          topic=lambda spoken: catalogue.term(spoken, "topics", call.topic_code))
    resp.append(gather)
    return resp


def on_whisper_answer(session: Session, call: Call | None, staff: Staff | None, digits: str | None) -> VoiceResponse:
    """Bridge the call (an empty response) if the consultant accepted and it is still theirs."""
    resp = VoiceResponse()
    if call is None or staff is None:
        resp.hangup()
        return resp
    if (digits or "").strip() == ACCEPT_KEY and routing.accept(session, staff.id, call.call_sid):
        call.consultant_id = staff.id
        call.answered_at = utcnow()
        call.stage = "connected"
        call.outcome = None
        calls.record_event(session, call, "accepted", consultant_id=staff.id)
        return resp
    calls.record_event(session, call, "declined", consultant_id=staff.id)
    speak(resp, _staff_language(staff), "whisper_declined")
    resp.hangup()
    return resp
