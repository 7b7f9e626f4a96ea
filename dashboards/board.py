"""The supervisor's live board: what one look at it shows, read through the dashboards' and
routing's query functions and gathered into plain values for the template.

`snapshot` costs a fixed number of statements however many callers, consultants or callbacks there
are (see tests/dashboards/web/test_board.py); the board polls it every second from every open board.
"""
from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import routing
from dashboards import callback_queries, days, queries, reports
from hotline.catalogue import Catalogue
from hotline.config.board import BoardRules
from hotline.models import OPEN_STATES, Call, Callback, CallbackState, Staff, Status

# Abandonment stages, in the order of the call (the `abandoned` event's detail); others follow.
STAGES = ("greeting", "language_menu", "topic_menu", "queue")
BACKLOG_LIMIT = 50  # open callbacks listed with their actions, soonest due first
ON_A_CALL = (Status.offered.value, Status.busy.value, Status.wrap_up.value)


def snapshot(session: Session, catalogue: Catalogue, now: datetime) -> dict:
    """Everything the board shows at `now` (aware): queues and their callers, consultants, language
    coverage, today's figures and the callback backlog, as plain values (no caller numbers)."""
    rules = catalogue.board
    callers = queries.callers_in_queues(session, now)
    staff = queries.consultants(session)
    today = days.todays(catalogue, now)
    _, takers = routing.waiting_takers(session, now, routing.pick_rules(now))
    queue_rows = queues(callers, takers, rules)
    longest = max((row["longest_wait_seconds"] for row in queue_rows), default=None)
    return {
        "now": now,
        "rules": rules,
        "queues": queue_rows,
        "callers": callers,
        "longest_wait_seconds": longest,
        "alert": longest is not None and longest > rules.longest_wait_alert_seconds,
        "consultants": consultant_rows(session, staff, now),
        "coverage": coverage(session, today, callers, staff),
        "today": today_figures(session, today, rules.service_level_seconds),
        "callbacks": backlog(session, catalogue, now, staff),
    }


def queues(callers: list[dict], takers: dict[int, frozenset[int]], rules: BoardRules) -> list[dict]:
    """One row per office x language x topic with callers in it: waiting (all in the queue), being
    rung (a consultant's phone rings for them), longest wait, consultants free who may take one of
    its waiting callers now (as routing would ring them: its language and topic, widened as the
    wait has made them, the other office once routing widens to it), and whether the longest wait
    is past the alert threshold. `callers`: queries.callers_in_queues; `takers`: each waiting
    caller's entry id -> the ids of those consultants (routing.waiting_takers)."""
    rows: dict[tuple[str, str, str], dict] = {}
    free: dict[tuple[str, str, str], set[int]] = {}
    for caller in callers:
        key = (caller["office"], caller["language"], caller["topic"])
        row = rows.setdefault(key, {"office": key[0], "language": key[1], "topic": key[2], "waiting": 0,
                                    "offered": 0, "longest_wait_seconds": 0, "urgent": 0})
        free.setdefault(key, set()).update(takers.get(caller["id"], ()))
        row["available_consultants"] = len(free[key])
        row["waiting"] += 1
        row["offered"] += caller["state"] == "offered"
        row["urgent"] += caller["urgent"]
        row["longest_wait_seconds"] = max(row["longest_wait_seconds"], caller["waited_seconds"])
    for row in rows.values():
        row["alert"] = row["longest_wait_seconds"] > rules.longest_wait_alert_seconds
    return sorted(rows.values(), key=lambda row: (row["office"], row["language"], row["topic"]))


def consultant_rows(session: Session, staff: list[Staff], now: datetime) -> list[dict]:
    """Each active consultant: status (as routing acts on it) and seconds in it, languages, topics,
    office, and the call they are rung for, on or wrapping up (language, topic, since when, and a
    short pseudonymous caller key; None for a callback or no call)."""
    sids = [member.current_call_sid for member in staff if member.current_call_sid]
    calls = {call.call_sid: call for call in session.scalars(select(Call).where(Call.call_sid.in_(sids)))} \
        if sids else {}
    rows = []
    for member in staff:
        status = routing.effective_status(member, now)
        call = calls.get(member.current_call_sid) if status in ON_A_CALL else None
        rows.append({
            "id": member.id, "name": member.name, "office": member.office_code, "status": status,
            "seconds_in_status": max(0, int((now - member.status_since).total_seconds())),
            "languages": member.languages, "topics": member.topics,
            "call": call and {"language": call.language_code, "topic": call.topic_code,
                              "since": call.answered_at or call.started_at,
                              "caller": (call.caller_key or "")[:6] or None},
            "on_callback": status in ON_A_CALL and bool(member.current_call_sid) and call is None,
        })
    return rows


