"""A callback's life in time: booked (a draft, then confirmed with its window), woken when it is due
(into the queue, keeping the caller's place), retried on a schedule within office hours, closed.

The row is the source of truth. Each change is committed before any job is enqueued; jobs carry
ids only and re-read the row, so a job run twice or late does nothing more. RQ's scheduler wakes a
callback at its time (`enqueue_at`); the periodic reconciliation wakes any that is due and not in
flight, so a Redis that lost its data or a worker that died loses nothing.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import routing
from callbacks import sms
from callbacks.rules import rules
from hotline import calls, hours, runtime
from hotline.models import Call, Callback, CallbackState, QueueEntry, QueueState, utcnow

log = logging.getLogger(__name__)

SCHEDULED, DUE = CallbackState.scheduled.value, CallbackState.due.value
# How many due callbacks one transaction of wake_due queues (wake_due_job runs batches until done).
WAKE_BATCH = 500
# A callback's own wake-up job runs this long after its due time: the job that wakes every callback
# due at that moment (wake_due_job) comes first, and this one only finds what that one missed.
WAKE_FALLBACK = timedelta(seconds=30)


def entry_sid(callback: Callback) -> str:
    """The queue entry of a callback's attempt at its due time: waking it twice queues it once,
    and a callback moved to another time (rescheduled, reassigned) gets an entry of its own."""
    return f"callback-{callback.id}-{callback.attempts + 1}-{round(callback.due_at.timestamp() * 1_000_000)}"


# -- booking ----------------------------------------------------------------------------------------

def draft(session: Session, call: Call, number: str | None) -> Callback:
    """The callback the caller is booking on this call (one per call: a retried webhook gets the
    same row), with the number to call; not scheduled until confirm()."""
    callback = session.scalar(select(Callback).where(Callback.call_id == call.id))
    now = utcnow()
    if callback is None:
        callback = Callback(
            call_id=call.id, number=number,
            language_code=call.language_code or runtime.catalogue().default_language,
            topic_code=call.topic_code or runtime.catalogue().default_topic, office_code=call.office_code,
            first_rang_at=call.started_at or now, window_start=now, window_end=now, due_at=now,
            state=CallbackState.draft.value,
        )
        session.add(callback)
        try:
            session.commit()
        except IntegrityError:  # the same webhook, retried concurrently
            session.rollback()
            return session.scalar(select(Callback).where(Callback.call_id == call.id))
        return callback
    if callback.state == CallbackState.draft.value:
        callback.number = number
        session.commit()
    return callback


def confirm(session: Session, callback: Callback, window_start: datetime, window_end: datetime) -> Callback:
    """Book the draft for its window (aware datetimes): scheduled for the window's start (or the
    office's next opening after it), then its wake-up job and the confirmation SMS. A compare-and-set
    on the draft: a second confirm (a retried webhook) changes nothing and returns the booking."""
    due_at = next_allowed(callback.office_code, window_start)
    if not _transition(session, callback.id, (CallbackState.draft.value,), state=SCHEDULED,
                       window_start=window_start, window_end=window_end, due_at=due_at):
        session.rollback()
        session.refresh(callback)
        return callback
    session.commit()
    session.refresh(callback)
    schedule_wake(callback)
    if rules().sms:
        sms.enqueue("booked", callback.id)
    return callback


def next_allowed(office_code: str, at: datetime) -> datetime:
    """`at`, or the office's next opening if it is closed then (holidays included)."""
    office = runtime.catalogue().office(office_code)
    if office is None or hours.is_open(office, at):
        return at
    return hours.next_opening(office, at) or at


