"""The consultant's side of a routed call: the whisper, and accepting with a key press."""
from __future__ import annotations

from sqlalchemy.orm import Session
from twilio.twiml.voice_response import Gather, VoiceResponse

import routing
from hotline import calls, runtime
from hotline.models import Call, Staff, utcnow
from hotline.telephony import external_url
from hotline.voice.speaking import speak, staff_language
from ivr import bridge

ACCEPT_KEY = "1"
WHISPER_TIMEOUT = 8


def whisper(call: Call | None, staff: Staff | None) -> VoiceResponse:
    """What the consultant hears on picking up: who is calling about what, and the key to accept."""
    resp = VoiceResponse()
    if call is None or staff is None or call.ended_at is not None:
        resp.hangup()
        return resp
    catalogue = runtime.catalogue()
    lang = staff_language(staff)
    gather = Gather(num_digits=1, timeout=WHISPER_TIMEOUT, action_on_empty_result=True, method="POST",
                    action=external_url("ivr.whisper_answer", call=call.call_sid, staff=staff.id))
    # A call without a language or topic (a whisper out of turn) is announced with the defaults.
    caller_language = call.language_code or catalogue.default_language
    caller_topic = call.topic_code or catalogue.default_topic
    language = lambda spoken: catalogue.term(spoken, "languages", caller_language)  # noqa: E731
    topic = lambda spoken: catalogue.term(spoken, "topics", caller_topic)  # noqa: E731
    other = _language_agreed_for(call, staff)
    if other:
        speak(gather, lang, "whisper_other_language", language=language, topic=topic,
              other=lambda spoken: catalogue.term(spoken, "languages", other))
    else:
        speak(gather, lang, "whisper", language=language, topic=topic)
    resp.append(gather)
    return resp


def _accepted_already(call: Call, staff: Staff) -> bool:
    return (staff.status == "busy" and staff.current_call_sid == call.call_sid
            and call.consultant_id == staff.id and call.answered_at is not None)


def _busy_on(session: Session, staff: Staff, call: Call) -> bool:
    """Whether the consultant, as stored now, is busy on this call (has accepted it)."""
    session.refresh(staff)
    return staff.status == "busy" and staff.current_call_sid == call.call_sid


def _language_agreed_for(call: Call, staff: Staff) -> str | None:
    """The language the consultant will talk in, when it is not the caller's own but one the
    caller agreed to; None when the consultant has the caller's language."""
    spoken = {skill.language_code for skill in staff.skills}
    agreed = [code for code in (call.accepts_languages or "").split(",") if code]
    entry = routing.entry_for_call(runtime.session(), call.call_sid)
    if entry is not None and entry.accepts_languages:
        agreed += entry.accepts_languages.split(",")
    if call.language_code in spoken:
        return None
    return next((code for code in agreed if code in spoken), None)


def on_whisper_answer(session: Session, call: Call | None, staff: Staff | None,
                      digits: str | None) -> VoiceResponse:
    """Bridge the call (an empty response) if the consultant accepted and it is still theirs. A
    caller whose call is over (a late or replayed answer) is nobody's: hang up, change nothing."""
    resp = VoiceResponse()
    if call is not None and staff is not None and call.ended_at is not None:
        speak(resp, staff_language(staff), "caller_gone")
    if call is None or staff is None or call.ended_at is not None:
        resp.hangup()
        return resp
    entry = routing.entry_for_call(session, call.call_sid)
    queued = entry is not None and entry.offered_staff_id == staff.id
    if _accepted_already(call, staff):  # Twilio retried this webhook: the same answer again
        return bridge.join_conference(resp, call) if queued else resp
    if (digits or "").strip() != ACCEPT_KEY:
        return _declined(session, resp, call, staff, entry if queued else None)
    if not routing.accept(session, staff.id, call.call_sid):
        if _busy_on(session, staff, call):
            # A twin of this webhook (Twilio retried it; both copies arrived at once) won the accept
            # and is putting the caller through: the same answer it gives, never the opposite.
            return bridge.join_conference(resp, call) if queued else resp
        return _declined(session, resp, call, staff, entry if queued else None)
    if queued:
        return bridge.consultant_accepted(session, call, staff, entry)
    calls.change(session, call, consultant_id=staff.id, answered_at=utcnow(), stage="connected", outcome=None)
    calls.record_event(session, call, "accepted", consultant_id=staff.id)
    return resp


def _declined(session: Session, resp: VoiceResponse, call: Call, staff: Staff, entry) -> VoiceResponse:
    """Not accepted (another key, silence, or the offer was no longer theirs): journalled; a caller
    rung from the queue (`entry`) goes to the next consultant."""
    calls.record_event(session, call, "declined", consultant_id=staff.id)
    if entry is not None:
        routing.offer_not_taken(session, entry.id, staff.id, "declined")
    speak(resp, staff_language(staff), "whisper_declined")
    resp.hangup()
    return resp
