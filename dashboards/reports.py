"""Queue reports for supervisors: how each language x topic queue served its callers over a period,
and at which step of the call callers were lost.

Every function takes the period as a dashboards.days.Period (days, each office's in its own time
zone: a call or queue entry counts in its office's) and answers with a fixed number of aggregate
queries, however many calls the period holds.
"""
from __future__ import annotations

from sqlalchemy import Float, and_, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

import routing
from dashboards.days import Period
from hotline.models import Call, CallEvent, QueueEntry, QueueState

BRIDGED, ABANDONED, LEFT = QueueState.bridged.value, QueueState.abandoned.value, QueueState.left.value
# Funnel steps: a call that has an event of this kind reached the step.
FUNNEL_KINDS = {"reached_topic_menu": "language", "chose_topic": "topic", "queued": "queued",
                "offered": "offered"}


class seconds_between(FunctionElement):
    """SQL: seconds from the first timestamp to the second (NULL if either is NULL)."""

    type = Float()
    name = "seconds_between"
    inherit_cache = True


@compiles(seconds_between)
def _seconds_between(element, compiler, **kw) -> str:
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"EXTRACT(EPOCH FROM ({end} - {start}))"


@compiles(seconds_between, "sqlite")
def _seconds_between_sqlite(element, compiler, **kw) -> str:
    # SQLite keeps times to the millisecond; rounding the difference to whole milliseconds makes a
    # wait of exactly 60 s compare equal to 60 rather than a hair above or below it.
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"(ROUND((julianday({end}) - julianday({start})) * 86400000) / 1000.0)"


def queue_report(session: Session, period: Period, within: int) -> dict:
    """Everything the queue report shows: per queue, totals, the funnel and where callers hung up."""
    return {
        "queues": queue_statistics(session, period, within),
        "totals": queue_totals(session, period, within),
        "funnel": call_funnel(session, period),
        "abandoned_by_stage": abandoned_by_stage(session, period),
    }


def _queue_aggregates(within: int) -> list:
    """The figures of a set of queue entries; wait = ended_at - entered_at, for entries that ended."""
    e = QueueEntry
    wait = seconds_between(e.entered_at, e.ended_at)
    served_in_time = (e.state == BRIDGED, e.ended_at.is_not(None), wait <= within)
    return [
        func.count().label("entered"),
        func.count().filter(e.state == BRIDGED).label("bridged"),
        func.count().filter(e.state == ABANDONED).label("abandoned"),
        func.count().filter(e.state == LEFT).label("left"),
        func.count().filter(e.state.in_(routing.IN_QUEUE)).label("in_queue"),
        func.count().filter(*served_in_time).label("bridged_within"),
        func.avg(wait).label("average_wait"),
        func.max(wait).label("longest_wait"),
        func.avg(wait).filter(e.state == ABANDONED).label("abandoned_after"),
    ]


def _entered_in(period: Period):
    return period.contains(QueueEntry.entered_at, QueueEntry.office_code)


def queue_statistics(session: Session, period: Period, within: int) -> list[dict]:
    """Per language x topic queue, the callers who entered it in the period: how many were bridged,
    abandoned (hung up), left otherwise or are still in it; the service level (share of those who
    entered that were bridged within `within` seconds, so callers still waiting count against it);
    the average and longest wait of those whose wait ended; how long, on average, abandoners waited."""
    e = QueueEntry
    rows = session.execute(
        select(e.language_code, e.topic_code, *_queue_aggregates(within))
        .where(_entered_in(period))
        .group_by(e.language_code, e.topic_code)
        .order_by(e.language_code, e.topic_code)
    ).all()
    return [{"language": row.language_code, "topic": row.topic_code, **_figures(row)} for row in rows]


def queue_totals(session: Session, period: Period, within: int) -> dict:
    """The figures of queue_statistics over all queues together."""
    return _figures(session.execute(select(*_queue_aggregates(within)).where(_entered_in(period))).one())


def _figures(row) -> dict:
    return {
        "entered": row.entered, "bridged": row.bridged, "abandoned": row.abandoned, "left": row.left,
        "in_queue": row.in_queue, "bridged_within": row.bridged_within,
        "service_level": round(row.bridged_within / row.entered, 4) if row.entered else None,
        "average_wait_seconds": _seconds(row.average_wait),
        "longest_wait_seconds": _seconds(row.longest_wait),
        "abandoned_after_seconds": _seconds(row.abandoned_after),
    }


def _seconds(value) -> float | None:
    # PostgreSQL answers in Decimal, SQLite in float.
    return None if value is None else round(float(value), 1)


def call_funnel(session: Session, period: Period) -> dict[str, int]:
    """Calls that started in the period, and how many of them reached each step: the topic menu
    (chose a language), chose a topic, were queued, had a consultant rung, were answered."""
    c, ev = Call, CallEvent
    steps = [func.count(ev.call_id.distinct()).filter(ev.kind == kind).label(step)
             for step, kind in FUNNEL_KINDS.items()]
    row = session.execute(
        select(func.count(c.id.distinct()).label("calls"), *steps,
               func.count(c.id.distinct()).filter(c.answered_at.is_not(None)).label("answered"))
        .select_from(c)
        .outerjoin(ev, and_(ev.call_id == c.id, ev.kind.in_(FUNNEL_KINDS.values())))
        .where(period.contains(c.started_at, c.office_code))
    ).one()
    return dict(row._mapping)


def abandoned_by_stage(session: Session, period: Period) -> dict[str, int]:
    """Calls that started in the period and were abandoned, by the stage the caller hung up at
    (the `abandoned` event's detail; "unknown" without one). Each call counts once, even if a
    retried webhook journalled its hangup twice."""
    ev = CallEvent
    rows = session.execute(
        select(ev.detail, func.count(ev.call_id.distinct()))
        .join(Call, Call.id == ev.call_id)
        .where(ev.kind == "abandoned", period.contains(Call.started_at, Call.office_code))
        .group_by(ev.detail)
    ).all()
    stages: dict[str, int] = {}
    for stage, calls in rows:
        stages[stage or "unknown"] = stages.get(stage or "unknown", 0) + calls
    return stages