def schedule_wake(callback: Callback) -> None:
    """Arm the callback's wake-up at due_at (UTC). Due already: its own wake-up job, now. Due later:
    the job that wakes every callback due at that moment in one batch (wake_due_job, one job id per
    whole second, so 500 callbacks booked for an opening arm one job), and the callback's own job
    WAKE_FALLBACK later, should the batch job be lost (a job id per callback, attempt and time,
    so arming it again is harmless). Best effort: the reconciliation wakes what Redis lost."""
    attempt = callback.attempts + 1
    job_id = f"callback_{callback.id}_{attempt}_{int(callback.due_at.timestamp())}"
    if callback.due_at <= utcnow():  # as runtime.enqueue_hint decides "now"
        runtime.enqueue_hint("callbacks.jobs.wake_job", callback.id, at=callback.due_at, job_id=job_id)
        return
    # The whole second RQ will run it at (runtime.enqueue_hint rounds up too): one job per second.
    moment = runtime.whole_second_after(callback.due_at)
    runtime.enqueue_hint("callbacks.jobs.wake_due_job", at=moment,
                          job_id=f"callbacks_due_{int(moment.timestamp())}")
    runtime.enqueue_hint("callbacks.jobs.wake_job", callback.id, at=callback.due_at + WAKE_FALLBACK,
                          job_id=job_id)


# -- waking -----------------------------------------------------------------------------------------

def wake(session: Session, callback_id: int, now: datetime) -> QueueEntry | None:
    """A callback whose time has come (`now`, UTC) goes into the queue of its language and topic,
    with the caller's first ring as its place, and is paired at once. Idempotent: not yet due,
    closed, or queued already: nothing. The move to due is a compare-and-set committed with the
    queue entry, so a cancel that commits first is never undone."""
    callback = session.get(Callback, callback_id)
    if callback is None or callback.state not in (SCHEDULED, DUE) or callback.due_at > now:
        return None
    if callback.state == DUE:
        queued = routing.entry_for_call(session, entry_sid(callback))
        if queued is not None and queued.state in routing.IN_QUEUE:
            return queued  # woken already (wake_due, or this job run before): it waits to be paired
    allowed = next_allowed(callback.office_code, now)
    if allowed > now:  # the office has closed since: the next opening
        if _transition(session, callback_id, (SCHEDULED, DUE), state=SCHEDULED, due_at=allowed):
            session.commit()
            session.refresh(callback)
            schedule_wake(callback)
        else:
            _lost_race(session, callback, "wake")
        return None
    if not _transition(session, callback_id, (SCHEDULED, DUE), state=DUE):
        _lost_race(session, callback, "wake")
        return None
    entry = routing.enqueue_waiting(  # commits the callback's move to due with its new entry
        session, call_sid=entry_sid(callback), language=callback.language_code,
        topic=callback.topic_code, office=callback.office_code, first_rang_at=callback.first_rang_at, now=now,
        callback_id=callback.id, assigned_staff_id=callback.assigned_staff_id,
    )
    if entry.state not in routing.IN_QUEUE:
        session.rollback()  # queued before and out of the queue since: the callback stays as it was
        return entry
    session.commit()  # the entry was there already (woken twice): the move to due alone
    # Pair it now, in this job, rather than in a job of its own; if this worker dies first,
    # the entry waits and the queue's sweep pairs it.
    routing.find_consultant(session, entry.id)
    return entry


