"""A callback's attempts: each consultant rung for a callback is an attempt row, numbered by its
INSERT, whose outcome is recorded once (a compare-and-set: _end_attempt). fail_attempt is the one
path every failure takes (the consultant freed, the callback retried or closed); the caller's leg
and its returned call are recorded once, from whichever webhook comes first (_record_dialled).
The consultant and the caller meet in a conference named after the attempt.
"""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from twilio.twiml.voice_response import VoiceResponse

import routing
from callbacks import schedule
from hotline import calls, runtime
from hotline.models import (
    AttemptOutcome,
    Call,
    Callback,
    CallbackAttempt,
    QueueEntry,
    QueueState,
    Staff,
    utcnow,
)
from hotline.telephony import TWILIO_ERRORS, external_url, rest_client
from hotline.webhooks import join_conference

log = logging.getLogger(__name__)

# Twilio's Direction of the call to the caller, placed through the REST API: its returned Call's.
RETURNED_DIRECTION = "outbound-api"


def conference_name(attempt: CallbackAttempt) -> str:
    return f"hotline-callback-{attempt.callback_id}-{attempt.number}"


def _office_number(callback: Callback) -> str:
    office = runtime.catalogue().office(callback.office_code)
    return office.numbers[0] if office and office.numbers else runtime.settings().twilio_phone_number


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