def coverage(session: Session, today: days.Period, callers: list[dict], staff: list[Staff]) -> list[dict]:
    """Per language that has callers waiting or that callers chose today: callers waiting now, calls
    today, and consultants on duty now (any status but offline) and free now with it."""
    called = dict(session.execute(
        select(Call.language_code, func.count())
        .where(Call.language_code.is_not(None), today.contains(Call.started_at, Call.office_code))
        .group_by(Call.language_code)
    ).all())
    waiting = Counter(caller["language"] for caller in callers)
    on_duty: Counter[str] = Counter()
    free: Counter[str] = Counter()
    for member in staff:
        if member.status != Status.offline.value and member.phone:
            on_duty.update(member.languages)
            if routing.effective_status(member) == Status.available.value:
                free.update(member.languages)
    languages = sorted(set(called) | set(waiting))
    return [{"language": code, "waiting": waiting[code], "calls_today": called.get(code, 0),
             "on_duty": on_duty[code], "free": free[code], "uncovered": not on_duty[code]}
            for code in languages]


def today_figures(session: Session, today: days.Period, within: int) -> dict:
    """Today so far (each office's day): calls, answered, abandoned and at which stage (STAGES
    first, then any other), and the queues' service level within `within` s, average and longest
    wait (reports.queue_totals)."""
    funnel = reports.call_funnel(session, today)
    by_stage = reports.abandoned_by_stage(session, today)
    stages = [(stage, by_stage.get(stage, 0)) for stage in STAGES]
    stages += sorted((stage, n) for stage, n in by_stage.items() if stage not in STAGES)
    totals = reports.queue_totals(session, today, within)
    return {"calls": funnel["calls"], "answered": funnel["answered"], "abandoned": sum(by_stage.values()),
            "abandoned_by_stage": stages, "service_level": totals["service_level"],
            "average_wait_seconds": totals["average_wait_seconds"],
            "longest_wait_seconds": totals["longest_wait_seconds"], "queued": totals["entered"]}


def backlog(session: Session, catalogue: Catalogue, now: datetime, staff: list[Staff]) -> dict:
    """The callback backlog: per language, callbacks scheduled, due (in the queue), in progress,
    overdue (waiting past due_at) and unreachable today; and the open ones, soonest due first (at
    most BACKLOG_LIMIT), each with the consultants it may be given to and its office's time zone."""
    by_language = _backlog_by_language(session, catalogue, now)
    listed = callback_queries.callbacks(
        session, callback_queries.CallbackFilter(states=OPEN_STATES, limit=BACKLOG_LIMIT))
    names = {member.id: member.name for member in staff}
    open_callbacks = []
    for callback, _ in listed:
        zone = days.zone_of(catalogue, callback.office_code)
        open_callbacks.append({
            "id": callback.id, "language": callback.language_code, "topic": callback.topic_code,
            "office": callback.office_code, "state": callback.state, "attempts": callback.attempts,
            "due_at": callback.due_at.astimezone(zone), "overdue": _overdue(callback, now),
            "assigned": names.get(callback.assigned_staff_id, callback.assigned_staff_id),
            "assigned_id": callback.assigned_staff_id,
            "may_change": callback.state in callback_queries.WAITING_STATES,
            "assignable": [(m.id, m.name) for m in staff
                           if m.phone and callback.language_code in m.languages],
        })
    totals = {key: sum(row[key] for row in by_language) for key in
              ("scheduled", "due", "in_progress", "overdue", "unreachable_today")}
    return {"by_language": by_language, "totals": totals, "open": open_callbacks,
            "more": max(0, sum(totals[k] for k in ("scheduled", "due", "in_progress")) - len(listed))}


def _overdue(callback: Callback, now: datetime) -> bool:
    return callback.state in callback_queries.WAITING_STATES and callback.due_at < now


def _backlog_by_language(session: Session, catalogue: Catalogue, now: datetime) -> list[dict]:
    """One aggregate over callbacks open now or closed unreachable today, grouped by language."""
    c = Callback
    unreachable_today = (c.state == CallbackState.unreachable.value,
                         days.todays(catalogue, now).contains(c.closed_at, c.office_code))
    rows = session.execute(
        select(c.language_code,
               *(func.count().filter(c.state == state) for state in OPEN_STATES),
               func.count().filter(c.state.in_(callback_queries.WAITING_STATES), c.due_at < now),
               func.count().filter(*unreachable_today))
        .where(c.state.in_((*OPEN_STATES, CallbackState.unreachable.value)))
        .group_by(c.language_code).order_by(c.language_code)
    ).all()
    listed = []
    for language, scheduled, due, in_progress, overdue, unreachable in rows:
        if scheduled or due or in_progress or unreachable:
            listed.append({"language": language, "scheduled": scheduled, "due": due,
                           "in_progress": in_progress, "overdue": overdue, "unreachable_today": unreachable})
    return listed
