"""Reading calls: a call by its CallSid (with what a step needs, perhaps locked) and its journal."""
from __future__ import annotations

import functools
from collections.abc import Sequence

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.base import ExecutableOption

from hotline.calls import statements
from hotline.models import Call, CallEvent

FINAL_STATUSES = {"completed", "busy", "failed", "no-answer", "canceled"}


def find_call(session: Session, call_sid: str | None, loads: Sequence[ExecutableOption] = (),
              lock: bool = False) -> Call | None:
    """The Call of `call_sid` (None if unknown or empty); `loads`: ORM options that bring what a
    step needs in the same SELECT (with_expression of a Call query_expression), a fixed tuple per
    step so that the statement's compiled form is cached. `lock`: the call's row is locked until
    the transaction ends (SELECT ... FOR NO KEY UPDATE OF calls on PostgreSQL, as lock_call;
    SQLite, which has no row locks, serializes writers on the database instead and SQLAlchemy
    leaves the clause out): a twin of the same webhook waits here for this one's commit, then
    reads what it wrote (lock_call)."""
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
    SELECT ... FOR NO KEY UPDATE on PostgreSQL; nothing on SQLite (statements.lock)."""
    statement = statements.lock(statements.dialect(session))
    if statement is not None:
        session.execute(statement, {"lock_id": call.id})


def offered_consultants(session: Session, call: Call) -> list[int]:
    """Consultants this call has already been offered to (never offered twice)."""
    return consultants_with(session, call.id, "offered")


def consultants_with(session: Session, call_id: int, kind: str) -> list[int]:
    """The consultants of the call's journal events of `kind`."""
    return list(session.scalars(
        select(CallEvent.consultant_id).where(CallEvent.call_id == call_id, CallEvent.kind == kind)
    ))
