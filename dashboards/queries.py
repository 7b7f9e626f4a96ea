"""Queries for staff tools: consultants, calls, consultation records and the live queues; plus the
one change supervisors make to a queue (marking a caller urgent, through routing.mark_urgent)."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, lazyload
from sqlalchemy.sql.elements import ColumnElement

import routing
from dashboards.days import Period
from hotline import calls
from hotline.models import Call, Callback, ConsultationRecord, QueueEntry, Role, Staff, Status


def consultants(session: Session, office: str | None = None) -> list[Staff]:
    query = (select(Staff).where(Staff.role == Role.consultant.value, Staff.active.is_(True))
             .order_by(Staff.name))
    if office:
        query = query.where(Staff.office_code == office)
    return list(session.scalars(query))


def call_by_sid(session: Session, call_sid: str) -> Call | None:
    return session.scalar(select(Call).where(Call.call_sid == call_sid))


@dataclass(frozen=True)
class RecordFilter:
    call_sid: str | None = None
    language: str | None = None
    topic: str | None = None
    office: str | None = None
    days: Period | None = None  # started on these days, each office's in its own time zone
    # Only the records this condition allows (hotline.permissions.visible_records: who may see them).
    visible: ColumnElement[bool] | None = None
    limit: int = 100
    offset: int = 0


def consultation_records(session: Session, flt: RecordFilter) -> list[ConsultationRecord]:
    """The records matching `flt`, newest first, a page of them (`flt.limit` from `flt.offset`),
    each with its call (if any) loaded in the same query: listing them costs one statement, not
    one more per record."""
    query = (select(ConsultationRecord).options(joinedload(ConsultationRecord.call))
             .order_by(ConsultationRecord.started_at.desc(), ConsultationRecord.id.desc()))
    if flt.call_sid:
        query = query.join(Call, ConsultationRecord.call_id == Call.id).where(Call.call_sid == flt.call_sid)
    if flt.language:
        query = query.where(ConsultationRecord.language_code == flt.language)
    if flt.topic:
        query = query.where(ConsultationRecord.topic_code == flt.topic)
    if flt.office:
        query = query.where(ConsultationRecord.office_code == flt.office)
    if flt.days:
        query = query.where(flt.days.contains(ConsultationRecord.started_at, ConsultationRecord.office_code))
    if flt.visible is not None:
        query = query.where(flt.visible)
    return list(session.scalars(query.limit(flt.limit).offset(flt.offset)))


def live_queues(session: Session, now: datetime) -> dict:
    """Each language x topic queue with callers in it (routing.queue_figures: `waiting` counts
    everyone in the queue, `offered` those of them whose consultant is being rung,
    `available_consultants` those free who may take one of its waiting callers now; needs an app
    context for the catalogue's rules), and a summary: callers in all queues, the longest wait
    (None when nobody waits) and consultants by status."""
    figures = routing.queue_figures(session, now, routing.pick_rules(now))
    return {
        "queues": figures,
        "summary": {
            "waiting": sum(queue["waiting"] for queue in figures),
            "offered": sum(queue["offered"] for queue in figures),
            "longest_wait_seconds": max((queue["longest_wait_seconds"] for queue in figures), default=None),
            "consultants": consultant_status_counts(session, now),
        },
    }


def callers_in_queues(session: Session, now: datetime) -> list[dict]:
    """Every caller in a queue, in the order they will be served within their queue (urgent first,
    then by when they first rang), with their place and how long they have waited. No numbers."""
    entries = session.scalars(
        select(QueueEntry).where(QueueEntry.state.in_(routing.IN_QUEUE))
        .order_by(QueueEntry.language_code, QueueEntry.topic_code, QueueEntry.urgent.desc(),
                  QueueEntry.first_rang_at, QueueEntry.id)
    )
    places: Counter[tuple[str, str]] = Counter()
    listed = []
    for entry in entries:
        places[(entry.language_code, entry.topic_code)] += 1
        listed.append({
            "id": entry.id, "call_sid": entry.call_sid, "language": entry.language_code,
            "topic": entry.topic_code,
            "office": entry.office_code, "state": entry.state, "urgent": entry.urgent,
            "position": places[(entry.language_code, entry.topic_code)],
            "entered_at": entry.entered_at.isoformat(),
            "waited_seconds": max(0, int((now - entry.entered_at).total_seconds())),
            "widened": entry.widen_level > 0,
            "accepts_languages": entry.accepts_languages.split(",") if entry.accepts_languages else [],
            "offered_consultant_id": entry.offered_staff_id,
        })
    return listed


def consultant_status_counts(session: Session, now: datetime) -> dict[str, int]:
    """Staff who take calls (active, with a phone: those routing may ring, whatever their role),
    counted by the status routing acts on; every status is present, zero or not."""
    staff = session.scalars(
        select(Staff).options(lazyload(Staff.skills)).where(Staff.active.is_(True), Staff.phone.is_not(None))
    )
    counts = dict.fromkeys((status.value for status in Status), 0)
    counts.update(Counter(routing.effective_status(member, now) for member in staff))
    return counts


def set_urgent(session: Session, entry_id: int, urgent: bool, staff_id: int, now: datetime) -> bool:
    """Mark a caller still in the queue urgent (served before everyone else in their queue) or not,
    and journal it on the call as marked_urgent / unmarked_urgent by `staff_id`.

    Returns False if the caller has left the queue (bridged, abandoned, left). Setting the value the
    entry already has changes and journals nothing, so a repeated request is harmless.
    """
    if routing.mark_urgent(session, entry_id, urgent):  # a caller leaving meanwhile is never marked
        entry = session.get(QueueEntry, entry_id)
        # A callback's entry has no call of its own: its journal is the original call's.
        call_id = entry.call_id or session.scalar(
            select(Callback.call_id).where(Callback.id == entry.callback_id))
        if call_id is not None:
            calls.journal(session, call_id, "marked_urgent" if urgent else "unmarked_urgent",
                          consultant_id=staff_id, at=now)
        session.commit()
        return True
    return session.scalar(select(QueueEntry.state).where(QueueEntry.id == entry_id)) in routing.IN_QUEUE
