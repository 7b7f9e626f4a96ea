"""The call record: opened by the first webhook, journalled at each step, closed by the status
callback into a consultation record. Every function is safe to run again for a retried webhook."""
from __future__ import annotations

import functools
import logging
from collections.abc import Sequence

from sqlalchemy import (
    Integer,
    Select,
    String,
    bindparam,
    case,
    event,
    false,
    func,
    insert,
    inspect,
    literal,
    null,
    select,
    union_all,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.base import ExecutableOption

from hotline import db, runtime
from hotline.catalogue import Catalogue
from hotline.models import Call, CallEvent, ConsultationRecord, UTCDateTime, utcnow
from hotline.phone_numbers import caller_key, mask, normalise

log = logging.getLogger(__name__)

FINAL_STATUSES = {"completed", "busy", "failed", "no-answer", "canceled"}


def find_call(session: Session, call_sid: str | None, loads: Sequence[ExecutableOption] = (),
              lock: bool = False) -> Call | None:
    """The Call of `call_sid` (None if unknown or empty); `loads`: ORM options that bring what a
    step needs in the same SELECT (with_expression of a Call query_expression), a fixed tuple per
    step so that the statement's compiled form is cached. `lock`: the call's row is locked until
    the transaction ends (SELECT ... FOR NO KEY UPDATE OF calls on PostgreSQL, as _LOCK_CALL;
    SQLite, which has no row locks, serializes writers on the database instead): a twin of the same
    webhook waits here for this one's commit, then reads what it wrote (lock_call)."""
    if not call_sid:
        return None
    return session.scalar(_find_statement(tuple(loads), lock), {"call_sid": call_sid})


@functools.lru_cache(maxsize=32)
def _find_statement(loads: tuple[ExecutableOption, ...], lock: bool = False) -> Select:
    """Built once per tuple of options: only the CallSid is bound per request."""
    statement = select(Call).where(Call.call_sid == bindparam("call_sid")).options(*loads)
    return statement.with_for_update(of=Call, key_share=True) if lock else statement


def lock_call(session: Session, call: Call) -> None:
    """Lock `call`'s row until the transaction ends, for a step that did not read it with
    find_call(lock=True) or has committed since: the steps that reserve a consultant for the call
    (routing.reserve_for_call) hold it, so that of two copies of one webhook (Twilio retries and
    races them) the second sees the first's reservation, whatever else changed meanwhile. One
    SELECT ... FOR NO KEY UPDATE on PostgreSQL; nothing on SQLite (its writers are serialized)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_LOCK_CALL, {"lock_id": call.id})


# FOR NO KEY UPDATE: the lock an UPDATE of the call takes, which leaves alone the KEY SHARE lock
# that inserting a journal event (a foreign key to the call) takes; FOR UPDATE would make every
# other transaction journalling this call wait for this one.
_LOCK_CALL = (select(Call.__table__.c.id).where(Call.__table__.c.id == bindparam("lock_id"))
              .with_for_update(key_share=True))


def open_call(session: Session, catalogue: Catalogue, form: dict[str, str],
              loads: Sequence[ExecutableOption] = (), new: bool = False, lock: bool = False) -> Call:
    """The Call row for this CallSid, created on first sight (a retry finds the same row);
    `loads` and `lock` as for find_call (a call created here has none of them loaded: they read
    None; its row, inserted by this transaction, is another's only once committed).

    `new`: the call is expected not to exist yet (Twilio's Voice URL): it is inserted at once, and
    read only if a retry or twin of the webhook inserted it first. Either way the new row, with its
    "incoming" journal event, is written in the session's transaction and committed with the
    step's other changes (the caller commits): one transaction per webhook (issue 11)."""
    if not new:
        call = find_call(session, form["CallSid"], loads, lock)
        if call:
            return call
    values = _new_call_values(catalogue, form)
    # Compare-and-set on the unique CallSid: of two copies of the first webhook, one inserts; the
    # other waits for its commit, inserts nothing and reads that row.
    call_id = session.execute(_insert_call(session), values).scalar_one_or_none()
    if call_id is None:
        return find_call(session, form["CallSid"], loads, lock)
    call = _persistent_call(session, call_id, values)
    journal(session, call, "incoming", call.office_code)
    log.info("call %s from %s to office %s", call.call_sid,
             mask(call.caller_number, runtime.settings().secret_key), call.office_code)
    return call


def _new_call_values(catalogue: Catalogue, form: dict[str, str]) -> dict:
    """The columns of a call first seen in `form` that have a value, as the INSERT writes them (the
    others are NULL); stage and start are given, not left to the columns' defaults, so that the
    Call made persistent from these (_persistent_call) holds what was stored."""
    called = normalise(form.get("To"))
    caller = normalise(form.get("From"))
    return {
        "call_sid": form["CallSid"],
        "direction": _fit(form.get("Direction"), Call.direction) or "inbound",
        "caller_number": caller,
        "caller_key": caller_key(caller, runtime.settings().secret_key),
        "called_number": called,
        "office_code": catalogue.office_for_number(called).code,
        "stage": "language_menu",
        "twilio_status": _fit(form.get("CallStatus"), Call.twilio_status),
        "started_at": utcnow(),
    }


def _insert_call(session: Session):
    """INSERT of a call unless its CallSid is stored already, returning its id (no row if it was):
    ON CONFLICT DO NOTHING, in the dialect of the session's database (both have it)."""
    return _insert_call_statement(session.get_bind().dialect.name)


@functools.lru_cache(maxsize=2)
def _insert_call_statement(dialect: str):
    """_insert_call's statement for `dialect`, built once."""
    return (db.dialect_insert(dialect)(Call.__table__).on_conflict_do_nothing(index_elements=["call_sid"])
            .returning(Call.__table__.c.id))


def _persistent_call(session: Session, call_id: int, values: dict) -> Call:
    """The Call just inserted as `values`, made persistent in the session without reading it back:
    every column is set (those not in `values` to NULL, as inserted), so none is loaded later
    (make_transient_to_detached marks a missing one expired), and the query expressions read None
    (not read with it)."""
    call = Call(**{**dict.fromkeys(Call.__table__.columns.keys()), **values, "id": call_id})
    make_transient_to_detached(call)
    session.add(call)
    for name in CALL_EXPRESSIONS:
        set_committed_value(call, name, None)
    return call


# Call's query_expression attributes (read with the call by a step that needs them).
CALL_EXPRESSIONS = ("queue_state", "offer_leg_sid", "held", "languages_on_duty", "offered_to")


def _fit(value: str | None, column) -> str | None:
    """`value` cut to the length of its String column: Twilio's documented values all fit, and
    PostgreSQL refuses a longer one (the webhook then fails) where SQLite would store it."""
    return value[:column.type.length] if value else value


def journal(session: Session, call: Call, kind: str, detail: str | None = None,
            consultant_id: int | None = None) -> None:
    """Append an event to the call's journal, written with the step's other changes when the
    session commits: the events of one transaction in one INSERT (_write_journal), after its other
    changes. Dropped if the transaction is rolled back."""
    _begun(session)
    session.info.setdefault(_JOURNAL, []).append(
        (call, {"kind": kind, "detail": detail, "consultant_id": consultant_id, "at": utcnow()}))


def _begun(session: Session) -> None:
    """Begin the session's transaction if none is (no connection is taken yet): the events and
    changes kept for its commit are then dropped by its rollback (_drop_journal), which a session
    with no transaction skips, so that they would have been written by the next commit."""
    if not session.in_transaction():
        session.begin()


_JOURNAL = "hotline.calls.journal"


def change(session: Session, call: Call, **columns: object) -> None:
    """Set columns of stored `call` (keyword: column name, value), to be written when the session
    commits, with the step's journal events (_write_journal): on PostgreSQL by the journal's own
    statement, on SQLite by one UPDATE of those columns. `call` holds the new values at once; a
    value equal to the one it holds is not written; a rollback expires them with the rest of the
    session; an attribute assigned afterwards wins (the value held at commit is written). Unlike
    assigning the attributes, the ORM's unit of work never sees the call changed,
    so the commit has nothing to flush (a flush that finds nothing to write still cost a step a
    tenth of its Python calls: bench/ivr_in_process.py --profile)."""
    _begun(session)
    pending = session.info.setdefault(_CHANGES, {})
    for key, value in columns.items():
        if getattr(call, key) != value:
            set_committed_value(call, key, value)
            pending.setdefault(call, set()).add(key)


_CHANGES = "hotline.calls.changes"


@event.listens_for(Session, "before_commit")
def _write_journal(session: Session) -> None:
    """The journal events of the transaction, in one statement (a Core INSERT, no RETURNING:
    one executemany, which SQLAlchemy sends as one multi-row INSERT to PostgreSQL), after the
    calls' changes (change(), then a flush of the ORM's: a new call gets its id).

    On PostgreSQL, when every event and change is of one call already stored, that call's changed
    columns are written by the same statement (_journal_with_changes): one round trip for the
    step's writes."""
    pending = session.info.pop(_JOURNAL, None) or []
    changed: dict[Call, set[str]] = session.info.pop(_CHANGES, None) or {}
    if not pending and not changed:
        return
    call = pending[0][0] if pending else next(iter(changed))
    if (pending and session.get_bind().dialect.name == "postgresql"
            and all(event[0] is call for event in pending) and all(other is call for other in changed)):
        changes = _to_write(call, changed.get(call, ()))
        if changes is not None:
            _flush_if_needed(session)
            session.execute(_journal_with_changes(tuple(sorted(changes)), len(pending)),
                            _journal_params(call, changes, [values for _, values in pending]))
            return
    for other, keys in changed.items():
        columns = _to_write(other, keys)
        if columns:
            session.execute(update(Call.__table__).where(Call.__table__.c.id == other.id).values(**columns))
    _flush_if_needed(session)
    if pending:
        session.execute(insert(CallEvent.__table__),
                        [{"call_id": call.id, **values} for call, values in pending])


def _to_write(call: Call, keys) -> dict[str, object] | None:
    """What to write to stored `call` at commit: the values it holds now for the columns change()
    set (`keys`; what was assigned to one since, perhaps written by an autoflush already, is what
    gets written, not the change) and whatever else was assigned to it (_take_changes), in one
    UPDATE: written apart, the flush could order them the other way. None if `call` is not stored
    yet (its INSERT is the flush's)."""
    assigned = _take_changes(call)
    if assigned is None:
        return None
    return {**{key: getattr(call, key) for key in keys}, **assigned}


def _flush_if_needed(session: Session) -> None:
    """Flush the ORM's changes, if any: a flush with nothing to write still walks the session."""
    if session.new or session.deleted or session.dirty:
        session.flush()


def _take_changes(call: Call) -> dict[str, object] | None:
    """The columns of stored `call` set since it was read, {key: new value}, marked as written (the
    flush leaves them be: the caller writes them); None if `call` is not stored yet (its INSERT is
    the flush's)."""
    state = inspect(call)
    if not state.persistent:
        return None
    changes = {}
    for key in _CALL_COLUMNS.difference(state.unmodified):
        added, _, deleted = state.attrs[key].history
        if added and added != deleted:
            changes[key] = added[0]
        set_committed_value(call, key, getattr(call, key))
    return changes


_CALL_COLUMNS = frozenset(column.key for column in Call.__table__.columns) - {"id"}
_EVENT_COLUMNS = ("at", "kind", "detail", "consultant_id")


@functools.lru_cache(maxsize=64)
def _journal_with_changes(changed: tuple[str, ...], events: int):
    """PostgreSQL: `WITH changed AS (UPDATE calls SET <changed> WHERE id = ...) INSERT INTO
    call_events VALUES <events rows>`, built once per shape (the columns changed, the number of
    events). A data-modifying WITH runs to completion whether or not the INSERT reads it
    (PostgreSQL's documentation, "Data-Modifying Statements in WITH")."""
    calls_table, events_table = Call.__table__, CallEvent.__table__
    # INSERT ... SELECT of bound values, one SELECT per event: SQLAlchemy caches its compiled form,
    # where a multi-row VALUES built with .values([...]) is compiled again at every run.
    rows = [select(bindparam("journal_call", type_=Integer),
                   *(bindparam(f"event{n}_{name}", type_=events_table.c[name].type)
                     for name in _EVENT_COLUMNS))
            for n in range(events)]
    statement = insert(events_table).from_select(["call_id", *_EVENT_COLUMNS],
                                                 rows[0] if events == 1 else union_all(*rows))
    if changed:
        write = (update(calls_table).where(calls_table.c.id == bindparam("journal_call", type_=Integer))
                 .values({name: bindparam(f"set_{name}", type_=calls_table.c[name].type)
                          for name in changed}))
        statement = statement.add_cte(write.cte("changed"))
    return statement


def _journal_params(call: Call, changes: dict[str, object], events: list[dict]) -> dict[str, object]:
    params: dict[str, object] = {"journal_call": call.id}
    params.update({f"set_{name}": value for name, value in changes.items()})
    for n, values in enumerate(events):
        params.update({f"event{n}_{name}": values[name] for name in _EVENT_COLUMNS})
    return params


@event.listens_for(Session, "after_soft_rollback")
def _drop_journal(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:
        session.info.pop(_JOURNAL, None)
        session.info.pop(_CHANGES, None)


def has_changes(session: Session) -> bool:
    """Whether the session's transaction has anything to commit: journal events or call changes
    waiting for the commit (journal(), change()), or writes (hotline.db.has_writes)."""
    return bool(session.info.get(_JOURNAL)) or any(session.info.get(_CHANGES, {}).values()) \
        or db.has_writes(session)


def record_event(session: Session, call: Call, kind: str, detail: str | None = None,
                 consultant_id: int | None = None) -> None:
    """journal() and commit at once (for a step that must commit before it goes on)."""
    journal(session, call, kind, detail, consultant_id)
    session.commit()


def offered_consultants(session: Session, call: Call) -> list[int]:
    """Consultants this call has already been offered to (never offered twice)."""
    return consultants_with(session, call.id, "offered")


def consultants_with(session: Session, call_id: int, kind: str) -> list[int]:
    """The consultants of the call's journal events of `kind`."""
    return list(session.scalars(
        select(CallEvent.consultant_id).where(CallEvent.call_id == call_id, CallEvent.kind == kind)
    ))


def _outcome(call: Call, twilio_status: str) -> str:
    if call.outcome:
        return call.outcome  # decided during the call (closed, no_consultant)
    if call.answered_at:
        return "answered"
    if twilio_status in ("failed", "busy"):
        return "failed"
    return "abandoned"


def close_call(session: Session, call: Call, twilio_status: str, duration: int | None,
               record: bool = True) -> None:
    """End the call (Twilio's final CallStatus; `duration` in seconds) and make its consultation
    record, in one transaction with whatever the session holds already (committed here); a second
    call makes the record only if it is missing. record=False for a call the service placed that
    reached no one (a callback's caller who did not answer): it is journalled as ended, with no
    record and no abandonment, since nobody called and nobody hung up.

    The call's row is closed by one UPDATE ... RETURNING and the record made by one Core INSERT
    (no ORM flush): with the journal's INSERT, three statements; on PostgreSQL one, all three in a
    WITH (_close_with_record) (issue 11)."""
    if call.ended_at is None:
        ended_at = utcnow()
        outcome = _outcome(call, twilio_status) if record else "not_reached"
        talk = max(0, int((ended_at - call.answered_at).total_seconds())) if call.answered_at else None
        # Compare-and-set on a call not yet ended: of two copies of the final status callback
        # arriving at once, one closes the call, journals it and makes its record (one transaction);
        # the other waits for that commit, changes nothing and reads the record. RETURNING brings
        # what the record copies as stored now, in place of reading the call again.
        params = {
            "close_id": call.id, "close_ended_at": ended_at, "close_duration": duration,
            "close_status": _fit(twilio_status, Call.twilio_status), "close_outcome": outcome,
            "close_talk": talk, "close_stage": call.stage,
        }
        abandoned = outcome == "abandoned"  # where the caller gave up: the abandonment funnel
        together = session.get_bind().dialect.name == "postgresql"
        statement = _close_with_record(record, abandoned) if together else _CLOSE
        closed = session.execute(statement, params).one_or_none()
        if closed is not None:
            for column, value in zip(_CLOSED_COLUMNS, closed, strict=True):
                set_committed_value(call, column.key, value)
            set_committed_value(call, "stage", "ended")
            if not together:  # what _close_with_record writes in its one statement
                if abandoned:
                    journal(session, call, "abandoned", params["close_stage"])
                # A plain add: appending to call.events would first load every event of the call.
                journal(session, call, "ended", outcome, consultant_id=call.consultant_id)
                if record:
                    session.execute(_INSERT_RECORD, [_record_values(call)])
            session.commit()
            return
        session.commit()
        session.refresh(call)
    if record:
        _ensure_record(session, call)


# What close_call reads back from its UPDATE: the call's values as stored, for its record.
_CLOSED_COLUMNS = (Call.ended_at, Call.twilio_status, Call.duration_seconds, Call.outcome,
                   Call.talk_seconds, Call.language_code, Call.topic_code, Call.office_code,
                   Call.consultant_id, Call.answered_at, Call.started_at)


# close_call's compare-and-set, built once (building it cost more than running it); a talk time of
# None keeps the one stored.
_CLOSE = (
    update(Call.__table__).where(Call.id == bindparam("close_id"), Call.ended_at.is_(None))
    .values(ended_at=bindparam("close_ended_at", type_=UTCDateTime), twilio_status=bindparam("close_status"),
            duration_seconds=bindparam("close_duration", type_=Integer), outcome=bindparam("close_outcome"),
            stage="ended",
            talk_seconds=func.coalesce(bindparam("close_talk", type_=Integer), Call.talk_seconds))
    .returning(*_CLOSED_COLUMNS)
)
# A Core INSERT (its columns' Python defaults applied, nothing read back).
_INSERT_RECORD = insert(ConsultationRecord.__table__)


@functools.lru_cache(maxsize=4)
def _close_with_record(record: bool, abandoned: bool):
    """PostgreSQL: _CLOSE, the consultation record (with `record`) and the journal's "abandoned"
    (with `abandoned`) and "ended" events in one statement: `WITH closed AS (UPDATE calls ...
    RETURNING ...), record AS (INSERT ... SELECT ... FROM closed), ended AS (INSERT ... SELECT
    ... FROM closed) SELECT <closed's columns> FROM closed`. Nothing is inserted when the UPDATE
    closed nothing (a twin closed the call first). Each part of a WITH sees the same snapshot and
    runs to completion (PostgreSQL's documentation, "Data-Modifying Statements in WITH")."""
    closed = _CLOSE.cte("closed")
    call_id = bindparam("close_id", type_=Integer)
    at = bindparam("close_ended_at", type_=UTCDateTime)
    parts = []
    if record:
        duration = case((closed.c.answered_at.is_not(None), closed.c.talk_seconds),
                        else_=closed.c.duration_seconds)
        # Every column with a default is given: a callable default is not run inside a WITH.
        columns = ["call_id", "channel", "language_code", "topic_code", "office_code", "consultant_id",
                   "outcome", "duration_seconds", "started_at", "urgent_followup", "created_at"]
        parts.append(insert(ConsultationRecord.__table__).from_select(columns, select(
            call_id, literal("phone", String), closed.c.language_code, closed.c.topic_code,
            closed.c.office_code, closed.c.consultant_id, closed.c.outcome, duration, closed.c.started_at,
            false(), at,
        )).cte("record"))
    # Each event's columns in the order of ["call_id", *_EVENT_COLUMNS].
    events = [select(call_id, at, literal("ended", String), closed.c.outcome, closed.c.consultant_id)]
    if abandoned:  # first, as journal() wrote them: the event ids keep the order
        stage = bindparam("close_stage", type_=String)
        events.insert(0, select(call_id, at, literal("abandoned", String), stage, null()).select_from(closed))
    parts.append(insert(CallEvent.__table__).from_select(
        ["call_id", *_EVENT_COLUMNS], union_all(*events) if abandoned else events[0]).cte("ended"))
    return select(*(closed.c[column.key] for column in _CLOSED_COLUMNS)).add_cte(*parts)


def _record_values(call: Call) -> dict:
    """The columns of a closed call's consultation record that come from the call."""
    return dict(
        call_id=call.id, channel="phone", language_code=call.language_code, topic_code=call.topic_code,
        office_code=call.office_code, consultant_id=call.consultant_id, outcome=call.outcome,
        duration_seconds=call.talk_seconds if call.answered_at else call.duration_seconds,
        started_at=call.started_at,
    )


def _ensure_record(session: Session, call: Call) -> ConsultationRecord:
    record = session.scalar(select(ConsultationRecord).where(ConsultationRecord.call_id == call.id))
    if record:
        return record
    record = ConsultationRecord(**_record_values(call))
    session.add(record)
    try:
        session.commit()
    except IntegrityError:  # a concurrent retry of the status callback made it first
        session.rollback()
        record = session.scalar(select(ConsultationRecord).where(ConsultationRecord.call_id == call.id))
    return record
