"""Consultation records: the only module that writes them (issue 18, "one owner for each table").

A phone call's record is made in SQL at the call's close, by the statement record_from builds
(hotline.calls runs it inside its close); a consultation in person or online is recorded by
record_in_person; the write-up (the desk's form, the API's PATCH) completes a record by write_up;
retention erases old notes by forget_notes; the demo's history is built by past_record."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import ColumnElement, Insert, String, case, false, insert, literal, select, update
from sqlalchemy.orm import Session

from hotline.clock import utcnow
from hotline.models import Call, Channel, ConsultationRecord

# What a write-up may set (the desk's wrap-up form and the API's notes and outcome).
WRITE_UP_COLUMNS = frozenset({"topic_code", "sub_topic", "disposition", "referral", "referral_other", "notes",
                              "nationality", "gender", "urgent_followup", "outcome"})
# Every column of a call's record with a default is given: a callable default is not run inside a WITH.
_FROM_CALL = ["call_id", "channel", "language_code", "topic_code", "office_code", "consultant_id",
              "outcome", "duration_seconds", "started_at", "urgent_followup", "created_at"]


def record_from(source, call_id: ColumnElement, created_at: ColumnElement) -> Insert:
    """INSERT of the consultation record of the closed call in `source` (a subquery or CTE with the
    calls table's columns: the close's RETURNING, or the stored row), its columns taken from the
    call by SQL, on both backends. `call_id` and `created_at` (UTC) are SQL expressions, the
    close's bound parameters. The one definition of what a phone record copies from its call:
    channel "phone", the call's language, topic, office, consultant and outcome, its talk time if
    answered (else its whole duration), its start."""
    duration = case((source.c.answered_at.is_not(None), source.c.talk_seconds),
                    else_=source.c.duration_seconds)
    return insert(ConsultationRecord.__table__).from_select(_FROM_CALL, select(
        call_id, literal(Channel.phone.value, String), source.c.language_code, source.c.topic_code,
        source.c.office_code, source.c.consultant_id, source.c.outcome, duration, source.c.started_at,
        false(), created_at))


def _check_write_up(columns: Mapping[str, object]) -> None:
    unknown = set(columns) - WRITE_UP_COLUMNS
    if unknown:
        raise ValueError(f"a write-up does not set {', '.join(sorted(unknown))}")


def write_up(session: Session, record: ConsultationRecord, columns: Mapping[str, object],
             now: datetime | None = None) -> None:
    """Complete `record` with the write-up `columns` (names from WRITE_UP_COLUMNS -> values, codes
    checked by the caller), marked completed at `now` (UTC; default the clock's), committed with
    whatever the session holds. ValueError for a column a write-up does not set."""
    _check_write_up(columns)
    for column, value in columns.items():
        setattr(record, column, value)
    record.completed_at = now or utcnow()
    session.commit()


def record_in_person(session: Session, *, channel: str, language_code: str, office_code: str, staff_id: int,
                     started_at: datetime, duration_seconds: int | None, columns: Mapping[str, object],
                     now: datetime | None = None) -> ConsultationRecord:
    """A consultation given in person or online (`channel`) by staff `staff_id`, who records it: a
    record like a call's (outcome "answered", so it counts wherever answered calls do) with no call,
    its writer, `started_at` (UTC) and `duration_seconds` (None: not given), completed at once with
    the write-up `columns` (as write_up's) at `now` (UTC). Returns the record, committed.
    ValueError for a column a write-up does not set."""
    _check_write_up(columns)
    record = ConsultationRecord(
        call_id=None, channel=channel, language_code=language_code, office_code=office_code,
        consultant_id=staff_id, created_by_id=staff_id, outcome="answered", started_at=started_at,
        duration_seconds=duration_seconds, **columns, completed_at=now or utcnow())
    session.add(record)
    session.commit()
    return record


def forget_notes(session: Session, cutoff: datetime) -> int:
    """Erase the notes (personal data) of the records started before `cutoff` (UTC), uncommitted.
    Returns how many records had notes. The rule: retention_days (hotline.retention)."""
    return session.execute(
        update(ConsultationRecord)
        .where(ConsultationRecord.started_at < cutoff, ConsultationRecord.notes.is_not(None))
        .values(notes=None)
    ).rowcount


def past_record(call: Call | None, columns: Mapping[str, object]) -> ConsultationRecord:
    """A record of a consultation that has ended (for seeding a demo's history; nothing is
    written): of `call` (None for one in person or online), with `columns` (the record's columns,
    any of them). Adding it to a session adds its call too."""
    return ConsultationRecord(call=call, **columns)
