"""The call record: opened by the first webhook, journalled at each step, closed by the status
callback into a consultation record. Every function is safe to run again for a retried webhook."""
from __future__ import annotations

import logging

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hotline import services
from hotline.catalogue import Catalogue
from hotline.models import Call, CallEvent, ConsultationRecord, utcnow
from hotline.phone_numbers import caller_key, mask, normalise

log = logging.getLogger(__name__)

FINAL_STATUSES = {"completed", "busy", "failed", "no-answer", "canceled"}


def find_call(session: Session, call_sid: str | None) -> Call | None:
    if not call_sid:
        return None
    return session.scalar(select(Call).where(Call.call_sid == call_sid))


def open_call(session: Session, catalogue: Catalogue, form: dict[str, str]) -> Call:
    """The Call row for this CallSid, created on first sight (a retry finds the same row)."""
    call = find_call(session, form["CallSid"])
    if call:
        return call
    office = catalogue.office_for_number(normalise(form.get("To")))
    caller = normalise(form.get("From"))
    call = Call(
        call_sid=form["CallSid"],
        direction=_fit(form.get("Direction"), Call.direction) or "inbound",
        caller_number=caller,
        caller_key=caller_key(caller, services.settings().secret_key),
        called_number=normalise(form.get("To")),
        office_code=office.code,
        twilio_status=_fit(form.get("CallStatus"), Call.twilio_status),
    )
    call.events.append(CallEvent(kind="incoming", detail=office.code))
    session.add(call)
    try:
        session.commit()
    except IntegrityError:  # the same webhook, retried concurrently, got there first
        session.rollback()
        return find_call(session, form["CallSid"])
    log.info("call %s from %s to office %s", call.call_sid,
             mask(call.caller_number, services.settings().secret_key), office.code)
    return call


def _fit(value: str | None, column) -> str | None:
    """`value` cut to the length of its String column: Twilio's documented values all fit, and
    PostgreSQL refuses a longer one (the webhook then fails) where SQLite would store it."""
    return value[:column.type.length] if value else value


def record_event(session: Session, call: Call, kind: str, detail: str | None = None,
                 consultant_id: int | None = None) -> None:
    session.add(CallEvent(call_id=call.id, kind=kind, detail=detail, consultant_id=consultant_id))
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
               record: bool = True) -> ConsultationRecord | None:
    """End the call (Twilio's final CallStatus; `duration` in seconds) and make its consultation
    record; a second call returns the same record. record=False for a call the service placed that
    reached no one (a callback's caller who did not answer): it is journalled as ended, with no
    record and no abandonment, since nobody called and nobody hung up."""
    if call.ended_at is None:
        ended_at = utcnow()
        outcome = _outcome(call, twilio_status) if record else "not_reached"
        talk = max(0, int((ended_at - call.answered_at).total_seconds())) if call.answered_at else None
        # Compare-and-set on a call not yet ended: of two copies of the final status callback
        # arriving at once, one closes the call and journals it; the other only reads the record.
        closed = session.execute(
            update(Call).where(Call.id == call.id, Call.ended_at.is_(None))
            .values(ended_at=ended_at, twilio_status=_fit(twilio_status, Call.twilio_status),
                    duration_seconds=duration, outcome=outcome, stage="ended",
                    talk_seconds=talk if talk is not None else Call.talk_seconds)
            .execution_options(synchronize_session=False)
        ).rowcount == 1
        if closed:
            if outcome == "abandoned":  # where the caller gave up: the abandonment funnel
                session.add(CallEvent(call_id=call.id, kind="abandoned", detail=call.stage))
            # A plain add: appending to call.events would first load every event of the call.
            session.add(CallEvent(call_id=call.id, kind="ended", detail=outcome,
                                  consultant_id=call.consultant_id))
        session.commit()
        session.refresh(call)
    return _ensure_record(session, call) if record else None


def _ensure_record(session: Session, call: Call) -> ConsultationRecord:
    record = session.scalar(select(ConsultationRecord).where(ConsultationRecord.call_id == call.id))
    if record:
        return record
    record = ConsultationRecord(
        call_id=call.id, channel="phone", language_code=call.language_code, topic_code=call.topic_code,
        office_code=call.office_code, consultant_id=call.consultant_id, outcome=call.outcome,
        duration_seconds=call.talk_seconds if call.answered_at else call.duration_seconds,
        started_at=call.started_at,
    )
    session.add(record)
    try:
        session.commit()
    except IntegrityError:  # a concurrent retry of the status callback made it first
        session.rollback()
        record = session.scalar(select(ConsultationRecord).where(ConsultationRecord.call_id == call.id))
    return record
