"""Placing a callback, consultant first: a due callback waits in the queue like a caller; the
consultant routing pairs it with is rung through Twilio's REST API with a whisper (language, topic,
when the caller rang), and on accepting, the hotline dials the caller from the office's number and
greets them in their language; both meet in a conference named after the attempt.

Each consultant rung is an attempt row with its outcome (consultant_no_answer); an attempt that
rings the caller ends as completed, caller_busy, caller_no_answer, machine or failed, and anything
but completed is retried on the schedule, within office hours, until the last attempt.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased
from twilio.twiml.voice_response import Gather, VoiceResponse

import routing
from callbacks import schedule
from callbacks.rules import rules
from hotline import calls, runtime
from hotline.models import (
    AttemptOutcome,
    Call,
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
from hotline.webhooks import join_conference

log = logging.getLogger(__name__)

ACCEPT_KEY = "1"
WHISPER_TIMEOUT = 8
# Twilio's CallStatus of the caller's leg -> the attempt's outcome, when it ended unanswered.
UNANSWERED_OUTCOMES = {"busy": AttemptOutcome.caller_busy.value,
                       "no-answer": AttemptOutcome.caller_no_answer.value,
                       "failed": AttemptOutcome.failed.value, "canceled": AttemptOutcome.failed.value}
MACHINE = ("machine_start", "machine_end_beep", "machine_end_silence", "machine_end_other", "fax")
# Twilio's Direction of the call to the caller, placed through the REST API: its returned Call's.
RETURNED_DIRECTION = "outbound-api"


def conference_name(attempt: CallbackAttempt) -> str:
    return f"hotline-callback-{attempt.callback_id}-{attempt.number}"


def _office_number(callback: Callback) -> str:
    office = runtime.catalogue().office(callback.office_code)
    return office.numbers[0] if office and office.numbers else runtime.settings().twilio_phone_number


def _entry(session: Session, entry_sid: str | None) -> QueueEntry | None:
    return session.scalar(select(QueueEntry).where(QueueEntry.call_sid == entry_sid)) if entry_sid else None


# -- ringing the consultant ------------------------------------------------------------------------

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
    kept = session.execute(
        update(QueueEntry)
        .where(QueueEntry.id == entry.id, QueueEntry.offered_staff_id == staff.id,
               QueueEntry.state == QueueState.offered.value)
        .values(offer_leg_sid=leg.sid).execution_options(synchronize_session=False)
    ).rowcount
    session.execute(update(CallbackAttempt).where(CallbackAttempt.id == attempt.id)
                    .values(consultant_leg_sid=leg.sid).execution_options(synchronize_session=False))
    if not kept:
        _end_attempt(session, attempt, AttemptOutcome.consultant_no_answer.value)  # commits both
        routing.cancel_leg(leg.sid)
        return False
    session.commit()
    return True


def _new_attempt(session: Session, callback: Callback, staff: Staff) -> CallbackAttempt:
    # Numbered by the INSERT itself (one statement, not a MAX query then the INSERT); two attempts
    # numbered at once still collide on the unique (callback_id, number): the loser takes the next.
    next_number = (select(func.coalesce(func.max(CallbackAttempt.number), 0) + 1)
                   .where(CallbackAttempt.callback_id == callback.id).scalar_subquery())
    for _ in range(3):
        attempt = CallbackAttempt(callback_id=callback.id, number=next_number, staff_id=staff.id)
        session.add(attempt)
        try:
            session.commit()
            return attempt
        except IntegrityError:  # numbered concurrently: take the next number
            session.rollback()
    raise RuntimeError(f"could not number an attempt of callback {callback.id}")


def _end_attempt(session: Session, attempt: CallbackAttempt, outcome: str, commit: bool = True) -> bool:
    """Record the attempt's outcome once (compare-and-set on an attempt without one); False if it
    had one already (a retried or twin webhook). Any outcome but completed also requires that the
    caller has not answered (_caller_answered won that race: the attempt completes when the
    caller's leg ends). With commit=False the caller commits it with what it changes next, in one
    transaction."""
    still_open = [CallbackAttempt.id == attempt.id, CallbackAttempt.outcome.is_(None)]
    if outcome != AttemptOutcome.completed.value:
        still_open.append(CallbackAttempt.answered_at.is_(None))
    ended = session.execute(
        update(CallbackAttempt).where(*still_open)
        .values(outcome=outcome, ended_at=utcnow()).execution_options(synchronize_session=False)
    ).rowcount == 1
    if commit:
        session.commit()
    session.expire(attempt, ["outcome", "ended_at", "answered_at"])
    return ended


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


def _record_dialled(session: Session, attempt: CallbackAttempt, leg_sid: str | None) -> Call | None:
    """Record the caller's leg of the attempt and its returned call, once.

    The callback's move to in_progress (committed before Twilio was asked to dial) is the intent;
    this is its result. It is recorded after the dial, and again from the caller leg's own webhooks
    (answered, status), which name the attempt and carry the leg's CallSid: a process that died
    between the dial and this record loses nothing. Compare-and-set on an attempt without a leg.
    Returns the returned call (None without a leg sid)."""
    if not leg_sid:
        return None
    if attempt.caller_leg_sid is None:
        session.execute(update(CallbackAttempt).where(CallbackAttempt.id == attempt.id,
                                                      CallbackAttempt.caller_leg_sid.is_(None))
                        .values(caller_leg_sid=leg_sid).execution_options(synchronize_session=False))
        session.commit()
        session.refresh(attempt)
    returned = calls.find_call(session, attempt.caller_leg_sid)
    if returned is not None:
        return returned
    callback = attempt.callback
    returned = calls.open_placed_call(session, dict(
        call_sid=attempt.caller_leg_sid, direction=RETURNED_DIRECTION, caller_number=callback.number,
        called_number=_office_number(callback), office_code=callback.office_code,
        language_code=callback.language_code, topic_code=callback.topic_code, stage="callback",
        consultant_id=attempt.staff_id, original_call_id=callback.call_id),
        "callback_dialled", str(attempt.number), consultant_id=attempt.staff_id)
    session.commit()  # a leg recorded concurrently by the other side is found, not inserted again
    return returned


def _join(resp: VoiceResponse, attempt: CallbackAttempt) -> VoiceResponse:
    return join_conference(resp, conference_name(attempt))


# -- the caller's side -----------------------------------------------------------------------------

def answered(session: Session, attempt: CallbackAttempt | None, answered_by: str | None,
             leg_sid: str | None = None) -> VoiceResponse:
    """The caller's phone (leg `leg_sid`) was picked up: a person hears the greeting in their
    language and joins the consultant; an answering machine is hung up on (the attempt is retried)."""
    resp = VoiceResponse()
    if attempt is None or attempt.outcome is not None:
        resp.hangup()
        return resp
    returned = _record_dialled(session, attempt, attempt.caller_leg_sid or leg_sid)
    if (answered_by or "") in MACHINE:
        fail_attempt(session, attempt, AttemptOutcome.machine.value)
        resp.hangup()
        return resp
    if not _caller_answered(session, attempt, returned):  # ended meanwhile (the consultant hung up)
        resp.hangup()
        return resp
    speak(resp, attempt.callback.language_code, "callback_greeting")
    return _join(resp, attempt)


def _caller_answered(session: Session, attempt: CallbackAttempt, returned: Call | None) -> bool:
    """Record that a person answered the caller's leg: a compare-and-set on the attempt, open and
    not answered yet, committed with the returned call's answer (and its journal entry). It races
    fail_attempt (the consultant's leg ending, a sweep), whose end requires an unanswered attempt:
    exactly one wins. Returns True if this call recorded it or a twin of the webhook did (the same
    answer again); False if the attempt had ended first (nothing changed)."""
    now = utcnow()
    won = session.execute(
        update(CallbackAttempt).where(CallbackAttempt.id == attempt.id, CallbackAttempt.outcome.is_(None),
                                      CallbackAttempt.answered_at.is_(None))
        .values(answered_at=now).execution_options(synchronize_session=False)
    ).rowcount == 1
    if won and returned is not None and returned.answered_at is None:
        calls.change(session, returned, answered_at=now, stage="connected")
    session.commit()
    session.refresh(attempt)
    if won and returned is not None:
        calls.record_event(session, returned, "accepted", consultant_id=attempt.staff_id)
    return attempt.answered_at is not None


def on_caller_status(session: Session, attempt: CallbackAttempt | None, call_status: str,
                     duration: int | None, leg_sid: str | None = None) -> None:
    """The caller's leg ended (Twilio's final CallStatus; `duration` in seconds): completed after a
    conversation, or a failure to retry (fail_attempt: the consultant told and freed, once).

    Whether they talked is what Twilio reported of the call (a person answered it), not whether the
    attempt was still open, so a retried status callback decides the same. The attempt's outcome,
    the callback's state, the journal entry and the consultant's release are one transaction;
    closing the returned call comes after, and is safe to run again."""
    if attempt is None or call_status not in calls.FINAL_STATUSES:
        return
    returned = _record_dialled(session, attempt, attempt.caller_leg_sid or leg_sid)
    talked = returned is not None and (attempt.answered_at is not None or returned.answered_at is not None)
    if talked:
        _complete(session, attempt, returned)
    elif not fail_attempt(session, attempt,
                          UNANSWERED_OUTCOMES.get(call_status, AttemptOutcome.caller_no_answer.value)):
        _settle_ended(session, attempt)
    if returned is not None:
        calls.close_call(session, returned, call_status, duration, record=talked)


def _complete(session: Session, attempt: CallbackAttempt, returned: Call) -> None:
    """The caller talked with the consultant: the attempt (compare-and-set, journalled once) and
    the callback are completed and the consultant goes into wrap-up, in one transaction. Run again
    (a retried status callback), it changes nothing."""
    callback, now = attempt.callback, utcnow()
    if _end_attempt(session, attempt, AttemptOutcome.completed.value, commit=False):
        calls.journal(session, callback.call_id, "callback_attempt", AttemptOutcome.completed.value,
                      consultant_id=attempt.staff_id)
    session.execute(update(Callback).where(Callback.id == callback.id,
                                           Callback.state == CallbackState.in_progress.value)
                    .values(state=CallbackState.completed.value, closed_at=now, return_call_id=returned.id)
                    .execution_options(synchronize_session=False))
    latest = _is_latest(session, attempt)  # a late retry never frees anyone from a later attempt
    freed = _free_holders(session, attempt, runtime.catalogue().wrap_up_seconds) if latest else []
    session.commit()
    _pair_again(freed)


def fail_attempt(session: Session, attempt: CallbackAttempt, outcome: str, tell: bool = True) -> bool:
    """End `attempt` as one that did not reach the caller (`outcome`: an AttemptOutcome value), if
    nothing ended it before. This is the one compare-and-set that every path learning of a failure
    calls: the answer URL with a machine, the caller leg's status callback, the consultant leg's
    status callback, a dial Twilio refused, the reconciliation and the sweep of silent calls.

    Only the path that wins it writes, in one transaction, the attempt's outcome, its journal
    entry, the consultant's release (routing.free_holders, no wrap-up) and the callback's next
    state (schedule.retry_or_close: retried after retry_minutes within office hours, or
    unreachable after max_attempts); then, with `tell`, moves the consultant's leg, waiting in the
    conference, to the "not reached" message (with tell=False the caller tells them, or their leg
    has ended), and asks routing for their next caller. An attempt a later one has superseded
    changes neither the callback nor anyone's status, and nobody is told. Returns whether this
    call ended the attempt; False if it had ended already (a retried or twin webhook, another path
    first): nothing changed."""
    if not _end_attempt(session, attempt, outcome, commit=False):
        session.commit()
        return False
    calls.journal(session, attempt.callback.call_id, "callback_attempt", outcome,
                  consultant_id=attempt.staff_id)
    if not _is_latest(session, attempt):
        session.commit()
        return True
    freed = _free_holders(session, attempt, 0)
    schedule.retry_or_close(session, attempt.callback, utcnow())  # commits it all
    if tell:
        _tell_consultant_not_reached(attempt)
    _pair_again(freed)
    return True


def _settle_ended(session: Session, attempt: CallbackAttempt) -> None:
    """A webhook found its attempt ended already: if it is still its callback's latest, make sure
    the callback has left in_progress and the consultant is free (both compare-and-sets: no-ops
    unless the attempt was ended by a process that died, or by a version before one transaction
    did it all). Nobody is told: whoever ended the attempt did."""
    if not _is_latest(session, attempt):
        return
    freed = _free_holders(session, attempt, 0)
    schedule.retry_or_close(session, attempt.callback, utcnow())  # commits; False if moved already
    _pair_again(freed)


def close_silent_leg(session: Session, call: Call, call_status: str, duration: int | None) -> None:
    """routing's sweep of silent calls (registered for RETURNED_DIRECTION): Twilio says this call
    to a callback's caller ended (`call_status`, `duration` in seconds) but its status callback
    never reached us. Does what that status callback does (on_caller_status): the attempt ends, the
    consultant is freed (and told, if the caller was not reached), the callback is completed or
    retried. A returned call no attempt names (none is made so) is only closed."""
    attempt = session.scalar(select(CallbackAttempt).where(CallbackAttempt.caller_leg_sid == call.call_sid))
    if attempt is None:
        calls.close_call(session, call, call_status, duration, record=call.answered_at is not None)
        return
    on_caller_status(session, attempt, call_status, duration, call.call_sid)


def _is_latest(session: Session, attempt: CallbackAttempt) -> bool:
    """Whether no later attempt of the same callback exists."""
    return session.scalar(select(func.max(CallbackAttempt.number))
                          .where(CallbackAttempt.callback_id == attempt.callback_id)) == attempt.number


def _free_holders(session: Session, attempt: CallbackAttempt,
                  wrap_up_seconds: int) -> list[tuple[int, datetime | None]]:
    """Free whoever holds the queue entry the attempt came from (routing.free_holders: wrap-up for
    `wrap_up_seconds`, or available), not committed. Returns routing's (staff id, end of wrap-up)
    of each consultant freed, for _pair_again after the commit."""
    entry_sid = _attempt_entry_sid(session, attempt)
    return routing.free_holders(session, entry_sid, wrap_up_seconds) if entry_sid else []


def _pair_again(freed: list[tuple[int, datetime | None]]) -> None:
    """After the commit that freed them: each consultant gets their next caller (at the end of
    their wrap-up)."""
    for staff_id, wrap_up_until in freed:
        routing.consultant_may_be_free(staff_id, wrap_up_until)


def _attempt_entry_sid(session: Session, attempt: CallbackAttempt) -> str | None:
    """The queue entry the attempt came from (what its consultant holds)."""
    return session.scalar(
        select(QueueEntry.call_sid).where(QueueEntry.callback_id == attempt.callback_id,
                                          QueueEntry.offered_staff_id == attempt.staff_id,
                                          QueueEntry.state == QueueState.bridged.value)
        .order_by(QueueEntry.id.desc()).limit(1))


def _tell_consultant_not_reached(attempt: CallbackAttempt) -> None:
    """The consultant waits in the conference: tell them, and end their leg."""
    if not attempt.consultant_leg_sid:
        return
    try:
        rest_client().calls(attempt.consultant_leg_sid).update(
            url=external_url("callbacks.not_reached", attempt=attempt.id), method="POST")
    except TWILIO_ERRORS as error:
        log.info("consultant leg %s already ended (%s)", attempt.consultant_leg_sid,
                 getattr(error, "code", "?"))


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


# A conversation longer than this is taken for a lost status callback, not a conversation.
LONGEST_CONVERSATION = timedelta(hours=4)


def fail_stuck_attempts(session: Session, now: datetime) -> int:
    """Attempts that rang the caller but never heard back from Twilio (a lost status callback)
    are failed and retried, so that no callback stays in progress for ever. A caller who answered
    may still be talking: only after LONGEST_CONVERSATION."""
    returned = aliased(Call)
    stuck = list(session.scalars(
        select(CallbackAttempt).join(Callback)
        .outerjoin(returned, returned.call_sid == CallbackAttempt.caller_leg_sid)
        .where(Callback.state == CallbackState.in_progress.value, CallbackAttempt.outcome.is_(None),
               CallbackAttempt.caller_leg_sid.is_not(None),
               or_(and_(returned.answered_at.is_(None),
                        CallbackAttempt.started_at <= now - rules().stuck_after),
                   CallbackAttempt.started_at <= now - LONGEST_CONVERSATION))
    ))
    for attempt in stuck:
        on_caller_status(session, attempt, "failed", None)
    return len(stuck) + _fail_undialled(session, now) + _close_orphaned(session, now)


def _fail_undialled(session: Session, now: datetime) -> int:
    """Attempts whose consultant accepted but whose caller was never dialled (the process died
    between the two): the consultant is freed and the callback retried (fail_attempt). An earlier
    attempt of the same callback still open (its consultant's answer never came, and the entry
    went back to the queue) ends as consultant_no_answer, changing nothing else."""
    undialled = list(session.scalars(
        select(CallbackAttempt).join(Callback)
        .where(Callback.state == CallbackState.in_progress.value, CallbackAttempt.outcome.is_(None),
               CallbackAttempt.caller_leg_sid.is_(None),
               CallbackAttempt.started_at <= now - rules().stuck_after)
    ))
    for attempt in undialled:
        if _is_latest(session, attempt):
            fail_attempt(session, attempt, AttemptOutcome.failed.value)
        else:  # a consultant rung before, whose answer never came: not this callback's failure
            _end_attempt(session, attempt, AttemptOutcome.consultant_no_answer.value)
    return len(undialled)


def _close_orphaned(session: Session, now: datetime) -> int:
    """Callbacks still in progress although all their attempts have ended (a process died between
    the two, before both were one transaction): completed if an attempt was, else retried or
    closed. Returns how many were closed or retried."""
    open_attempt = exists().where(CallbackAttempt.callback_id == Callback.id,
                                  CallbackAttempt.outcome.is_(None))
    orphans = list(session.scalars(
        select(Callback).where(Callback.state == CallbackState.in_progress.value, ~open_attempt)))
    for callback in orphans:
        talked = session.scalar(select(CallbackAttempt.id).where(
            CallbackAttempt.callback_id == callback.id,
            CallbackAttempt.outcome == AttemptOutcome.completed.value).limit(1))
        latest = session.scalar(select(CallbackAttempt).where(CallbackAttempt.callback_id == callback.id)
                                .order_by(CallbackAttempt.number.desc()).limit(1))
        # Its consultant may still hold it (an attempt ended before its end freed them too).
        freed = _free_holders(session, latest, 0) if latest is not None else []
        if talked is None:
            schedule.retry_or_close(session, callback, now)
        else:
            session.execute(update(Callback).where(Callback.id == callback.id,
                                                   Callback.state == CallbackState.in_progress.value)
                            .values(state=CallbackState.completed.value, closed_at=now)
                            .execution_options(synchronize_session=False))
            session.commit()
        _pair_again(freed)
    return len(orphans)
