"""Changing a call: its columns (change, answer), its journal (journal, record_event). A step's
changes and events are kept in its session and written when it commits (write_step, bound to the
app's own sessions, hotline.db.AppSession), in as few statements as the database allows
(statements.step_writes); a rollback drops them."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, event, inspect, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from hotline import db
from hotline.calls import statements
from hotline.models import Call, UTCDateTime, utcnow

_JOURNAL = "hotline.calls.journal"
_CHANGES = "hotline.calls.changes"
_CALL_COLUMNS = frozenset(column.key for column in Call.__table__.columns) - {"id"}


def journal(session: Session, call: Call | int, kind: str, detail: str | None = None,
            consultant_id: int | None = None, at: datetime | None = None) -> None:
    """Append an event to the journal of `call` (a Call, perhaps not yet flushed, or a call's id),
    written with the step's other changes when the session commits, after them (write_step); dated
    `at` (UTC), by default now. Dropped if the transaction is rolled back. Raises TypeError for a
    session that is not the app's (nothing would write the event)."""
    _begun(session)
    session.info.setdefault(_JOURNAL, []).append(
        (call, {"kind": kind, "detail": detail, "consultant_id": consultant_id, "at": at or utcnow()}))


def record_event(session: Session, call: Call | int, kind: str, detail: str | None = None,
                 consultant_id: int | None = None, at: datetime | None = None) -> None:
    """journal() and commit at once (for a step that must commit before it goes on)."""
    journal(session, call, kind, detail, consultant_id, at)
    session.commit()


def change(session: Session, call: Call, **columns: object) -> None:
    """Set columns of stored `call` (keyword: column name, value), to be written when the session
    commits, with the step's journal events (write_step): on PostgreSQL by the journal's own
    statement, on SQLite by one UPDATE of those columns. `call` holds the new values at once; a
    value equal to the one it holds is not written; a rollback expires them with the rest of the
    session; an attribute assigned afterwards wins (the value held at commit is written). Unlike
    assigning the attributes, the ORM's unit of work never sees the call changed, so the commit has
    nothing to flush (a flush that finds nothing to write still cost a step a tenth of its Python
    calls: bench/ivr_in_process.py --profile). Raises TypeError for a session not the app's."""
    _begun(session)
    pending = session.info.setdefault(_CHANGES, {})
    for key, value in columns.items():
        if getattr(call, key) != value:
            set_committed_value(call, key, value)
            pending.setdefault(call, set()).add(key)


def answer(session: Session, call: Call, consultant_id: int, at: datetime) -> bool:
    """Compare-and-set, at once and not committed: record that consultant `consultant_id` answered
    `call` at `at` (UTC; connected, no outcome yet) only if nobody has answered it. True if this
    call recorded it (`call` then holds the new values); False if it had been answered already."""
    values = {"consultant_id": consultant_id, "answered_at": at, "stage": "connected", "outcome": None}
    if session.execute(_ANSWER, {"answer_id": call.id, **values}).rowcount != 1:
        return False
    for key, value in values.items():
        set_committed_value(call, key, value)
    return True


_calls = Call.__table__
_ANSWER = (update(_calls).where(_calls.c.id == bindparam("answer_id"), _calls.c.answered_at.is_(None))
           .values(consultant_id=bindparam("consultant_id"), stage=bindparam("stage"),
                   answered_at=bindparam("answered_at", type_=UTCDateTime), outcome=bindparam("outcome")))


def forget_caller_numbers(session: Session, started_before: datetime) -> int:
    """Erase the caller's number of every call started before `started_before` (UTC), not
    committed: the retention of personal data (hotline.retention). Returns how many calls had one."""
    return session.execute(
        update(_calls).where(_calls.c.started_at < started_before, _calls.c.caller_number.is_not(None))
        .values(caller_number=None)).rowcount


def has_changes(session: Session) -> bool:
    """Whether the session's transaction has anything to commit: journal events or call changes
    waiting for the commit (journal(), change()), or writes (hotline.db.has_writes)."""
    return bool(session.info.get(_JOURNAL)) or any(session.info.get(_CHANGES, {}).values()) \
        or db.has_writes(session)


def _begun(session: Session) -> None:
    """Begin the session's transaction if none is (no connection is taken yet): the events and
    changes kept for its commit are then dropped by its rollback (_drop_pending), which a session
    with no transaction skips, so that they would have been written by the next commit."""
    if not isinstance(session, db.AppSession):
        raise TypeError("hotline.calls writes through the app's sessions (hotline.db.AppSession)")
    if not session.in_transaction():
        session.begin()


@event.listens_for(db.AppSession, "before_commit")
def write_step(session: Session) -> None:
    """The call changes (change(), and what was assigned to those calls the ORM's way) and journal
    events of the transaction, written after a flush of the ORM's own changes (a new call gets its
    id) by statements.step_writes: on PostgreSQL one statement when they are of one call."""
    pending = session.info.pop(_JOURNAL, None) or []
    changed: dict[Call, set[str]] = session.info.pop(_CHANGES, None) or {}
    if not pending and not changed:
        return
    columns = {call: _to_write(call, keys) for call, keys in changed.items()}
    if session.new or session.deleted or session.dirty:  # a flush with nothing to write still walks
        session.flush()
    events = [{"call_id": call if isinstance(call, int) else call.id, **values} for call, values in pending]
    writes = {call.id: values for call, values in columns.items() if values is not None}
    for statement, params in statements.step_writes(statements.dialect(session), writes, events):
        session.execute(statement, params)


@event.listens_for(db.AppSession, "after_soft_rollback")
def _drop_pending(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:
        session.info.pop(_JOURNAL, None)
        session.info.pop(_CHANGES, None)


def _to_write(call: Call, keys) -> dict[str, object] | None:
    """What to write to stored `call` at commit: the values it holds now for the columns change()
    set (`keys`; what was assigned to one since, perhaps written by an autoflush already, is what
    gets written, not the change) and whatever else was assigned to it (_take_assigned), in one
    UPDATE: written apart, the flush could order them the other way. None if `call` is not stored
    yet (its INSERT is the flush's)."""
    assigned = _take_assigned(call)
    if assigned is None:
        return None
    return {**{key: getattr(call, key) for key in keys}, **assigned}


def _take_assigned(call: Call) -> dict[str, object] | None:
    """The columns of stored `call` assigned since it was read, {key: new value}, marked as written
    (the flush leaves them be: write_step writes them); None if `call` is not stored yet."""
    state = inspect(call)
    if not state.persistent:
        return None
    assigned = {}
    for key in _CALL_COLUMNS.difference(state.unmodified):
        added, _, deleted = state.attrs[key].history
        if added and added != deleted:
            assigned[key] = added[0]
        set_committed_value(call, key, getattr(call, key))
    return assigned
