"""Who can take a call: skills, availability, office preference, longest idle first."""
from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import case, select
from sqlalchemy.orm import Session, lazyload

from datetime import datetime

from hotline.models import Staff, StaffSkill, Status, utcnow
from routing.reservation import free_now


def candidates(session: Session, language: str, topic: str | None, office: str,
               exclude: Collection[int] = (), limit: int = 10) -> list[Staff]:
    """Free consultants with `language` x `topic` (any topic for None, a caller whose wait was
    widened): the caller's office first, then longest idle."""
    now = utcnow()
    skilled = select(StaffSkill.staff_id).where(StaffSkill.language_code == language)
    if topic is not None:
        skilled = skilled.where(StaffSkill.topic_code == topic)
    query = (
        select(Staff)
        # Routing needs ids, phones and offices; skills load on first use, not for every candidate.
        .options(lazyload(Staff.skills))
        .where(Staff.id.in_(skilled), Staff.active.is_(True), Staff.phone.is_not(None), free_now(now))
        .order_by(case((Staff.office_code == office, 0), else_=1), Staff.idle_since, Staff.id)
        .limit(limit)
    )
    if exclude:
        query = query.where(Staff.id.not_in(list(exclude)))
    return list(session.scalars(query))


def free_consultants(session: Session, languages: Collection[str], now: datetime) -> list[Staff]:
    """Free consultants with at least one of `languages`, longest idle first."""
    skilled = select(StaffSkill.staff_id).where(StaffSkill.language_code.in_(list(languages)))
    return list(session.scalars(
        select(Staff).options(lazyload(Staff.skills))
        .where(Staff.id.in_(skilled), Staff.active.is_(True), Staff.phone.is_not(None), free_now(now))
        .order_by(Staff.idle_since, Staff.id)
    ))


def language_on_duty(session: Session, language: str) -> bool:
    """Whether anyone with `language` is on duty (any status but offline), busy or not."""
    skilled = select(StaffSkill.staff_id).where(StaffSkill.language_code == language)
    return session.scalar(
        select(Staff.id).where(Staff.id.in_(skilled), Staff.active.is_(True), Staff.phone.is_not(None),
                               Staff.status != Status.offline.value).limit(1)
    ) is not None
