"""The bridge: a consultant who accepted a waiting caller, the caller taken out of the queue by a
REST redirect into the conference named after their call, and what is recorded once they meet.
Twilio's <Dial><Queue> is not used, because it takes the head of Twilio's queue, not the caller
routing chose (see ivr.on_hold for the wait itself)."""
from __future__ import annotations

import logging

from sqlalchemy.orm import Session
from twilio.twiml.voice_response import VoiceResponse

import routing
from hotline import calls
from hotline.models import Call, QueueEntry, QueueState, Staff, utcnow
from hotline.telephony import TWILIO_ERRORS, external_url, rest_client
from hotline.voice.speaking import speak, staff_language
from hotline.webhooks import join_conference as conference
from ivr.on_hold import enter

log = logging.getLogger(__name__)


def conference_name(call_sid: str) -> str:
    return f"hotline-{call_sid}"


def consultant_accepted(session: Session, call: Call, staff: Staff, entry: QueueEntry) -> VoiceResponse:
    """The consultant rung for a waiting caller pressed the key (routing.accept has made them busy):
    take the caller out of the queue into the conference both will talk in."""
    resp = VoiceResponse()
    now = utcnow()
    if not routing.mark_bridged(session, entry.id, now, staff.id):
        return _caller_gone(session, call, staff, resp)
    try:
        rest_client().calls(call.call_sid).update(url=external_url("ivr.queue_bridge"), method="POST")
    except TWILIO_ERRORS as error:
        log.info("could not take call %s out of the queue: Twilio error %s", call.call_sid,
                 getattr(error, "code", "?"))
        # The caller waits again with their place (if they hung up, their status callback says so).
        if routing.unbridge(session, entry.id, staff.id):
            routing.caller_may_be_served(entry.id)
        return _caller_gone(session, call, staff, resp)
    put_through(session, call, staff.id, entry)
    return join_conference(resp, call)


def put_through(session: Session, call: Call, staff_id: int, entry: QueueEntry) -> bool:
    """Record that the caller reached consultant `staff_id`: answered, connected, journalled as
    accepted and bridged (with the seconds waited). The bridge marked on the entry (committed
    before Twilio was asked to redirect the caller) is the intent; this is its result, recorded by
    whichever comes first, the consultant's accept after the redirect or the caller arriving at the
    bridge, so a process that died between the redirect and this record loses nothing. A
    compare-and-set on a call not yet answered: True only the first time."""
    now = utcnow()
    if not calls.answer(session, call, staff_id, now):
        session.commit()
        return False
    waited = int(((entry.ended_at or now) - entry.entered_at).total_seconds())
    calls.journal(session, call, "accepted", consultant_id=staff_id)
    calls.record_event(session, call, "bridged", str(max(0, waited)), consultant_id=staff_id)  # commits all
    return True


def _talking_on(session: Session, entry: QueueEntry) -> set[str]:
    """The calls the entry's consultant is busy on (this one, while they wait for the caller)."""
    staff = session.get(Staff, entry.offered_staff_id) if entry.offered_staff_id else None
    if staff is not None and staff.status == "busy" and staff.current_call_sid:
        return {staff.current_call_sid}
    return set()


def join_conference(resp: VoiceResponse, call: Call) -> VoiceResponse:
    """The consultant's way into the conference their caller is redirected to."""
    return conference(resp, conference_name(call.call_sid))


def _caller_gone(session: Session, call: Call, staff: Staff, resp: VoiceResponse) -> VoiceResponse:
    routing.finish(session, call.call_sid, 0)  # no conversation: no wrap-up
    routing.consultant_may_be_free(staff.id)
    speak(resp, staff_language(staff), "caller_gone")
    resp.hangup()
    return resp


def bridge(session: Session, call: Call) -> VoiceResponse:
    """The caller's TwiML after the REST redirect: into the conference, and the Dial's action
    (goodbye, wrap-up) when the consultant leaves."""
    resp = VoiceResponse()
    entry = routing.entry_for_call(session, call.call_sid)
    if entry is None:  # its row is lost (or it never queued): queued afresh, not into an empty room
        return enter(session, call, resp)
    if call.call_sid not in _talking_on(session, entry):
        # The consultant hung up while the caller was being redirected: not into an empty room,
        # back to waiting, in their place.
        if routing.unbridge(session, entry.id, entry.offered_staff_id):
            calls.record_event(session, call, "bridge_failed")
            session.refresh(entry)
        return enter(session, call, resp)
    if entry is not None and entry.state == QueueState.bridged.value:
        put_through(session, call, entry.offered_staff_id, entry)  # if the accept did not record it
    speak(resp, call.language_code, "queue_connecting")
    return conference(resp, conference_name(call.call_sid), action=external_url("ivr.dial_result"))
