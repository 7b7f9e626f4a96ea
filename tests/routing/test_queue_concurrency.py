"""Pairing waiting callers with free consultants under contention: many workers at once, each in
its own thread, app context and database session (as on several worker processes), some looking
for a caller for a consultant, some for a consultant for a caller. Whatever the interleaving, a
consultant holds one caller, a caller is offered to one consultant, and each pair rings one phone."""
from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Callable
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select, update

from hotline.models import CallEvent, QueueEntry, Staff, utcnow
from routing import offers, pairing
from tests.conftest import services_of
from tests.support.helpers import add_consultant
from tests.support.journeys import route
from tests.support.queueing import enqueued, entry_of, run_jobs

CALLERS = 12
CONSULTANTS = 4
ROUNDS = 3  # fresh races: interleavings differ from run to run


def _race(app, tasks: list[Callable]) -> list:
    """Run every task(session) at once, each in its own thread, app context and session."""
    sessions = services_of(app).db.session
    start = threading.Barrier(len(tasks))

    def run(task):
        with app.app_context(), sessions() as session:
            start.wait()
            return task(session)

    with ThreadPoolExecutor(max_workers=len(tasks)) as pool:
        return list(pool.map(run, tasks))


def _offer_next_caller(staff_id: int) -> Callable:
    def task(session) -> str | None:
        entry = offers.offer_next_caller(session, staff_id)
        return None if entry is None else entry.call_sid
    return task


def _find_consultant(entry_id: int) -> Callable:
    def task(session) -> int | None:
        staff = offers.find_consultant(session, entry_id)
        return None if staff is None else staff.id
    return task


