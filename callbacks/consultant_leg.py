"""Placing a callback, consultant first: a due callback waits in the queue like a caller; the
consultant routing pairs it with is rung through Twilio's REST API (routing's ringer for callback
entries) with a whisper (language, topic, when the caller rang); on accepting, the hotline dials the
caller from the office's number, and both meet in the attempt's conference. Also what follows when
the consultant's leg ends. The caller's side is callbacks.caller_leg.
"""
from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from twilio.twiml.voice_response import Gather, VoiceResponse

import routing
from callbacks.attempts import (
    _end_attempt,
    _join,
    _new_attempt,
    _office_number,
    _record_dialled,
    fail_attempt,
)
from callbacks.rules import rules
from hotline import calls, runtime
from hotline.models import (
    AttemptOutcome,
    Callback,
    CallbackAttempt,
    CallbackState,
    QueueEntry,
    QueueState,
    Staff,
    utcnow,
)
from hotline.telephony import TWILIO_ERRORS, external_url, rest_client
from hotline.voice.speaking import speak, staff_language

log = logging.getLogger(__name__)

ACCEPT_KEY = "1"


WHISPER_TIMEOUT = 8


def _entry(session: Session, entry_sid: str | None) -> QueueEntry | None:
    return routing.entry_for_call(session, entry_sid) if entry_sid else None


def ring_consultant(session: Session, entry: QueueEntry, staff: Staff) -> bool:
    """Routing's ringer for a callback's queue entry (already claimed for `staff`, who is
    reserved): a new attempt row, and the consultant's phone rung with the whisper."""
    callback = session.get(Callback, entry.callback_id)
    if callback is None or callback.state != CallbackState.due.value:  # canceled meanwhile
        routing.unclaim(session, entry.id, staff.id)
        routing.leave(session, entry.id, "canceled", utcnow())
        routing.release(session, entry.call_sid, staff.id)
        routing.consultant_may_be_free(staff.id)
        return False
    attempt = _new_attempt(session, callback, staff)
    try:
        leg = rest_client().calls.create(
            to=staff.phone, from_=_office_number(callback), method="POST",
            url=external_url("callbacks.whisper", attempt=attempt.id),
            status_callback=external_url("callbacks.consultant_status", attempt=attempt.id),
            status_callback_method="POST", timeout=runtime.catalogue().dial_timeout,
        )
    except TWILIO_ERRORS as error:
        log.warning("could not ring consultant %s for callback %s: Twilio error %s", staff.id, callback.id,
                    getattr(error, "code", type(error).__name__))
        _end_attempt(session, attempt, AttemptOutcome.failed.value)
        routing.offer_not_taken(session, entry.id, staff.id, "offer_failed")
        return False
    # Compare-and-set, as for a live caller: a cancel (or the consultant going offline) that landed
    # while Twilio placed the call finds no leg to stop, so the leg is stopped here.
    kept = routing.record_offer_leg(session, entry.id, staff.id, leg.sid)
    session.execute(update(CallbackAttempt).where(CallbackAttempt.id == attempt.id)
                    .values(consultant_leg_sid=leg.sid).execution_options(synchronize_session=False))
    if not kept:
        _end_attempt(session, attempt, AttemptOutcome.consultant_no_answer.value)  # commits both
        routing.cancel_leg(leg.sid)
        return False
    session.commit()
    return True


def whisper(session: Session, attempt: CallbackAttempt | None) -> VoiceResponse:
    """What the consultant hears on picking up: a callback, its language and topic, when the
    caller rang, and the key that calls them."""
    resp = VoiceResponse()
    staff = session.get(Staff, attempt.staff_id) if attempt else None
    if attempt is None or staff is None or attempt.outcome is not None:
        resp.hangup()
        return resp
    callback = attempt.callback
    catalogue = runtime.catalogue()
    gather = Gather(num_digits=1, timeout=WHISPER_TIMEOUT, action_on_empty_result=True, method="POST",
                    action=external_url("callbacks.whisper_answer", attempt=attempt.id))
    speak(gather, staff_language(staff), "callback_whisper",
          language=lambda spoken: catalogue.term(spoken, "languages", callback.language_code),
          topic=lambda spoken: catalogue.term(spoken, "topics", callback.topic_code),
          when=lambda spoken: _when_rang(spoken, callback.first_rang_at, callback.office_code))
    resp.append(gather)
    return resp


def _when_rang(lang: str, at: datetime, office_code: str) -> str:
    """'today at 10:15 AM' or 'on Monday at 10:15 AM' in `lang` (see hotline.voice.spoken), in the time
    zone of the callback's office."""
    catalogue = runtime.catalogue()
    office = catalogue.office(office_code) or catalogue.offices[0]
    zone = ZoneInfo(office.timezone)
    local, today = at.astimezone(zone), utcnow().astimezone(zone).date()
    time = catalogue.clock_time(lang, local.time())
    if local.date() == today:
        return catalogue.prompt(lang, "opens_today", time=time)
    return catalogue.prompt(lang, "opens_on", weekday=catalogue.weekday(lang, local.date()), time=time)