def wake_due(session: Session, now: datetime, limit: int = WAKE_BATCH) -> int:
    """Wake up to `limit` callbacks due by `now` (UTC) and not yet queued, all in one transaction:
    one SELECT (their rows locked; on PostgreSQL rows another transaction holds are skipped, it
    wakes those), one INSERT of their queue entries, one compare-and-set UPDATE to due. Then each
    free consultant who could take one of them takes their best caller, and their phones are rung
    together (routing.pair_consultants), so the work after an opening follows the consultants free,
    not the callbacks due, and Twilio's round trips overlap rather than queue up.

    Callbacks of an office closed at `now` go through wake() one by one (it moves them to the next
    opening). Idempotent as wake(): a callback queued already, or whose entry for this attempt
    left the queue, is not queued (again). Returns how many callbacks this call queued."""
    closed = tuple(office.code for office in runtime.catalogue().offices if not hours.is_open(office, now))
    due = session.execute(_due(now, closed).limit(limit).with_for_update(of=Callback, skip_locked=True)).all()
    queued = _queue_entries(session, due, now) if due else {}
    if queued:
        changed = set(session.scalars(
            update(Callback).where(Callback.id.in_(list(queued)), Callback.state.in_((SCHEDULED, DUE)))
            .values(state=DUE).returning(Callback.id).execution_options(synchronize_session=False)))
        # Rows are locked since the SELECT, so all change; should one not, its entry goes too.
        if unchanged := [queued[callback_id] for callback_id in queued if callback_id not in changed]:
            routing.discard_entries(session, unchanged)
        queued = {callback_id: sid for callback_id, sid in queued.items() if callback_id in changed}
    session.commit()
    if closed:
        closing = _due(now, closed, open_offices=False).with_only_columns(Callback.id).limit(limit)
        for callback_id in session.scalars(closing).all():
            wake(session, callback_id, now)
    if queued:
        woken = [row for row in due if row.id in queued]
        free = routing.free_consultants(session, {row.language_code for row in woken}, now)
        assigned = {row.assigned_staff_id for row in woken if row.assigned_staff_id is not None}
        # Longest idle first, as routing orders them; if this job dies before, the sweep pairs them.
        routing.pair_consultants(session, dict.fromkeys([*(staff.id for staff in free), *sorted(assigned)]))
    return len(queued)


def _due(now: datetime, closed: tuple[str, ...], open_offices: bool = True):
    """The SELECT of callbacks due by `now` with no entry in the queue, oldest due first: of the
    offices not in `closed` (or, open_offices=False, of those in it)."""
    queued = exists().where(QueueEntry.callback_id == Callback.id, QueueEntry.state.in_(routing.IN_QUEUE))
    if open_offices:
        office = (Callback.office_code.not_in(closed),) if closed else ()
    else:
        office = (Callback.office_code.in_(closed),)
    columns = (Callback.id, Callback.attempts, Callback.due_at, Callback.language_code, Callback.topic_code,
               Callback.office_code, Callback.first_rang_at, Callback.assigned_staff_id)
    return (select(*columns)
            .where(Callback.state.in_((SCHEDULED, DUE)), Callback.due_at <= now, ~queued, *office)
            .order_by(Callback.due_at, Callback.id))


def _queue_entries(session: Session, due: list, now: datetime) -> dict[int, str]:
    """Queue a waiting entry for each of the `due` callback rows (not committed), in one INSERT
    (routing.enqueue_callbacks): an entry of the same attempt that exists already (queued by a
    twin, or out of the queue since) is left as it is. Returns {callback id: entry sid} of those
    inserted."""
    sids = {row.id: entry_sid(row) for row in due}
    inserted = routing.enqueue_callbacks(session, [
        routing.DueCallback(call_sid=sids[row.id], callback_id=row.id, language=row.language_code,
                            topic=row.topic_code, office=row.office_code, first_rang_at=row.first_rang_at,
                            assigned_staff_id=row.assigned_staff_id) for row in due], now)
    return {callback_id: sid for callback_id, sid in sids.items() if sid in inserted}


# -- after an attempt ------------------------------------------------------------------------------

def retry_or_close(session: Session, callback: Callback, now: datetime) -> bool:
    """An attempt did not reach the caller: try again after the configured delay, within office
    hours, or, after the last attempt, close the callback as unreachable (and tell the caller).

    A compare-and-set from in_progress, committed with whatever the session holds already (the
    attempt's outcome, its journal entry): one transaction. False if the callback was no longer in
    progress (a twin webhook moved it first): nothing else changes."""
    settings = rules()
    closing = callback.attempts >= settings.max_attempts
    if closing:
        changed = _transition(session, callback.id, (CallbackState.in_progress.value,),
                              state=CallbackState.unreachable.value, closed_at=now)
    else:
        changed = _transition(session, callback.id, (CallbackState.in_progress.value,), state=SCHEDULED,
                              due_at=next_allowed(callback.office_code,
                                                  now + settings.retry_delay(callback.attempts)))
    session.commit()
    if not changed:
        return False
    session.refresh(callback)
    if not closing:
        schedule_wake(callback)
    elif settings.sms:
        sms.enqueue("unreachable", callback.id)
    return True