def _query(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def _waiting_callers_and_free_consultants(app, db, twilio, callers: int, consultants: int):
    """Callers queued while every consultant was busy; then the consultants are free (set in the
    database: no pairing job is run, the race below is the only pairing)."""
    staff = [add_consultant(app, db, f"C{n}", languages=["en"], topics=["health"], status="busy",
                            idle_minutes=n) for n in range(consultants)]
    calls = [route(twilio, "en", "health") for _ in range(callers)]
    for call in calls:
        enqueued(call)
    db.execute(update(Staff).where(Staff.id.in_([s.id for s in staff])).values(status="available"))
    db.commit()
    return staff, calls


def _pairs(db, staff_ids: list[int]) -> dict[int, str]:
    """Offered consultant -> the CallSid they hold; asserts nobody holds two callers."""
    db.expire_all()
    offered = db.scalars(select(Staff).where(Staff.id.in_(staff_ids), Staff.status == "offered")).all()
    held = [s.current_call_sid for s in offered]
    assert None not in held
    assert len(set(held)) == len(held), f"a caller held by two consultants: {held}"
    return {s.id: s.current_call_sid for s in offered}


def _assert_consistent(db, twilio_api, staff_ids: list[int]) -> dict[int, str]:
    """Every reservation matches one claim and one ring, and nothing else was claimed or rung."""
    pairs = _pairs(db, staff_ids)
    entries = db.scalars(select(QueueEntry).where(QueueEntry.state == "offered")).all()
    assert {e.call_sid: e.offered_staff_id for e in entries} == {sid: staff for staff, sid in pairs.items()}
    rung = twilio_api.created_calls()
    assert len(rung) == len(pairs), "a consultant rung twice, or rung without a reservation"
    by_leg = {r.sid: _query(r.data["Url"]) for r in rung}
    assert sorted((int(q["staff"]), q["call"]) for q in by_leg.values()) == sorted(pairs.items())
    for entry in entries:
        assert _query(rung_url(rung, entry.offer_leg_sid)) == {"call": entry.call_sid,
                                                                "staff": str(entry.offered_staff_id)}
    # One "offered" in the journal per ring.
    journalled = Counter(db.scalars(select(CallEvent.consultant_id).where(CallEvent.kind == "offered")))
    assert journalled == Counter(pairs.keys())
    return pairs


def rung_url(rung, leg_sid: str | None) -> str:
    [request] = [r for r in rung if r.sid == leg_sid]
    return request.data["Url"]


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_many_workers_pairing_at_once_give_each_consultant_one_caller_and_ring_once(
        app, db, twilio, twilio_api, round_):
    staff, calls = _waiting_callers_and_free_consultants(app, db, twilio, CALLERS, CONSULTANTS)
    entry_ids = [entry_of(db, call).id for call in calls]
    staff_ids = [s.id for s in staff]
    # Each consultant's job twice (two triggers), and every caller's job, all at once.
    tasks = [_offer_next_caller(sid) for sid in staff_ids * 2] + [_find_consultant(eid) for eid in entry_ids]

    results = _race(app, tasks)

    pairs = _assert_consistent(db, twilio_api, staff_ids)
    assert pairs, "nobody was paired"
    won = [r for r in results if r is not None]
    assert len(won) == len(pairs)  # each pairing reported by exactly the job that made it

    # The triggers still queued (one per caller, from entering the queue) and the sweep pair the
    # consultants left over, and add no second ring for anyone.
    run_jobs(app)
    with app.app_context(), services_of(app).db.session() as session:
        offers.sweep(session, utcnow())
    pairs = _assert_consistent(db, twilio_api, staff_ids)
    assert sorted(pairs) == sorted(staff_ids)
    waiting = db.scalars(select(QueueEntry).where(QueueEntry.state == "waiting")).all()
    assert len(waiting) == CALLERS - CONSULTANTS


def test_the_same_consultant_paired_by_many_workers_at_once_is_rung_once(app, db, twilio, twilio_api):
    [maria], calls = _waiting_callers_and_free_consultants(app, db, twilio, 5, 1)

    results = _race(app, [_offer_next_caller(maria.id)] * 12)

    [won] = [r for r in results if r is not None]
    assert _assert_consistent(db, twilio_api, [maria.id]) == {maria.id: won}
    # Every other caller is back to waiting, none left claimed by a lost race.
    assert sorted(entry_of(db, call).state for call in calls) == ["offered"] + ["waiting"] * 4


def test_two_jobs_for_one_consultant_at_once_still_give_them_the_head_of_the_queue(
        app, db, twilio, twilio_api, monkeypatch):
    """The interleaving made deterministic: the second job runs entirely inside the first one's
    reserve() call, before it."""
    [maria], calls = _waiting_callers_and_free_consultants(app, db, twilio, 3, 1)
    real_reserve = pairing.reserve
    interleaved: list[str | None] = []

    def reserve_after_another_job(session, staff_id, call_sid, **kwargs):
        if not interleaved:
            interleaved.append(None)
            with services_of(app).db.session() as other:
                interleaved.append(_offer_next_caller(staff_id)(other))
        return real_reserve(session, staff_id, call_sid, **kwargs)

    monkeypatch.setattr(pairing, "reserve", reserve_after_another_job)
    with app.app_context(), services_of(app).db.session() as session:
        offers.offer_next_caller(session, maria.id)

    assert len(interleaved) == 2  # the second job did run inside the first
    assert _assert_consistent(db, twilio_api, [maria.id]) == {maria.id: calls[0].call_sid}


def test_the_same_caller_paired_by_many_workers_at_once_is_rung_once(app, db, twilio, twilio_api):
    staff, [call] = _waiting_callers_and_free_consultants(app, db, twilio, 1, 3)
    entry_id = entry_of(db, call).id

    results = _race(app, [_find_consultant(entry_id)] * 12)

    assert sum(r is not None for r in results) == 1
    pairs = _assert_consistent(db, twilio_api, [s.id for s in staff])
    assert list(pairs.values()) == [call.call_sid]
    # The consultants not chosen were released by the losing workers: still free.
    db.expire_all()
    assert sorted(s.status for s in db.scalars(select(Staff).where(Staff.id.in_([s.id for s in staff])))) == [
        "available", "available", "offered"]


def test_the_same_pairing_job_queued_twice_for_a_consultant_rings_once(app, db, twilio, twilio_api):
    [maria], calls = _waiting_callers_and_free_consultants(app, db, twilio, 3, 1)
    with app.app_context():
        offers.consultant_may_be_free(maria.id)
        offers.consultant_may_be_free(maria.id)
    run_jobs(app)  # also the find_consultant job of each caller, from entering the queue
    assert _assert_consistent(db, twilio_api, [maria.id]) == {maria.id: calls[0].call_sid}
    run_jobs(app)
    assert len(twilio_api.created_calls()) == 1
