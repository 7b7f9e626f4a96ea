"""Closing a call: Twilio's final status ends it, and its consultation record is made, once,
whichever copy of the status callback arrives first."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from hotline import records
from hotline.calls import statements
from hotline.calls.opening import fit
from hotline.models import Call, CallEvent, ConsultationRecord, utcnow


def close_call(session: Session, call: Call, twilio_status: str, duration: int | None,
               record: bool = True) -> None:
    """End the call (Twilio's final CallStatus; `duration` in seconds) and make its consultation
    record, in one transaction with whatever the session holds already (committed here); a second
    call makes the record only if it is missing. record=False for a call the service placed that
    reached no one (a callback's caller who did not answer): it is journalled as ended, with no
    record and no abandonment, since nobody called and nobody hung up.

    Compare-and-set on a call not yet ended: of two copies of the final status callback arriving
    at once, one closes the call, journals it and makes its record (one transaction); the other
    waits for that commit, changes nothing and reads the record. The statements are
    statements.close's: one on PostgreSQL, three on SQLite, with no ORM flush (issue 11)."""
    if call.ended_at is None:
        ended_at = utcnow()
        outcome = _outcome(call, twilio_status) if record else "not_reached"
        talk = max(0, int((ended_at - call.answered_at).total_seconds())) if call.answered_at else None
        params = {
            "close_id": call.id, "close_ended_at": ended_at, "close_duration": duration,
            "close_status": fit(twilio_status, Call.twilio_status), "close_outcome": outcome,
            "close_talk": talk, "close_stage": call.stage,
        }
        # "abandoned": where the caller gave up, for the abandonment funnel.
        closing, then = statements.close(statements.dialect(session), record, outcome == "abandoned")
        # RETURNING brings what the record copies as stored now, in place of reading the call again.
        closed = session.execute(closing, params).one_or_none()
        if closed is not None:
            for statement in then:
                session.execute(statement, params)
            for column, value in zip(statements.CLOSED_COLUMNS, closed, strict=True):
                set_committed_value(call, column.key, value)
            set_committed_value(call, "stage", "ended")
            session.commit()
            return
        session.commit()
        session.refresh(call)
    if record:
        _ensure_record(session, call)


def _outcome(call: Call, twilio_status: str) -> str:
    if call.outcome:
        return call.outcome  # decided during the call (closed, no_consultant)
    if call.answered_at:
        return "answered"
    if twilio_status in ("failed", "busy"):
        return "failed"
    return "abandoned"


def _ensure_record(session: Session, call: Call) -> None:
    """The record of a call closed already, made from its stored row if it is missing (by the
    same SQL as the close's: statements.record_again); a twin making it at once wins."""
    if session.scalar(select(exists().where(ConsultationRecord.call_id == call.id))):
        return
    try:
        session.execute(statements.record_again(), {"close_id": call.id, "close_ended_at": utcnow()})
        session.commit()
    except IntegrityError:  # a concurrent retry of the status callback made it first
        session.rollback()


def past_call(values: dict[str, object], events: list[tuple[timedelta, str, str | None, int | None]],
              record: dict[str, object]) -> ConsultationRecord:
    """A call that has ended (for seeding a demo's history; nothing is written): the Call of
    `values` (its columns, started_at among them), its journal (`events`: time after its start,
    kind, detail, consultant id) and its consultation record (`record`: the record's columns), to
    be added to a session (adding the record adds the call and its journal)."""
    call = Call(**values)
    start: datetime = values["started_at"]  # type: ignore[assignment]
    call.events = [CallEvent(at=start + offset, kind=kind, detail=detail, consultant_id=staff_id)
                   for offset, kind, detail, staff_id in events]
    return records.past_record(call, record)
