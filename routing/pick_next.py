"""The next waiting caller for a consultant who has just become free.

The choice is the best, urgent first and then by first_rang_at, of a handful of queue heads: the
first caller of each (language, topic) skill of the consultant; of each of their languages among
callers waiting long enough to be widened; of each value of accepts_languages that names one of
their languages. Every head is a LIMIT 1 index probe, so the cost follows the consultant's skills,
not the number of callers waiting.

The skills go in as rows of a small CTE and each kind of head is one correlated subquery over them,
so the statement stays the same size whatever the skills (PostgreSQL took ~10 ms to plan a UNION
with a LIMIT-1 branch per skill, far longer than running it). Urgent and other callers are separate
heads: an index in one direction cannot serve "urgent descending, first_rang_at ascending" on
every backend.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import (
    CTE,
    ScalarSelect,
    Select,
    String,
    bindparam,
    exists,
    literal,
    literal_column,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from hotline.models import QueueEntry, QueueState, Staff

_WAITING = QueueState.waiting.value
# LIMIT 1 written out, not bound: PostgreSQL estimates a bound LIMIT at a tenth of the rows, so it
# would plan every run afresh rather than reuse the prepared plan.
_ONE = literal_column("1")


@dataclass(frozen=True)
class OfficeRule:
    """Callers are served by their own office's consultants until they have waited `after`; a
    caller whose office is closed (not in `open_offices`) is anyone's from the start."""

    after: timedelta
    open_offices: frozenset[str]

    def restricts(self, entry_office: str, waited: timedelta) -> bool:
        return entry_office in self.open_offices and waited < self.after


def next_caller_for(session: Session, staff: Staff, now: datetime, widen_after: timedelta,
                    office_rule: OfficeRule | None = None) -> QueueEntry | None:
    """The waiting caller `staff` should take next, or None.

    Eligible: callers of a (language, topic) among the consultant's skills; callers of one of the
    consultant's languages, any topic, who have waited `widen_after` since entering the queue;
    callers who agreed to one of the consultant's languages, any topic at once (the rule
    routing.takers.tiers states for the other side of the pick); with an `office_rule`, of those only
    callers of the consultant's office, or past the rule's wait, or whose office is closed. Urgent
    callers first, then the one who first rang earliest. Only reads: claim() the entry to take it.
    """
    pairs = sorted({(skill.language_code, skill.topic_code) for skill in staff.skills})
    if not pairs:
        return None
    languages = sorted({language for language, _ in pairs})
    params: dict[str, object] = {"waiting": _WAITING, "cutoff": now - widen_after, "staff_id": staff.id}
    for i, (language, topic) in enumerate(pairs):
        params[f"pair_language_{i}"], params[f"pair_topic_{i}"] = language, topic
    for i, language in enumerate(languages):
        params[f"language_{i}"] = language
    if office_rule is not None:
        params.update(staff_office=staff.office_code, office_cutoff=now - office_rule.after,
                      open_offices=sorted(office_rule.open_offices))
    return session.scalar(_pick_statement(len(pairs), len(languages), office_rule is not None), params)


@lru_cache(maxsize=512)
def _pick_statement(pair_count: int, language_count: int, by_office: bool = False) -> Select:
    """The pick for a consultant with this many skills and languages. Values are bound at run time,
    so consultants of the same shape share one statement, its cache key and its compiled form."""
    pairs = _rows("pairs", [(f"pair_language_{i}", f"pair_topic_{i}") for i in range(pair_count)],
                  ("language", "topic"))
    languages = _rows("languages", [(f"language_{i}",) for i in range(language_count)], ("language",))
    entry = aliased(QueueEntry)
    cutoff = bindparam("cutoff", type_=QueueEntry.entered_at.type)
    office = _office_condition(entry) if by_office else ()
    heads: list[Select] = []
    for urgent in (True, False):
        heads.append(_first(pairs, urgent, entry, entry.language_code == pairs.c.language,
                            entry.topic_code == pairs.c.topic, *office))
        # first_rang_at <= entered_at always, so the bound on first_rang_at ends the index range early.
        heads.append(_first(languages, urgent, entry, entry.language_code == languages.c.language,
                            entry.first_rang_at <= cutoff, entry.entered_at <= cutoff, *office))
    heads += _accepting_heads(languages, by_office)
    heads.append(_assigned_head())
    best = QueueEntry
    return (select(best).where(best.id.in_(union_all(*heads)))
            .order_by(best.urgent.desc(), best.first_rang_at, best.id).limit(_ONE))


