"""The callbacks' reconciliation (periodic, callbacks.jobs.reconcile_job): what a lost job, a lost
status callback or a process that died left undone is done. Callbacks due and not in flight are
woken (callbacks.schedule.wake_due); attempts Twilio never told us the end of are failed and
retried; callbacks still in progress with every attempt ended are completed or retried; SMS whose
job was lost are sent.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.orm import Session, aliased

from callbacks import schedule, sms
from callbacks.attempts import _end_attempt, _free_holders, _is_latest, _pair_again, fail_attempt
from callbacks.caller_leg import on_caller_status
from callbacks.rules import rules
from hotline.models import AttemptOutcome, Call, Callback, CallbackAttempt, CallbackState

# How many due callbacks one reconciliation run wakes; the next run (a minute later) takes the rest.
RECONCILE_BATCH = 500


def reconcile(session: Session, now: datetime) -> int:
    """Wake every callback that is due and not in flight (its job was lost with Redis, or a
    worker died), up to RECONCILE_BATCH a run, in one batch (schedule.wake_due); fail attempts
    Twilio never told us the end of, and send the SMS whose job was lost. `now`: aware, UTC.
    Returns how many callbacks were woken."""
    fail_stuck_attempts(session, now)
    sms.send_missing(session, now)
    return schedule.wake_due(session, now, RECONCILE_BATCH)


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
