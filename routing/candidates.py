"""Who can take a call: skills, availability, office preference, longest idle first."""
from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from functools import lru_cache

from sqlalchemy import ScalarSelect, Select, and_, bindparam, case, func, literal_column, or_, select
from sqlalchemy.orm import Session, lazyload, with_expression

from hotline.models import Call, Staff, StaffSkill, Status, UTCDateTime, utcnow
from routing.reservation import STALE_OFFER, free_at, free_now


def candidates(session: Session, language: str, topic: str | None, office: str,
               exclude: Collection[int] = (), limit: int = 10, only_office: bool = False,
               ringing_for: str | None = None) -> list[Staff]:
    """Free consultants with `language` x `topic` (any topic for None, a caller whose wait was
    widened): the caller's office first (only it, with `only_office`), then longest idle.

    `ringing_for` (a CallSid): the consultant already offered that call (status offered, their
    current call that one), if any and not excluded, comes first, free or not: a copy of a webhook
    whose twin reserved them after this copy read the call finds them here, in the same statement.

    Runs for every call offered and every tier of a waiting caller, so the statement is built once
    per shape and only values are bound per run: building it (free_now() included) took longer
    than the database took to answer it (bench/routing_pick.py).
    """
    now = utcnow()
    params: dict[str, object] = {"language": language, "office": office}
    if topic is not None:
        params["topic"] = topic
    if exclude:
        params["exclude"] = list(exclude)
    if ringing_for is not None:
        params["ringing_for"] = ringing_for
    params.update(now=now, stale_before=now - STALE_OFFER)
    statement = _candidates_statement(topic is None, bool(exclude), int(limit), only_office,
                                      ringing_for is not None)
    return list(session.scalars(statement, params))


@lru_cache(maxsize=64)
def _candidates_statement(any_topic: bool, excluding: bool, limit: int, only_office: bool = False,
                          ringing: bool = False) -> Select:
    skilled = select(StaffSkill.staff_id).where(StaffSkill.language_code == bindparam("language"))
    if not any_topic:
        skilled = skilled.where(StaffSkill.topic_code == bindparam("topic"))
    free, first = _FREE_NOW, []
    if ringing:
        ringing_it = and_(Staff.status == Status.offered.value,
                          Staff.current_call_sid == bindparam("ringing_for"))
        free, first = or_(_FREE_NOW, ringing_it), [case((ringing_it, 0), else_=1)]
    query = (
        select(Staff)
        # Routing needs ids, phones and offices; skills load on first use, not for every candidate.
        .options(lazyload(Staff.skills))
        .where(Staff.id.in_(skilled), Staff.active.is_(True), Staff.phone.is_not(None), free)
        .order_by(*first, case((Staff.office_code == bindparam("office"), 0), else_=1), Staff.idle_since,
                  Staff.id)
        # Written out, not bound, as in routing.queue_pick: a generic PostgreSQL plan guesses a bound LIMIT.
        .limit(literal_column(str(limit)))
    )
    if excluding:
        query = query.where(Staff.id.not_in(bindparam("exclude", expanding=True)))
    if only_office:
        query = query.where(Staff.office_code == bindparam("office"))
    return query


# "Free" as routing.reservation defines it, with its instants bound at run time.
_FREE_NOW = free_at(bindparam("now", type_=UTCDateTime), bindparam("stale_before", type_=UTCDateTime))


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


def _languages_on_duty() -> ScalarSelect:
    """SQL: the languages of everyone on duty as language_on_duty() counts them, comma-separated
    ("bg,en,ru"), or NULL if nobody is on duty."""
    on_duty = (select(StaffSkill.language_code).join(Staff, Staff.id == StaffSkill.staff_id)
               .where(Staff.active.is_(True), Staff.phone.is_not(None), Staff.status != Status.offline.value)
               .distinct().subquery())
    return select(func.aggregate_strings(on_duty.c.language_code, ",")).scalar_subquery()


# language_on_duty() for every language, read in the same SELECT as the caller's call by the
# language menu's webhook (hotline.calls.find_call's `loads`): Call.languages_on_duty.
LANGUAGES_ON_DUTY = (with_expression(Call.languages_on_duty, _languages_on_duty()),)
