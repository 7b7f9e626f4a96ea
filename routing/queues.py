"""Callers waiting for a consultant, one queue per language x topic: entering, position, estimated
wait, widening, and the claim that gives a waiting caller to exactly one consultant.

Every change of state is a single conditional UPDATE (compare-and-set on `state`), so web
processes and workers racing for the same caller cannot both win. Functions that change rows
commit; functions that only read do not. `now` is passed in wherever time matters.
"""
from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import Integer, and_, bindparam, func, literal, or_, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hotline import config, db
from hotline.models import Call, QueueEntry, QueueState, UTCDateTime, utcnow
from routing.candidates import free_params
from routing.reservation import STALE_OFFER
from routing.takers import PickRules, free_takers, takers_count

WAITING, OFFERED = QueueState.waiting.value, QueueState.offered.value
IN_QUEUE = (WAITING, OFFERED)
# Twilio's QueueResult values that mean the caller reached a consultant.
BRIDGED_RESULTS = {"bridged", "bridging-in-process", "redirected-from-bridged"}
# The estimated wait divides the position by the answers of the queue in this recent window.
ANSWER_RATE_WINDOW = timedelta(minutes=30)


def enqueue(session: Session, call: Call, *, urgent: bool = False, now: datetime | None = None,
            first_rang_at: datetime | None = None) -> QueueEntry:
    """Put the call in the queue of its language and topic; a call has one entry, so a retried
    webhook gets the entry it already has, whatever its state.

    `first_rang_at` (default: when the call started) orders service; a callback that queues again
    passes the original call's so the caller keeps their place.
    """
    existing = _entry_of(session, call.id)
    if existing is not None:
        return existing
    if not call.language_code or not call.topic_code:
        raise ValueError(f"call {call.call_sid} has no language and topic to queue for")
    now = now or utcnow()
    return enqueue_waiting(session, call_sid=call.call_sid, language=call.language_code,
                           topic=call.topic_code, office=call.office_code,
                           first_rang_at=first_rang_at or call.started_at or now,
                           now=now, urgent=urgent, call_id=call.id)


def enqueue_waiting(session: Session, *, call_sid: str, language: str, topic: str, office: str,
                    first_rang_at: datetime, now: datetime, urgent: bool = False, call_id: int | None = None,
                    callback_id: int | None = None, assigned_staff_id: int | None = None) -> QueueEntry:
    """Queue a live call (call_id) or a callback that is due (callback_id) under `call_sid`, which
    is unique: queuing it again returns the entry it already has, whatever its state."""
    existing = session.scalar(select(QueueEntry).where(QueueEntry.call_sid == call_sid))
    if existing is not None:
        return existing
    entry = QueueEntry(
        call_id=call_id, callback_id=callback_id, assigned_staff_id=assigned_staff_id, call_sid=call_sid,
        language_code=language, topic_code=topic, office_code=office, urgent=urgent, entered_at=now,
        # Never later than entering: routing relies on it to end its index ranges early.
        first_rang_at=min(first_rang_at, now), state=WAITING,
    )
    session.add(entry)
    try:
        session.commit()
    except IntegrityError:  # a concurrent retry of the same webhook or job got there first
        session.rollback()
        existing = session.scalar(select(QueueEntry).where(QueueEntry.call_sid == call_sid))
        if existing is None:
            raise
        return existing
    return entry


def insert_entry(session: Session, call: Call, *, urgent: bool, accepts_languages: str | None,
                 now: datetime, max_size: int | None = None) -> tuple[int | None, bool]:
    """enqueue() for a call read with no queue entry (Call.queue_state ""), in the caller's
    transaction (not committed): one INSERT ... SELECT ... ON CONFLICT DO NOTHING RETURNING id, so
    that a twin of the webhook that got there first leaves this transaction intact (on PostgreSQL
    the INSERT waits for the twin's commit) and this one reads the twin's entry.

    `max_size`: the entry is inserted only while fewer callers than that are in the call's language
    x topic queue (waiting or being offered), counted in the same statement: the check and the
    insert are one compare-and-set, so two callers cannot both take the last place.

    Returns the entry's id and whether this call inserted it (False: the twin did); the id is None
    when the queue was full."""
    accepts = {code for code in (accepts_languages or "").split(",") if code and code != call.language_code}
    entry_id = session.scalar(_insert_entry(session.get_bind().dialect.name, max_size is not None), {
        "entry_call_id": call.id, "entry_call_sid": call.call_sid, "entry_language": call.language_code,
        "entry_topic": call.topic_code, "entry_office": call.office_code, "entry_urgent": urgent,
        "entry_now": now, "entry_first_rang": min(call.started_at or now, now),
        "entry_accepts": ",".join(sorted(accepts)) or None, "entry_max": max_size})
    if entry_id is not None:
        return entry_id, True
    return session.scalar(select(QueueEntry.id).where(QueueEntry.call_sid == call.call_sid)), False