def on_whisper_answer(session: Session, attempt: CallbackAttempt | None, digits: str | None) -> VoiceResponse:
    """The consultant accepted: dial the caller and join the conference; or they did not."""
    resp = VoiceResponse()
    if attempt is None:
        resp.hangup()
        return resp
    callback, staff = attempt.callback, session.get(Staff, attempt.staff_id)
    if attempt.caller_leg_sid:  # a retried webhook: the caller is being dialled already
        return _join(resp, attempt)
    if attempt.outcome == AttemptOutcome.failed.value:  # a retried webhook: the dial was refused
        return _not_reached_answer(resp, staff)
    entry = _entry(session, _held_entry_sid(session, staff))
    accepting = (digits or "").strip() == ACCEPT_KEY
    if not accepting or entry is None or entry.callback_id != callback.id \
            or callback.state != CallbackState.due.value \
            or not routing.accept(session, staff.id, entry.call_sid):
        if accepting and _accepted_by_twin(session, attempt, staff):
            return _join(resp, attempt)  # the same answer the twin that won got
        if entry is not None and entry.callback_id == callback.id:
            _end_attempt(session, attempt, AttemptOutcome.consultant_no_answer.value)
            routing.offer_not_taken(session, entry.id, staff.id, "declined")
        speak(resp, staff_language(staff), "whisper_declined")
        resp.hangup()
        return resp
    if not routing.mark_bridged(session, entry.id, utcnow(), staff.id):
        routing.finish(session, entry.call_sid, 0)
        resp.hangup()
        return resp
    return _dial_caller(session, resp, callback, attempt, staff, entry)


def _not_reached_answer(resp: VoiceResponse, staff: Staff | None) -> VoiceResponse:
    """The accepting consultant's answer when the caller could not be dialled (Twilio refused, or
    the attempt failed before it was dialled): "not reached", then hang up. The same for a retry."""
    if staff is not None:
        speak(resp, staff_language(staff), "callback_not_reached")
    resp.hangup()
    return resp


def _accepted_by_twin(session: Session, attempt: CallbackAttempt, staff: Staff | None) -> bool:
    """Whether this attempt's consultant has accepted it already: a twin of this webhook (Twilio
    retries; both copies can arrive at once) won the compare-and-set and is dialling the caller."""
    if staff is None:
        return False
    session.refresh(staff)
    session.refresh(attempt)
    held = _entry(session, staff.current_call_sid) if staff.status == "busy" else None
    return held is not None and held.callback_id == attempt.callback_id and attempt.outcome is None


def _held_entry_sid(session: Session, staff: Staff | None) -> str | None:
    if staff is None:
        return None
    session.refresh(staff)
    return staff.current_call_sid


def _dial_caller(session: Session, resp: VoiceResponse, callback: Callback, attempt: CallbackAttempt,
                 staff: Staff, entry: QueueEntry) -> VoiceResponse:
    # Compare-and-set: a callback cancelled (or moved) by staff a moment ago is not dialled.
    started = session.execute(
        update(Callback).where(Callback.id == callback.id, Callback.state == CallbackState.due.value)
        .values(state=CallbackState.in_progress.value, attempts=Callback.attempts + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.commit()
    session.refresh(callback)
    if not started:
        _end_attempt(session, attempt, AttemptOutcome.consultant_no_answer.value)
        routing.finish(session, entry.call_sid, 0)
        routing.consultant_may_be_free(staff.id)
        speak(resp, staff_language(staff), "whisper_declined")
        resp.hangup()
        return resp
    try:
        leg = rest_client().calls.create(
            to=callback.number, from_=_office_number(callback), method="POST",
            url=external_url("callbacks.answered", attempt=attempt.id),
            status_callback=external_url("callbacks.caller_status", attempt=attempt.id),
            status_callback_method="POST", timeout=rules().caller_ring_seconds, machine_detection="Enable",
        )
    except TWILIO_ERRORS as error:
        log.warning("could not dial the caller of callback %s: Twilio error %s", callback.id,
                    getattr(error, "code", type(error).__name__))
        fail_attempt(session, attempt, AttemptOutcome.failed.value, tell=False)  # told here, below
        return _not_reached_answer(resp, staff)
    _record_dialled(session, attempt, leg.sid)
    speak(resp, staff_language(staff), "callback_calling")
    return _join(resp, attempt)


def not_reached(session: Session, attempt: CallbackAttempt | None) -> VoiceResponse:
    resp = VoiceResponse()
    staff = session.get(Staff, attempt.staff_id) if attempt else None
    if staff is not None:
        speak(resp, staff_language(staff), "callback_not_reached")
    resp.hangup()
    return resp


def on_consultant_status(session: Session, attempt: CallbackAttempt | None, call_status: str) -> None:
    """The consultant's leg ended. Before they accepted, that is a consultant who did not answer:
    the callback goes back to waiting for the next consultant, keeping its place."""
    if attempt is None or call_status not in calls.FINAL_STATUSES:
        return
    if attempt.caller_leg_sid:  # they had accepted: the attempt fails unless the caller answered
        if fail_attempt(session, attempt, AttemptOutcome.failed.value, tell=False):
            routing.cancel_leg(attempt.caller_leg_sid)  # the caller would pick up to nobody: ring off
        elif attempt.answered_at is not None:
            _end_callers_leg(session, attempt)
        return
    entry = session.scalar(select(QueueEntry).where(
        QueueEntry.callback_id == attempt.callback_id, QueueEntry.offered_staff_id == attempt.staff_id,
        QueueEntry.state == QueueState.offered.value))
    if _end_attempt(session, attempt, AttemptOutcome.consultant_no_answer.value) and entry is not None:
        routing.offer_not_taken(session, entry.id, attempt.staff_id, call_status)


def _end_callers_leg(session: Session, attempt: CallbackAttempt) -> None:
    """The consultant's leg ended after the caller answered: their conference ends with them, but a
    caller who answered at the same moment would join it after, alone; their leg is ended too,
    unless it has ended already. The attempt completes when its status callback comes."""
    returned = calls.find_call(session, attempt.caller_leg_sid)
    if returned is None or returned.ended_at is not None:
        return
    try:
        rest_client().calls(attempt.caller_leg_sid).update(status="completed")
    except TWILIO_ERRORS as error:
        log.info("caller leg %s already ended (%s)", attempt.caller_leg_sid, getattr(error, "code", "?"))
