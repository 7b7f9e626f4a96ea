"""Read-side queries for staff tools: consultants, calls and consultation records."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.models import Call, ConsultationRecord, Role, Staff

REPORTING_ZONE = ZoneInfo("Europe/Sofia")


def consultants(session: Session, office: str | None = None) -> list[Staff]:
    query = select(Staff).where(Staff.role == Role.consultant.value, Staff.active.is_(True)).order_by(Staff.name)
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
    date_from: date | None = None  # inclusive, a day in the centres' own time zone
    date_to: date | None = None  # inclusive
    limit: int = 100
    offset: int = 0


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, REPORTING_ZONE)


def consultation_records(session: Session, flt: RecordFilter) -> list[ConsultationRecord]:
    query = select(ConsultationRecord).order_by(ConsultationRecord.started_at.desc(), ConsultationRecord.id.desc())
    if flt.call_sid:
        query = query.join(Call, ConsultationRecord.call_id == Call.id).where(Call.call_sid == flt.call_sid)
    if flt.language:
        query = query.where(ConsultationRecord.language_code == flt.language)
    if flt.topic:
        query = query.where(ConsultationRecord.topic_code == flt.topic)
    if flt.office:
        query = query.where(ConsultationRecord.office_code == flt.office)
    if flt.date_from:
        query = query.where(ConsultationRecord.started_at >= _day_start(flt.date_from))
    if flt.date_to:
        query = query.where(ConsultationRecord.started_at < _day_start(flt.date_to + timedelta(days=1)))
    return list(session.scalars(query.limit(flt.limit).offset(flt.offset)))