@functools.lru_cache(maxsize=4)
def _insert_entry(dialect: str, bounded: bool):
    """insert_entry's statement for `dialect` ("postgresql" or "sqlite"), with the queue's size
    checked if `bounded`, built once. Every value is a typed bound parameter (PostgreSQL must know
    the type of a SELECT's parameter)."""
    insert = db.dialect_insert(dialect)
    columns = QueueEntry.__table__.c

    def value(name: str, column: str):
        return bindparam(name, type_=columns[column].type).label(column)

    values = select(
        value("entry_call_id", "call_id"), value("entry_call_sid", "call_sid"),
        value("entry_language", "language_code"), value("entry_topic", "topic_code"),
        value("entry_office", "office_code"), value("entry_urgent", "urgent"),
        value("entry_now", "entered_at"), value("entry_first_rang", "first_rang_at"),
        literal(WAITING, type_=columns["state"].type).label("state"),
        value("entry_accepts", "accepts_languages"))
    # The callers in the entry's language x topic queue (waiting or being offered), fewer than the
    # queue's size. SQLite needs a WHERE in an INSERT ... SELECT followed by ON CONFLICT anyway
    # (its parser's ambiguity): true() when unbounded.
    length = select(func.count()).select_from(QueueEntry).where(
        QueueEntry.state.in_(IN_QUEUE), QueueEntry.language_code == bindparam("entry_language"),
        QueueEntry.topic_code == bindparam("entry_topic")).scalar_subquery()
    room = length < bindparam("entry_max", type_=Integer) if bounded else true()
    return (insert(QueueEntry.__table__)
            .from_select([column.name for column in values.selected_columns], values.where(room))
            .on_conflict_do_nothing().returning(QueueEntry.__table__.c.id))


def _entry_of(session: Session, call_id: int) -> QueueEntry | None:
    return session.scalar(select(QueueEntry).where(QueueEntry.call_id == call_id))


def _ahead(entry: QueueEntry):
    """The SELECT of how many callers are ahead of `entry` in its language x topic queue."""
    e = QueueEntry
    earlier = or_(e.first_rang_at < entry.first_rang_at,
                  and_(e.first_rang_at == entry.first_rang_at, e.id < entry.id))
    ahead = and_(e.urgent.is_(True), earlier) if entry.urgent else or_(e.urgent.is_(True), earlier)
    return (select(func.count()).select_from(e)
            .where(e.state.in_(IN_QUEUE), e.language_code == entry.language_code,
                   e.topic_code == entry.topic_code, ahead))


def _answered(entry: QueueEntry, now: datetime, window: timedelta):
    """The SELECT of how many callers of the entry's queue were bridged in `window` before `now`."""
    e = QueueEntry
    return (select(func.count()).select_from(e)
            .where(e.state == QueueState.bridged.value, e.language_code == entry.language_code,
                   e.topic_code == entry.topic_code, e.ended_at > now - window, e.ended_at <= now))


def position(session: Session, entry: QueueEntry) -> int:
    """1-based place among the callers of the same language x topic still in the queue (waiting or
    being offered): urgent callers first, then by first_rang_at, then by arrival."""
    return session.scalar(_ahead(entry)) + 1


def expected_wait(place: int, answered: int, free: int, window: timedelta, min_answers: int) -> int | None:
    """Seconds until a caller at `place` is likely answered, or None: say nothing rather than
    something wrong (issue 17). With `free` consultants who may take the caller now at least as
    many as `place`, 0 (they are being rung). Otherwise the callers up to them that those leave,
    over the queue's answer rate: `answered` callers in `window`, which must be at least
    `min_answers` ([queue] estimate_min_answers) for a rate worth saying."""
    if free >= place:
        return 0
    if answered < max(1, min_answers):
        return None
    return round((place - free) * window.total_seconds() / answered)


def estimated_wait(session: Session, entry: QueueEntry, now: datetime, window: timedelta = ANSWER_RATE_WINDOW,
                   *, rules: PickRules | None = None, min_answers: int | None = None) -> int | None:
    """wait_figures' expected wait alone (seconds, or None)."""
    return wait_figures(session, entry, now, window, rules=rules, min_answers=min_answers)[1]


