"""The caller's side of a callback attempt: the caller's phone picked up (a person greeted into
the conference, an answering machine hung up on), and the end of their leg, which completes the
attempt after a conversation or fails it (callbacks.attempts.fail_attempt) and closes the returned
call. Anything but completed is retried on the schedule, within office hours, until the last attempt.
"""
from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from twilio.twiml.voice_response import VoiceResponse

from callbacks.attempts import (
    _end_attempt,
    _free_holders,
    _is_latest,
    _join,
    _pair_again,
    _record_dialled,
    _settle_ended,
    fail_attempt,
)
from hotline import calls, runtime
from hotline.models import (
    AttemptOutcome,
    Call,
    Callback,
    CallbackAttempt,
    CallbackState,
    utcnow,
)
from hotline.voice.speaking import speak

# Twilio's CallStatus of the caller's leg -> the attempt's outcome, when it ended unanswered.
UNANSWERED_OUTCOMES = {"busy": AttemptOutcome.caller_busy.value,
                       "no-answer": AttemptOutcome.caller_no_answer.value,
                       "failed": AttemptOutcome.failed.value, "canceled": AttemptOutcome.failed.value}


MACHINE = ("machine_start", "machine_end_beep", "machine_end_silence", "machine_end_other", "fax")


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