def _transition(session: Session, callback_id: int, from_states: tuple[str, ...], **values) -> bool:
    """Compare-and-set, not committed: change the callback only if its state is one of
    `from_states`. True if it changed (its row is then locked until the transaction ends); the
    callback in the session then holds the new values ("fetch": the rows the UPDATE returned)."""
    return session.execute(
        update(Callback).where(Callback.id == callback_id, Callback.state.in_(from_states))
        .values(**values).execution_options(synchronize_session="fetch")
    ).rowcount == 1


def _lost_race(session: Session, callback: Callback, what: str) -> None:
    """A transition lost to a concurrent one (a cancel, say): nothing changes but the journal."""
    session.rollback()
    calls.record_event(session, callback.call_id, "callback_race_lost", what)


# -- staff actions ---------------------------------------------------------------------------------

def cancel(session: Session, callback_id: int, now: datetime) -> bool:
    """Cancel an open callback (not one whose caller is being called right now); its queue entry,
    if any, leaves the queue. False if it was not open."""
    changed = _transition(session, callback_id, (SCHEDULED, DUE, CallbackState.draft.value),
                          state=CallbackState.canceled.value, closed_at=now)
    session.commit()
    if changed:
        _leave_queue(session, callback_id, "canceled", now, even_if_offered=True)
    return bool(changed)


def reschedule(session: Session, callback_id: int, due_at: datetime, now: datetime) -> bool:
    """Move an open callback that is not being placed to `due_at` (UTC; the office's next opening
    if closed then). False if it is not scheduled or due, or a concurrent change came first."""
    callback = session.get(Callback, callback_id)
    if callback is None or callback.state not in (SCHEDULED, DUE):
        return False
    if callback.state == DUE and not _leave_queue(session, callback_id, "rescheduled", now):
        return False  # its consultant is being rung: too late to move it
    if not _transition(session, callback_id, (SCHEDULED, DUE), state=SCHEDULED,
                       due_at=next_allowed(callback.office_code, due_at)):
        _lost_race(session, callback, "reschedule")
        return False
    session.commit()
    session.refresh(callback)
    schedule_wake(callback)
    return True


def reassign(session: Session, callback_id: int, staff_id: int | None, now: datetime) -> bool:
    """Give an open callback to one consultant (None: anyone suitable). A callback already in the
    queue is queued again for them, keeping its place. False if it is not open and not being
    placed, or a concurrent change came first."""
    callback = session.get(Callback, callback_id)
    if callback is None or callback.state not in (SCHEDULED, DUE, CallbackState.draft.value):
        return False
    seen = callback.state
    if seen == DUE and not _leave_queue(session, callback_id, "reassigned", now):
        return False
    values = {"assigned_staff_id": staff_id}
    if seen == DUE:  # queued again at once, for them, keeping the caller's place
        values.update(state=SCHEDULED, due_at=max(now, callback.due_at))
    if not _transition(session, callback_id, (seen,), **values):
        _lost_race(session, callback, "reassign")
        return False
    session.commit()
    session.refresh(callback)
    if callback.due_at <= now:
        wake(session, callback.id, now)
    return True


def _leave_queue(session: Session, callback_id: int, reason: str, now: datetime,
                 even_if_offered: bool = False) -> bool:
    """Take the callback's waiting entry out of the queue; False if a consultant is being rung
    for it (it is theirs now), unless `even_if_offered` (a cancelled callback): then their phone
    stops ringing and they are free again."""
    entry = session.scalar(select(QueueEntry).where(
        QueueEntry.callback_id == callback_id, QueueEntry.state.in_(routing.IN_QUEUE)))
    if entry is None:
        return True
    staff_id = entry.offered_staff_id
    if (entry.state == QueueState.offered.value and even_if_offered
            and routing.unclaim(session, entry.id, staff_id)):
        routing.cancel_leg(entry.offer_leg_sid)
        routing.release(session, entry.call_sid, staff_id)
        routing.consultant_may_be_free(staff_id)
    return routing.leave(session, entry.id, reason, now)
