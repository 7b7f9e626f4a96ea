"""Who can take a call: skills, availability, office preference, longest idle first."""
from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import case, select
from sqlalchemy.orm import Session, lazyload

from hotline.models import Staff, StaffSkill, utcnow
from routing.reservation import free_now


def candidates(session: Session, language: str, topic: str, office: str,
               exclude: Collection[int] = (), limit: int = 10) -> list[Staff]:
    """Free consultants with `language` x `topic`: the caller's office first, then longest idle."""
    now = utcnow()
    skilled = select(StaffSkill.staff_id).where(
        StaffSkill.language_code == language, StaffSkill.topic_code == topic
    )
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
