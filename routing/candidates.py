"""Who can take a call: skills, availability, office preference, longest idle first."""
from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from functools import lru_cache
from typing import NamedTuple

from sqlalchemy import ScalarSelect, Select, and_, bindparam, case, func, literal_column, or_, select
from sqlalchemy.orm import Session, lazyload, with_expression
from sqlalchemy.sql.elements import ColumnElement

from hotline.models import Call, Staff, StaffSkill, Status, utcnow
from routing.reservation import FREE_BOUND, RINGING_IT, STALE_OFFER, free_now, reserve_picked_statement


def candidates(session: Session, language: str, topic: str | None, office: str,
               exclude: Collection[int] = (), limit: int = 10, only_office: bool = False) -> list[Staff]:
    """Free consultants with `language` x `topic` (any topic for None, a caller whose wait was
    widened): the caller's office first (only it, with `only_office`), then longest idle.

    Runs for every tier of a waiting caller, so the statement is built once per shape and only
    values are bound per run: building it (free_now() included) took longer than the database
    took to answer it (bench/routing_pick.py).
    """
    now = utcnow()
    params = _bound(language, topic, office, exclude, now)
    return list(session.scalars(_candidates_statement(topic is None, bool(exclude), int(limit), only_office),
                                params))


def anyone_free(session: Session, language: str, topic: str | None, office: str,
                only_office: bool = False) -> bool:
    """Whether candidates() would find anyone, read as one id (no consultant loaded): the look
    after a caller is queued (ivr.on_hold.enter), which asks for a pairing only if so."""
    params = _bound(language, topic, office, (), utcnow())
    return session.scalar(_anyone_statement(topic is None, only_office), params) is not None


@lru_cache(maxsize=8)
def _anyone_statement(any_topic: bool, only_office: bool) -> Select:
    where, _ = _who_and_order(any_topic, False, only_office)
    return select(Staff.id).where(*where).limit(literal_column("1"))


def free_params(now: datetime) -> dict[str, datetime]:
    """The instants that suitable()'s "free" reads, for a statement run at `now` (aware, UTC)."""
    return {"now": now, "stale_before": now - STALE_OFFER}


def _bound(language: str, topic: str | None, office: str, exclude: Collection[int], now) -> dict[str, object]:
    """The values bound in the statements _who_and_order builds."""
    params: dict[str, object] = {"language": language, "office": office, **free_params(now)}
    if topic is not None:
        params["topic"] = topic
    if exclude:
        params["exclude"] = list(exclude)
    return params


@lru_cache(maxsize=64)
def _candidates_statement(any_topic: bool, excluding: bool, limit: int, only_office: bool) -> Select:
    where, order = _who_and_order(any_topic, excluding, only_office)
    return (
        select(Staff)
        # Routing needs ids, phones and offices; skills load on first use, not for every candidate.
        .options(lazyload(Staff.skills))
        .where(*where).order_by(*order)
        # Written out, not bound, as in routing.pick_next: a generic PostgreSQL plan guesses a bound LIMIT.
        .limit(literal_column(str(limit)))
    )


def suitable(language: ColumnElement, topic: ColumnElement | None, office: ColumnElement | None
             ) -> list[ColumnElement[bool]]:
    """SQL conditions on Staff: free to be rung now, with skill `language` x `topic` (None: any
    topic), of `office` only if one is given (None: either office). The arguments are SQL values
    (bound parameters); the instants of "free" are bound at run time as `now` and `stale_before`
    (_bound). One tier of a waiting caller (routing.takers.tiers) is these conditions: routing's
    pick (candidates, reserve_best) and routing.takers, which counts whom it may ring, both read them
    here."""
    skilled = select(StaffSkill.staff_id).where(StaffSkill.language_code == language)
    if topic is not None:
        skilled = skilled.where(StaffSkill.topic_code == topic)
    where = [Staff.id.in_(skilled), *REACHABLE_FREE]
    if office is not None:
        where.append(Staff.office_code == office)
    return where


def _who_and_order(any_topic: bool, excluding: bool,
                   only_office: bool) -> tuple[tuple[ColumnElement[bool], ...], tuple[ColumnElement, ...]]:
    """candidates()' WHERE conditions and ORDER BY, with its parameters bound by name."""
    where = suitable(bindparam("language"), None if any_topic else bindparam("topic"),
                     bindparam("office") if only_office else None)
    if excluding:
        where.append(Staff.id.not_in(bindparam("exclude", expanding=True)))
    order = (case((Staff.office_code == bindparam("office"), 0), else_=1), Staff.idle_since, Staff.id)
    return tuple(where), order


class Reserved(NamedTuple):
    """The consultant reserve_best() holds for a call: their staff id and phone (E.164), and
    whether this statement reserved them (False: they were ringing for the call already)."""
    id: int
    phone: str
    reserved: bool


def reserve_best(session: Session, call_sid: str, language: str, topic: str | None, office: str,
                 exclude: Collection[int] = (), only_office: bool = False) -> tuple[bool, Reserved | None]:
    """candidates()' first consultant, or the one ringing for the call already, reserved for
    `call_sid` (status offered, their current call that one) in one statement, not committed: the
    pick and routing.reserve's compare-and-set together, one round trip where they were two
    (issue 11).

    Returns (picked, held): `held` is the consultant now holding the call, or None. None with
    picked False: nobody suitable is free. None with picked True (PostgreSQL only): the consultant
    picked was taken by a concurrent transaction between the pick and the reservation, so the
    caller may try again (a new statement sees that commit). On SQLite the whole statement runs
    under the database's write lock, so a pick is never lost.
    """
    now = utcnow()
    params = {**_bound(language, topic, office, exclude, now), "ringing_for": call_sid}
    dialect = session.get_bind().dialect.name
    statement = _reserve_best_statement(dialect, topic is None, bool(exclude), only_office)
    row = session.execute(statement, params).one_or_none()
    if row is None:
        return False, None
    taken, phone, since = row
    if taken is None:  # picked, and lost to a concurrent transaction (the outer join found no update)
        return True, None
    return True, Reserved(taken, phone, since == now)


@lru_cache(maxsize=32)
def _reserve_best_statement(dialect: str, any_topic: bool, excluding: bool, only_office: bool):
    """reserve_best's statement, built once per shape: the pick here, the reservation (and how it
    tells a lost race from nobody free) routing.reservation.reserve_picked_statement's.

    Two copies of one webhook can still pick different consultants if they run at once, each with
    its own snapshot (one freed meanwhile): callers serialize on the call's row lock for that
    (ivr.flow.connect, hotline.calls.lock_call)."""
    where, order = _who_and_order(any_topic, excluding, only_office)
    # The consultant ringing for the call comes first, whatever else they are (excluded as offered
    # it already, from the other office, deactivated since): a retry or twin of the webhook dials
    # them again, as the first copy did (routing.accept refuses a deactivated one's key).
    pick = (select(Staff.id).where(or_(and_(Staff.phone.is_not(None), RINGING_IT), and_(*where)))
            .order_by(case((RINGING_IT, 0), else_=1), *order).limit(literal_column("1")))
    return reserve_picked_statement(dialect, pick)


# A consultant routing may ring at all: active, with a phone, free now ("free" as
# routing.reservation defines it, with its instants bound at run time).
REACHABLE_FREE = (Staff.active.is_(True), Staff.phone.is_not(None), FREE_BOUND)


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