def wait_figures(session: Session, entry: QueueEntry, now: datetime, window: timedelta = ANSWER_RATE_WINDOW,
                 *, rules: PickRules | None = None,
                 min_answers: int | None = None) -> tuple[int, int | None]:
    """(position, expected wait in seconds or None: expected_wait) of a waiting caller at `now`
    (aware, UTC), from their place, the callers of their language x topic bridged in the last
    `window`, and (with `rules`, routing.pick_rules) the consultants who may take them now
    (routing.takers; without, none counted); `min_answers` (catalogue.queue.estimate_min_answers)
    defaults to the packaged [queue] estimate_min_answers. Read in one statement (the counts as
    scalar subqueries of one SELECT): what each turn of the wait URL tells the caller, in one
    round trip."""
    if min_answers is None:
        min_answers = config.default("queue", "estimate_min_answers")
    counts = [_ahead(entry).scalar_subquery(), _answered(entry, now, window).scalar_subquery()]
    if rules is not None:
        counts.append(takers_count(entry, now, rules))
    ahead, answered, *free = session.execute(select(*counts), free_params(now)).one()
    place = ahead + 1
    return place, expected_wait(place, answered, free[0] if free else 0, window, min_answers)


def accept_languages(session: Session, entry_id: int, languages: Iterable[str]) -> None:
    """The caller agreed to be served in these languages too (e.g. English or Bulgarian)."""
    entry = session.get_one(QueueEntry, entry_id)
    known = set(entry.accepts_languages.split(",")) if entry.accepts_languages else set()
    known |= {code.strip() for code in languages if code.strip() and code.strip() != entry.language_code}
    entry.accepts_languages = ",".join(sorted(known)) or None
    session.commit()


def claim(session: Session, entry_id: int, staff_id: int, now: datetime, commit: bool = True) -> bool:
    """Take a waiting caller for one consultant (waiting -> offered); True for exactly one of any
    number of concurrent claimers. With commit=False the caller commits or rolls back."""
    return _change(session, entry_id, (WAITING,), state=OFFERED, offered_staff_id=staff_id, offered_at=now,
                   _commit=commit)


def unclaim(session: Session, entry_id: int, staff_id: int | None = None) -> bool:
    """The offer was not answered: the caller waits again, keeping their place. With `staff_id`,
    only that consultant's offer is undone (a late webhook must not undo a newer claim)."""
    extra = () if staff_id is None else (QueueEntry.offered_staff_id == staff_id,)
    return _change(session, entry_id, (OFFERED,), *extra,
                   state=WAITING, offered_staff_id=None, offered_at=None)


