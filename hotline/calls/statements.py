"""Every statement of hotline.calls that PostgreSQL and SQLite cannot share, side by side: the
row lock, a step's writes and a call's close. PostgreSQL writes a step's changes and journal, or a
close with its record and journal, in one statement (a WITH of several writes: one round trip);
SQLite has no writing WITH, so there the same parts, built by the same functions, are statements
of their own. No other module of hotline.calls (nor of the project) asks which database it runs on."""
from __future__ import annotations

import functools

from sqlalchemy import (
    Integer,
    String,
    bindparam,
    func,
    insert,
    literal,
    null,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import Session

from hotline import db, records
from hotline.models import Call, CallEvent, UTCDateTime

POSTGRESQL = "postgresql"
_calls, _events = Call.__table__, CallEvent.__table__
EVENT_COLUMNS = ("at", "kind", "detail", "consultant_id")


def dialect(session: Session) -> str:
    """The name of the dialect of `session`'s database: "postgresql" or "sqlite" (the app's
    sessions are bound to its engine: read without a call of get_bind)."""
    return (session.bind or session.get_bind()).dialect.name


# -- opening ----------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=8)
def insert_call(name: str, columns: tuple[str, ...]) -> tuple[object, bool]:
    """(INSERT of a call of `columns` unless its CallSid is stored already, returning its id, no
    row if it was; whether it journals the call's first event too). ON CONFLICT DO NOTHING, which
    both dialects have, each in its own construct (`name`: the dialect's name). PostgreSQL: with
    the first event (bound: first_at, first_kind, first_detail, first_consultant_id), `WITH new AS
    (INSERT INTO calls ... RETURNING id), first AS (INSERT INTO call_events ... SELECT ... FROM new)
    SELECT id FROM new`: one round trip, nothing journalled when nothing was inserted. SQLite: the
    INSERT alone (the event is journalled with the step's others)."""
    inserting = db.dialect_insert(name)(_calls).on_conflict_do_nothing(index_elements=["call_sid"])
    if name != POSTGRESQL:
        return inserting.returning(_calls.c.id), False
    new = (inserting.values({column: bindparam(column, type_=_calls.c[column].type) for column in columns})
           .returning(_calls.c.id).cte("new"))
    first = insert(_events).from_select(["call_id", *EVENT_COLUMNS], select(
        new.c.id, *(bindparam(f"first_{column}", type_=_events.c[column].type) for column in EVENT_COLUMNS)))
    return select(new.c.id).add_cte(first.cte("first")), True


# -- locking ----------------------------------------------------------------------------------------

# FOR NO KEY UPDATE: the lock an UPDATE of the call takes, which leaves alone the KEY SHARE lock
# that inserting a journal event (a foreign key to the call) takes; FOR UPDATE would make every
# other transaction journalling this call wait for this one.
_LOCK_CALL = select(_calls.c.id).where(_calls.c.id == bindparam("lock_id")).with_for_update(key_share=True)


def lock(name: str):
    """The statement that locks a call's row (bound: lock_id) until the transaction ends: SELECT
    ... FOR NO KEY UPDATE on PostgreSQL; None on SQLite, which has no row locks (its writers are
    serialized on the database)."""
    return _LOCK_CALL if name == POSTGRESQL else None


# -- a step's writes --------------------------------------------------------------------------------

def step_writes(name: str, changed: dict[int, dict[str, object]],
                events: list[dict[str, object]]) -> list[tuple[object, object]]:
    """The (statement, parameters) that write a step's call changes (`changed`: {call id: {column:
    value}}) and journal events (`events`: rows of call_events, in order). On PostgreSQL, when the
    events are all of one call and no other call changed: one statement (_journal_with_changes).
    Otherwise, and on SQLite: an UPDATE per changed call, then one INSERT of the events (a Core
    executemany, which SQLAlchemy sends to PostgreSQL as one multi-row INSERT)."""
    call_id = events[0]["call_id"] if events else None
    if (name == POSTGRESQL and events and changed.keys() <= {call_id}
            and {event["call_id"] for event in events} == {call_id}):
        columns = changed.get(call_id, {})
        params: dict[str, object] = {"journal_call": call_id}
        params.update({f"set_{column}": value for column, value in columns.items()})
        for n, event in enumerate(events):
            params.update({f"event{n}_{column}": event[column] for column in EVENT_COLUMNS})
        return [(_journal_with_changes(tuple(sorted(columns)), len(events)), params)]
    writes: list[tuple[object, object]] = [
        (update(_calls).where(_calls.c.id == other).values(**columns), None)
        for other, columns in changed.items() if columns]
    if events:
        writes.append((insert(_events), events))
    return writes


@functools.lru_cache(maxsize=64)
def _journal_with_changes(changed: tuple[str, ...], events: int):
    """PostgreSQL: `WITH changed AS (UPDATE calls SET <changed> WHERE id = ...) INSERT INTO
    call_events VALUES <events rows>`, built once per shape (the columns changed, the number of
    events). A data-modifying WITH runs to completion whether or not the INSERT reads it
    (PostgreSQL's documentation, "Data-Modifying Statements in WITH")."""
    # INSERT ... SELECT of bound values, one SELECT per event: SQLAlchemy caches its compiled form,
    # where a multi-row VALUES built with .values([...]) is compiled again at every run.
    rows = [select(bindparam("journal_call", type_=Integer),
                   *(bindparam(f"event{n}_{column}", type_=_events.c[column].type)
                     for column in EVENT_COLUMNS))
            for n in range(events)]
    statement = insert(_events).from_select(["call_id", *EVENT_COLUMNS],
                                            rows[0] if events == 1 else union_all(*rows))
    if changed:
        write = (update(_calls).where(_calls.c.id == bindparam("journal_call", type_=Integer))
                 .values({column: bindparam(f"set_{column}", type_=_calls.c[column].type)
                          for column in changed}))
        statement = statement.add_cte(write.cte("changed"))
    return statement


# -- closing ----------------------------------------------------------------------------------------

# What a close reads back from its UPDATE: the call's values as stored, for its record.
CLOSED_COLUMNS = (Call.ended_at, Call.twilio_status, Call.duration_seconds, Call.outcome,
                  Call.talk_seconds, Call.language_code, Call.topic_code, Call.office_code,
                  Call.consultant_id, Call.answered_at, Call.started_at)

# The close's compare-and-set, on a call not yet ended, built once (building it cost more than
# running it); a talk time of None keeps the one stored. Bound: close_id, close_ended_at,
# close_status, close_duration, close_outcome, close_talk (and close_stage, for the journal).
_CLOSE = (
    update(_calls).where(_calls.c.id == bindparam("close_id"), _calls.c.ended_at.is_(None))
    .values(ended_at=bindparam("close_ended_at", type_=UTCDateTime), twilio_status=bindparam("close_status"),
            duration_seconds=bindparam("close_duration", type_=Integer), outcome=bindparam("close_outcome"),
            stage="ended",
            talk_seconds=func.coalesce(bindparam("close_talk", type_=Integer), _calls.c.talk_seconds))
    .returning(*CLOSED_COLUMNS)
)

def _stored_call():
    """The call being closed as stored (for SQLite, after the close's UPDATE; for a record made
    again, the call another transaction closed)."""
    return select(_calls).where(_calls.c.id == bindparam("close_id", type_=Integer)).subquery("stored")


def record_from(source):
    """The close's INSERT of the record of the call in `source` (hotline.records.record_from, which
    owns the record), bound by the close's parameters: close_id, dated close_ended_at."""
    return records.record_from(source, bindparam("close_id", type_=Integer),
                               bindparam("close_ended_at", type_=UTCDateTime))


def _close_events(source, abandoned: bool):
    """INSERT of the journal's "abandoned" (with `abandoned`: where the caller gave up, the stage
    bound as close_stage) and "ended" events of the call in `source`, in that order."""
    call_id = bindparam("close_id", type_=Integer)
    at = bindparam("close_ended_at", type_=UTCDateTime)
    # Each event's columns in the order of ["call_id", *EVENT_COLUMNS].
    events = [select(call_id, at, literal("ended", String), source.c.outcome, source.c.consultant_id)]
    if abandoned:  # first: the event ids keep the order
        stage = bindparam("close_stage", type_=String)
        events.insert(0, select(call_id, at, literal("abandoned", String), stage, null()).select_from(source))
    return insert(_events).from_select(["call_id", *EVENT_COLUMNS],
                                       union_all(*events) if abandoned else events[0])


@functools.lru_cache(maxsize=8)
def close(name: str, record: bool, abandoned: bool) -> tuple[object, tuple[object, ...]]:
    """The close of a call: (its compare-and-set, returning CLOSED_COLUMNS or no row if a twin
    closed it first; what to run after it only if it returned a row), bound by the same parameters.
    Writes the call's end, its record (with `record`) and its journal's events (_close_events).

    PostgreSQL: one statement, `WITH closed AS (UPDATE calls ... RETURNING ...), record AS (INSERT
    ... SELECT ... FROM closed), ended AS (INSERT ... SELECT ... FROM closed) SELECT <closed's
    columns> FROM closed`: nothing is inserted when the UPDATE closed nothing; each part of a WITH
    sees the same snapshot and runs to completion (PostgreSQL's documentation, "Data-Modifying
    Statements in WITH"). SQLite: the UPDATE, then the same INSERTs reading the stored row."""
    if name != POSTGRESQL:
        stored = _stored_call()
        return _CLOSE, ((record_from(stored),) if record else ()) + (_close_events(stored, abandoned),)
    closed = _CLOSE.cte("closed")
    parts = [record_from(closed).cte("record")] if record else []
    parts.append(_close_events(closed, abandoned).cte("ended"))
    return select(*(closed.c[column.key] for column in CLOSED_COLUMNS)).add_cte(*parts), ()


@functools.lru_cache(maxsize=1)
def record_again():
    """INSERT of the record of a call closed already (bound: close_id, close_ended_at), read from
    its stored row: the same columns as the close's."""
    return record_from(_stored_call())
