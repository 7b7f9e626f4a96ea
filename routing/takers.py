"""Who may take a waiting caller now: the rule routing's pick follows, written once.

A waiting caller is served tier by tier (tiers()): their language and topic; after widen_after,
any topic in their language; then each language they agreed to, on any topic at once (their topic
first), as routing.pick_next takes them; only their own office's consultants while the office
rule keeps them there. A tier's consultants are those routing.candidates.suitable() finds free to
ring. routing.pairing.consultant_for rings the first
consultant of the first tier that has one; this module reads, for many callers at once, every
consultant who may be rung for each now: what the board and the live queues show beside a queue,
whom the periodic sweep pairs, what the expected wait a caller hears agrees with (issue 17: the
board counted consultants routing would not ring, and the sweep missed callers who had agreed to
other languages).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import ScalarSelect, and_, exists, func, literal, or_, select, union_all
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from hotline.models import QueueEntry, QueueState, Staff
from routing.candidates import REACHABLE_FREE, free_params, suitable
from routing.pick_next import OfficeRule

WAITING = QueueState.waiting.value
# (language, topic or None for any topic, own office only): one tier of a waiting caller.
Tier = tuple[str, str | None, bool]


class PickRules(NamedTuple):
    """When a waiting caller widens: to any topic in their language after `widen_after`, to the
    other office by `office_rule` (None: both offices serve every caller from the start). Read
    from the catalogue's [queue] by routing.pick_rules(now)."""

    widen_after: timedelta
    office_rule: OfficeRule | None


def tiers(entry: QueueEntry, now: datetime, widen_after: timedelta,
          office_rule: OfficeRule | None = None) -> list[Tier]:
    """(language, topic, own office only) to look for, best first; topic None means any topic.

    `entry` is a waiting QueueEntry, `now` an aware UTC datetime, `widen_after` the wait in the
    queue after which any topic in the caller's language is served. Widening adds the caller's
    language on any topic; a language the caller agreed to (accepts_languages: in the queue, or in
    the menu when theirs has nobody on duty) is served on any topic at once, their topic first,
    after their own language: README "Queues" ("the first free consultant will take your call"),
    the same rule as routing.pick_next.next_caller_for (tests/routing/test_agreed_language_takers.py
    pins both to one answer). The office rule keeps the caller to their office's consultants for a
    while."""
    waited = now - entry.entered_at
    widened = waited >= widen_after
    own_office = office_rule is not None and office_rule.restricts(entry.office_code, waited)
    found: list[Tier] = [(entry.language_code, entry.topic_code, own_office)]
    if widened:
        found.append((entry.language_code, None, own_office))
    for language in entry.accepts_languages.split(",") if entry.accepts_languages else []:
        # Agreed: any topic at once, as routing.pick_next's accepting heads take it; the topic first.
        found += [(language, entry.topic_code, own_office), (language, None, own_office)]
    return found


def may_take(entry: QueueEntry, now: datetime, rules: PickRules) -> ColumnElement[bool]:
    """SQL condition on Staff: may be rung for waiting caller `entry` now (aware, UTC), by its
    tiers. A callback staff gave to one consultant (assigned_staff_id) is theirs only, unless they
    can no longer take calls (routing.pairing.consultant_for). A statement using it binds
    routing.candidates.free_params(now)."""
    tiered = tiers(entry, now, rules.widen_after, rules.office_rule)
    anyone = or_(*(and_(*suitable(literal(language), None if topic is None else literal(topic),
                                  literal(entry.office_code) if own_office else None))
                   for language, topic, own_office in tiered))
    if entry.assigned_staff_id is None:
        return anyone
    assigned, other = literal(entry.assigned_staff_id), aliased(Staff)
    gone = ~exists().where(other.id == assigned, other.active.is_(True), other.phone.is_not(None))
    return or_(and_(Staff.id == assigned, *REACHABLE_FREE), and_(gone, anyone))


def takers_count(entry: QueueEntry, now: datetime, rules: PickRules) -> ScalarSelect:
    """SQL: how many consultants may be rung for `entry` now (may_take), as a scalar subquery."""
    return select(func.count()).select_from(Staff).where(may_take(entry, now, rules)).scalar_subquery()


def free_takers(session: Session, entries: Iterable[QueueEntry], now: datetime,
                rules: PickRules) -> dict[int, frozenset[int]]:
    """For each of `entries` (QueueEntry rows), the ids of the consultants who may be rung for it
    now (may_take); an entry not waiting (being rung, or gone) has none. One statement, none
    without a waiting entry; entries with the same tiers share one part of it."""
    entries = list(entries)
    groups: dict[tuple, list[QueueEntry]] = defaultdict(list)
    for entry in entries:
        if entry.state == WAITING:
            key = (tuple(tiers(entry, now, rules.widen_after, rules.office_rule)), entry.office_code,
                   entry.assigned_staff_id)
            groups[key].append(entry)
    found: dict[int, set[int]] = defaultdict(set)
    if groups:
        parts = [select(literal(part).label("part"), Staff.id).where(may_take(members[0], now, rules))
                 for part, members in enumerate(groups.values())]
        statement = union_all(*parts) if len(parts) > 1 else parts[0]
        for part, staff_id in session.execute(statement, free_params(now)):
            found[part].add(staff_id)
    takers = {entry.id: frozenset() for entry in entries}
    for part, members in enumerate(groups.values()):
        for entry in members:
            takers[entry.id] = frozenset(found[part])
    return takers


def waiting_takers(session: Session, now: datetime, rules: PickRules
                   ) -> tuple[list[QueueEntry], dict[int, frozenset[int]]]:
    """Every waiting caller's queue entry, and free_takers() of them: two statements (one with
    nobody waiting)."""
    # As stored now, not as an earlier read of the session left them (compare-and-sets skip it).
    entries = list(session.scalars(select(QueueEntry).where(QueueEntry.state == WAITING)
                                   .execution_options(populate_existing=True)))
    return entries, free_takers(session, entries, now, rules)