def unclaim_stale(session: Session, now: datetime, older_than: timedelta = STALE_OFFER) -> int:
    """Offers whose answer never came (a lost webhook) go back to waiting; returns how many."""
    result = session.execute(
        update(QueueEntry)
        .where(QueueEntry.state == OFFERED, QueueEntry.offered_at <= now - older_than)
        .values(state=WAITING, offered_staff_id=None, offered_at=None)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return result.rowcount


def mark_bridged(session: Session, entry_id: int, now: datetime, staff_id: int | None = None) -> bool:
    """The caller is connected: the entry leaves the queue. False if it had left already, or (with
    `staff_id`) if it is no longer offered to that consultant: a caller is bridged once."""
    if staff_id is None:
        return _change(session, entry_id, IN_QUEUE, state=QueueState.bridged.value, ended_at=now,
                       result="bridged")
    return _change(session, entry_id, (OFFERED,), QueueEntry.offered_staff_id == staff_id,
                   state=QueueState.bridged.value, ended_at=now, result="bridged")


def unbridge(session: Session, entry_id: int, staff_id: int) -> bool:
    """A bridge that did not happen (Twilio could not redirect the caller): the caller waits again,
    keeping their place. Only the consultant's own bridge, once."""
    return _change(session, entry_id, (QueueState.bridged.value,), QueueEntry.offered_staff_id == staff_id,
                   state=WAITING, offered_staff_id=None, offered_at=None, ended_at=None, result=None)


def widen_entry(session: Session, entry_id: int, level: int = 1, commit: bool = True) -> bool:
    """Record that this caller has been widened to `level` (1: any consultant with their language;
    2: the other office too); True only the first time, so the caller hears it once. With
    commit=False the caller commits (with the journal event that says so)."""
    return _change(session, entry_id, IN_QUEUE, QueueEntry.widen_level < level, widen_level=level,
                   _commit=commit)


def leave(session: Session, entry_id: int, reason: str, now: datetime) -> bool:
    """A waiting caller is leaving the queue (a key they pressed, the longest wait): out of it at
    once, so that no consultant is rung for them in the moment before Twilio acts on <Leave/>; the
    reason is for the Enqueue action to read. Only a caller still waiting: one whose consultant is
    ringing stays for that consultant."""
    return _change(session, entry_id, (WAITING,), state=QueueState.left.value, leave_reason=reason,
                   ended_at=now, result=reason)


def entry_for_call(session: Session, call_sid: str) -> QueueEntry | None:
    return session.scalar(select(QueueEntry).where(QueueEntry.call_sid == call_sid))


def mark_left(session: Session, call_sid: str, result: str, now: datetime, commit: bool = True) -> bool:
    """The caller left the queue: `result` is Twilio's QueueResult or our reason. A hangup is
    abandoned, a bridge is bridged, anything else left. False if no entry was in the queue.
    A consultant still being rung for the caller is released by routing.release(call_sid).
    With commit=False the caller commits it with the rest of its step."""
    if result == "hangup":
        state = QueueState.abandoned.value
    elif result in BRIDGED_RESULTS:
        state = QueueState.bridged.value
    else:
        state = QueueState.left.value
    changed = session.execute(
        update(QueueEntry)
        .where(QueueEntry.call_sid == call_sid, QueueEntry.state.in_(IN_QUEUE))
        .values(state=state, ended_at=now, result=result)
        .execution_options(synchronize_session=False)
    )
    if commit:
        session.commit()
    return changed.rowcount == 1


def abandon(session: Session, call_sid: str, now: datetime) -> tuple[bool, int | None]:
    """mark_left(call_sid, "hangup") in the caller's transaction (not committed), in one UPDATE
    ... RETURNING: whether an entry was in the queue, and the consultant it is offered to as stored
    now (a pairing that committed after the caller's call was read), or None."""
    row = session.execute(_ABANDON, {"abandon_call": call_sid, "abandon_now": now}).one_or_none()
    return (False, None) if row is None else (True, row.offered_staff_id)


_ABANDON = (  # built once: building it cost more than running it
    update(QueueEntry)
    .where(QueueEntry.call_sid == bindparam("abandon_call"), QueueEntry.state.in_(IN_QUEUE))
    .values(state=QueueState.abandoned.value, ended_at=bindparam("abandon_now", type_=UTCDateTime),
            result="hangup")
    .returning(QueueEntry.offered_staff_id)
    .execution_options(synchronize_session=False)
)


def _change(session: Session, entry_id: int, from_states: tuple[str, ...], *conditions, _commit: bool = True,
            **values) -> bool:
    """Compare-and-set: change the entry only if it is in one of `from_states`."""
    result = session.execute(
        update(QueueEntry)
        .where(QueueEntry.id == entry_id, QueueEntry.state.in_(from_states), *conditions)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if _commit:
        session.commit()
    return result.rowcount == 1


def queue_figures(session: Session, now: datetime, rules: PickRules) -> list[dict]:
    """Each language x topic queue with callers in it at `now` (aware, UTC): how many wait (and of
    them are being offered), the longest time in the queue (seconds), and how many consultants are
    free who may take one of its waiting callers now (routing.takers, by `rules`:
    routing.pick_rules). Two statements, one with nobody in a queue."""
    # As stored now, not as an earlier read of the session left them (compare-and-sets skip it).
    entries = list(session.scalars(select(QueueEntry).where(QueueEntry.state.in_(IN_QUEUE))
                                   .execution_options(populate_existing=True)))
    takers = free_takers(session, entries, now, rules)
    queues: dict[tuple[str, str], dict] = {}
    for entry in entries:
        queue = queues.setdefault((entry.language_code, entry.topic_code), {
            "language": entry.language_code, "topic": entry.topic_code, "waiting": 0, "offered": 0,
            "entered": entry.entered_at, "free": set()})
        queue["waiting"] += 1
        queue["offered"] += entry.state == OFFERED
        queue["entered"] = min(queue["entered"], entry.entered_at)
        queue["free"] |= takers[entry.id]
    return [
        {"language": q["language"], "topic": q["topic"], "waiting": q["waiting"], "offered": q["offered"],
         "longest_wait_seconds": max(0, int((now - q["entered"]).total_seconds())),
         "available_consultants": len(q["free"])}
        for _, q in sorted(queues.items())
    ]