def _assigned_head() -> Select:
    """The first caller assigned to this consultant by staff (a callback), whatever its topic."""
    entry = aliased(QueueEntry)
    # As a scalar subquery: SQLite takes no ORDER BY or LIMIT on a bare member of a UNION.
    return select(select(entry.id)
                  .where(entry.state == bindparam("waiting"),
                         entry.assigned_staff_id == bindparam("staff_id"))
                  .order_by(entry.urgent.desc(), entry.first_rang_at, entry.id).limit(_ONE).scalar_subquery())


def _office_condition(entry) -> tuple[ColumnElement[bool]]:
    """The consultant's own office's caller, or one who has waited past the office rule, or one
    whose office is closed. A filter within each head's index range: a queue holds few callers
    (queue.max_size), so skipping the other office's costs little."""
    return (or_(entry.office_code == bindparam("staff_office"),
                entry.entered_at <= bindparam("office_cutoff", type_=QueueEntry.entered_at.type),
                entry.office_code.not_in(bindparam("open_offices", expanding=True))),)


def _rows(name: str, rows: list[tuple[str, ...]], columns: tuple[str, ...]) -> CTE:
    """A CTE of bound values, one SELECT per row (portable where a VALUES list is not)."""
    selects = [select(*(bindparam(p, type_=String).label(c) for p, c in zip(row, columns, strict=True)))
               for row in rows]
    return (union_all(*selects) if len(selects) > 1 else selects[0]).cte(name)


def _first(source: CTE, urgent: bool, entry, *conditions) -> Select:
    """For each row of `source`: the id of the first waiting entry matching `conditions` that is
    for anyone or assigned to this consultant (a callback staff gave to one consultant)."""
    anyones = or_(entry.assigned_staff_id.is_(None), entry.assigned_staff_id == bindparam("staff_id"))
    first_id = (select(entry.id)
                .where(entry.state == bindparam("waiting"), *conditions, entry.urgent == urgent, anyones)
                .order_by(entry.first_rang_at, entry.id).limit(_ONE)
                .scalar_subquery().correlate(source))
    return select(first_id).select_from(source)


def _accepting_heads(languages: CTE, by_office: bool) -> list[Select]:
    """The heads among callers who agreed to one of the consultant's languages.

    A loose index scan: walk the distinct values of accepts_languages in the index (few: "en",
    "bg,en"...), keep those naming one of the consultant's languages, and take the first urgent and
    the first other entry of each, so the cost follows the distinct values, not the callers.
    """
    entry = aliased(QueueEntry)

    def next_value(*conditions) -> ScalarSelect:
        return (select(entry.accepts_languages).where(entry.state == bindparam("waiting"), *conditions)
                .order_by(entry.accepts_languages).limit(_ONE).scalar_subquery())

    first_value = select(next_value(entry.accepts_languages.is_not(None)).label("value"))
    values = first_value.cte("accepted", recursive=True)
    values = values.union_all(
        select(next_value(entry.accepts_languages > values.c.value).correlate(values))
        .where(values.c.value.is_not(None))
    )
    # Whole codes: ",bg,en," contains ",en,". (A bound parameter as the whole LIKE pattern would
    # make SQLite prepare the statement again at every run.)
    named = exists().where((literal(",") + values.c.value + literal(",")).contains(
        literal(",") + languages.c.language + literal(",")))
    office = _office_condition(entry) if by_office else ()
    return [_first(values, urgent, entry, entry.accepts_languages == values.c.value, *office).where(named)
            for urgent in (True, False)]
