"""What the queues tell: a waiting caller's place and expected wait, and the figures of every
language x topic queue for the staff's board. Reads only; `now` is passed in wherever time matters.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from hotline import config
from hotline.models import QueueEntry, QueueState
from routing.candidates import free_params
from routing.queues import IN_QUEUE, OFFERED
from routing.takers import PickRules, free_takers, takers_count

# The estimated wait divides the position by the answers of the queue in this recent window.
ANSWER_RATE_WINDOW = timedelta(minutes=30)


def _ahead(entry: QueueEntry):
    """The SELECT of how many callers are ahead of `entry` in its language x topic queue."""
    e = QueueEntry
    earlier = or_(e.first_rang_at < entry.first_rang_at,
                  and_(e.first_rang_at == entry.first_rang_at, e.id < entry.id))
    ahead = and_(e.urgent.is_(True), earlier) if entry.urgent else or_(e.urgent.is_(True), earlier)
    return (select(func.count()).select_from(e)
            .where(e.state.in_(IN_QUEUE), e.language_code == entry.language_code,
                   e.topic_code == entry.topic_code, ahead))


def _answered(entry: QueueEntry, now: datetime, window: timedelta):
    """The SELECT of how many callers of the entry's queue were bridged in `window` before `now`."""
    e = QueueEntry
    return (select(func.count()).select_from(e)
            .where(e.state == QueueState.bridged.value, e.language_code == entry.language_code,
                   e.topic_code == entry.topic_code, e.ended_at > now - window, e.ended_at <= now))


def position(session: Session, entry: QueueEntry) -> int:
    """1-based place among the callers of the same language x topic still in the queue (waiting or
    being offered): urgent callers first, then by first_rang_at, then by arrival."""
    return session.scalar(_ahead(entry)) + 1


def expected_wait(place: int, answered: int, free: int, window: timedelta, min_answers: int) -> int | None:
    """Seconds until a caller at `place` is likely answered, or None: say nothing rather than
    something wrong (issue 17). With `free` consultants who may take the caller now at least as
    many as `place`, 0 (they are being rung). Otherwise the callers up to them that those leave,
    over the queue's answer rate: `answered` callers in `window`, which must be at least
    `min_answers` ([queue] estimate_min_answers) for a rate worth saying."""
    if free >= place:
        return 0
    if answered < max(1, min_answers):
        return None
    return round((place - free) * window.total_seconds() / answered)


def estimated_wait(session: Session, entry: QueueEntry, now: datetime, window: timedelta = ANSWER_RATE_WINDOW,
                   *, rules: PickRules | None = None, min_answers: int | None = None) -> int | None:
    """wait_figures' expected wait alone (seconds, or None)."""
    return wait_figures(session, entry, now, window, rules=rules, min_answers=min_answers)[1]


def wait_figures(session: Session, entry: QueueEntry, now: datetime, window: timedelta = ANSWER_RATE_WINDOW,
                 *, rules: PickRules | None = None,
                 min_answers: int | None = None) -> tuple[int, int | None]:
    """(position, expected wait in seconds or None: expected_wait) of a waiting caller at `now`
    (aware, UTC), from their place, the callers of their language x topic bridged in the last
    `window`, and (with `rules`, routing.pick_rules) the consultants who may take them now
    (routing.takers; without, none counted); `min_answers` (catalogue.queue.estimate_min_answers)
    defaults to the packaged [queue] estimate_min_answers. Read in one statement (the counts as
    scalar subqueries of one SELECT): what each turn of the wait URL tells the caller, in one
    round trip."""
    if min_answers is None:
        min_answers = config.default("queue", "estimate_min_answers")
    counts = [_ahead(entry).scalar_subquery(), _answered(entry, now, window).scalar_subquery()]
    if rules is not None:
        counts.append(takers_count(entry, now, rules))
    ahead, answered, *free = session.execute(select(*counts), free_params(now)).one()
    place = ahead + 1
    return place, expected_wait(place, answered, free[0] if free else 0, window, min_answers)


def queue_figures(session: Session, now: datetime, rules: PickRules) -> list[dict]:
    """Each language x topic queue with callers in it at `now` (aware, UTC): how many wait (and of
    them are being offered), the longest time in the queue (seconds), and how many consultants are
    free who may take one of its waiting callers now (routing.takers, by `rules`:
    routing.pick_rules). Two statements, one with nobody in a queue."""
    # As stored now, not as an earlier read of the session left them (compare-and-sets skip it).
    entries = list(session.scalars(select(QueueEntry).where(QueueEntry.state.in_(IN_QUEUE))
                                   .execution_options(populate_existing=True)))
    takers = free_takers(session, entries, now, rules)
    queues: dict[tuple[str, str], dict] = {}
    for entry in entries:
        queue = queues.setdefault((entry.language_code, entry.topic_code), {
            "language": entry.language_code, "topic": entry.topic_code, "waiting": 0, "offered": 0,
            "entered": entry.entered_at, "free": set()})
        queue["waiting"] += 1
        queue["offered"] += entry.state == OFFERED
        queue["entered"] = min(queue["entered"], entry.entered_at)
        queue["free"] |= takers[entry.id]
    return [
        {"language": q["language"], "topic": q["topic"], "waiting": q["waiting"], "offered": q["offered"],
         "longest_wait_seconds": max(0, int((now - q["entered"]).total_seconds())),
         "available_consultants": len(q["free"])}
        for _, q in sorted(queues.items())
    ]
