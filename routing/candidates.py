"""Who can take a call: skills, availability, office preference, longest idle first."""
from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta, timezone
from functools import lru_cache

from sqlalchemy import Select, bindparam, case, literal_column, select
from sqlalchemy.orm import Session, lazyload
from sqlalchemy.sql.elements import BindParameter, ColumnElement
from sqlalchemy.sql.visitors import iterate, replacement_traverse

from hotline.models import Staff, StaffSkill, Status, utcnow
from routing.reservation import free_now


def candidates(session: Session, language: str, topic: str | None, office: str,
               exclude: Collection[int] = (), limit: int = 10) -> list[Staff]:
    """Free consultants with `language` x `topic` (any topic for None, a caller whose wait was
    widened): the caller's office first, then longest idle.

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
    params.update({name: now + offset for name, offset in _FREE_NOW_OFFSETS.items()})
    return list(session.scalars(_candidates_statement(topic is None, bool(exclude), int(limit)), params))


@lru_cache(maxsize=32)
def _candidates_statement(any_topic: bool, excluding: bool, limit: int) -> Select:
    skilled = select(StaffSkill.staff_id).where(StaffSkill.language_code == bindparam("language"))
    if not any_topic:
        skilled = skilled.where(StaffSkill.topic_code == bindparam("topic"))
    query = (
        select(Staff)
        # Routing needs ids, phones and offices; skills load on first use, not for every candidate.
        .options(lazyload(Staff.skills))
        .where(Staff.id.in_(skilled), Staff.active.is_(True), Staff.phone.is_not(None), _FREE_NOW)
        .order_by(case((Staff.office_code == bindparam("office"), 0), else_=1), Staff.idle_since, Staff.id)
        # Written out, not bound, as in routing.queue_pick: a generic PostgreSQL plan guesses a bound LIMIT.
        .limit(literal_column(str(limit)))
    )
    if excluding:
        query = query.where(Staff.id.not_in(bindparam("exclude", expanding=True)))
    return query


def _bind_free_now() -> tuple[ColumnElement[bool], dict[str, timedelta]]:
    """routing.reservation.free_now with its instants as named parameters, and each parameter's
    offset from `now` (now, now - STALE_OFFER): the one definition of "free" serves a statement
    built once. Checked against free_now at a second instant: every value it binds must be a
    constant or `now` plus a constant, or the bound form could not stand for it."""
    first = datetime(2000, 1, 1, tzinfo=timezone.utc)
    second = datetime(2001, 2, 3, 4, 5, 6, tzinfo=timezone.utc)
    condition = free_now(first)
    offsets: dict[int, timedelta] = {}
    for a, b in zip(_binds(condition), _binds(free_now(second)), strict=True):
        shift = a.value - first if isinstance(a.value, datetime) else None
        if shift is not None and isinstance(b.value, datetime) and b.value - second == shift:
            offsets[id(a)] = shift
        elif a.value != b.value:
            raise TypeError(f"free_now binds {a.value!r}, neither a constant nor now plus a constant")
    names: dict[str, timedelta] = {}

    def named(element):
        if isinstance(element, BindParameter) and id(element) in offsets:
            name = f"free_now_{len(names)}"
            names[name] = offsets[id(element)]
            return bindparam(name, type_=element.type)
        return None

    return replacement_traverse(condition, {}, named), names


def _binds(condition: ColumnElement[bool]) -> list[BindParameter]:
    return [element for element in iterate(condition) if isinstance(element, BindParameter)]


_FREE_NOW, _FREE_NOW_OFFSETS = _bind_free_now()


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
