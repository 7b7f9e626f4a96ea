"""Many calls racing for few consultants, each in its own thread and database session (as on
several web processes): the reservation is one conditional UPDATE, so every consultant goes to
exactly one call and every other call is told nobody is free."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select, text

import routing
from hotline import calls
from hotline.models import Call, Staff
from routing import pairing
from tests.conftest import services_of
from tests.support.helpers import add_consultant

CALLS = 20
CONSULTANTS = 3


@pytest.fixture
def _languages_on_duty():
    """Only this test's consultants: it reads every consultant's status."""
    return []


def _race(app, call_sids: list[str]) -> dict[str, int | None]:
    """offer_call for every sid at once, one thread and one session each: sid -> staff id or None."""
    sessions = services_of(app).db.sessions
    start = threading.Barrier(len(call_sids))

    def offer(call_sid: str) -> int | None:
        with sessions() as session:
            start.wait()
            staff = pairing.offer_call(session, call_sid, "en", "health", "sofia")
            return None if staff is None else staff.id

    with ThreadPoolExecutor(max_workers=len(call_sids)) as pool:
        return dict(zip(call_sids, pool.map(offer, call_sids), strict=True))


def test_each_consultant_is_reserved_by_exactly_one_of_many_simultaneous_calls(app, db):
    staff = [add_consultant(app, db, f"C{n}", idle_minutes=n) for n in range(CONSULTANTS)]
    call_sids = [f"CA{n:032d}" for n in range(CALLS)]

    won = _race(app, call_sids)

    winners = {sid: staff_id for sid, staff_id in won.items() if staff_id is not None}
    assert len(winners) == CONSULTANTS
    assert sorted(winners.values()) == sorted(s.id for s in staff)  # nobody reserved twice
    db.expire_all()
    stored = {s.id: (s.status, s.current_call_sid) for s in db.scalars(select(Staff))}
    assert stored == {staff_id: ("offered", sid) for sid, staff_id in winners.items()}


def test_the_losers_get_a_consultant_once_one_is_released(app, db):
    add_consultant(app, db, "Only one")
    won = _race(app, [f"CB{n:032d}" for n in range(8)])
    winner = next(sid for sid, staff_id in won.items() if staff_id is not None)
    assert routing.release(db, winner) == 1
    loser = next(sid for sid, staff_id in won.items() if staff_id is None)
    assert pairing.offer_call(db, loser, "en", "health", "sofia") is not None


def test_a_twin_that_read_the_call_before_its_twin_reserved_gets_the_consultant_ringing_for_it(app, db):
    """Two copies of the topic webhook: both read the call when nobody held it; one reserved Maria
    and committed before the other reserved, when she is no longer free. The late copy must still
    dial her, not queue the caller whom she is ringing for (it did, one run in two: issue 11's
    review), and not reserve Anna as well, even though Maria is excluded as offered the call
    already (the first copy journalled the offer)."""
    maria = add_consultant(app, db, "Maria", idle_minutes=9)
    anna = add_consultant(app, db, "Anna", idle_minutes=1)
    sid = "CA" + "7" * 32
    with services_of(app).db.sessions() as twin:
        held, reserved = routing.reserve_for_call(twin, sid, "en", "health", "sofia", commit=True)
        assert (held.id, held.phone, reserved) == (maria.id, maria.phone, True)

    held, reserved = routing.reserve_for_call(db, sid, "en", "health", "sofia", exclude=[maria.id],
                                              commit=False)

    assert (held.id, reserved) == (maria.id, False)
    db.commit()
    db.expire_all()
    assert (db.get(Staff, anna.id).status, db.get(Staff, maria.id).current_call_sid) == ("available", sid)


def _until_a_lock_is_waited_for(db, done: Callable[[], bool] = lambda: False) -> None:
    """Until another session of this test's database waits for a row lock (PostgreSQL's
    pg_stat_activity; at most 10 s) or `done()`; on SQLite, which does not show it, half a second.
    Only this database's sessions count: a lock waited for in another database of the server (a
    suite run beside this one) made the test go on before its own session waited."""
    if db.get_bind().dialect.name != "postgresql":
        time.sleep(0.5)
        return
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not done():
        waiting = db.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                  "AND datname = current_database()"))
        db.rollback()
        if waiting:
            return
        time.sleep(0.02)


def test_a_pick_taken_by_a_concurrent_transaction_is_made_again(app, db, monkeypatch):
    """The longest idle consultant is reserved by another call's transaction that has not committed
    yet: this call's reservation waits for it, then (on PostgreSQL, where the pick was made before
    the wait) finds them taken and picks again, the next one, in place of queueing a caller while
    someone is free. On SQLite the wait comes before the pick (one writer at a time): one pick."""
    maria = add_consultant(app, db, "Maria", idle_minutes=9)
    anna = add_consultant(app, db, "Anna", idle_minutes=1)
    picks: list[str] = []
    reserve_best = pairing.reserve_best

    def counted(session, call_sid, *args, **kwargs):
        picks.append(call_sid)
        return reserve_best(session, call_sid, *args, **kwargs)

    monkeypatch.setattr(pairing, "reserve_best", counted)
    sessions = services_of(app).db.sessions
    first_sid, second_sid = "CA" + "1" * 32, "CA" + "2" * 32
    with sessions() as first, ThreadPoolExecutor(max_workers=1) as pool:
        held, _ = routing.reserve_for_call(first, first_sid, "en", "health", "sofia", commit=False)
        assert held.id == maria.id

        def second() -> int | None:
            with sessions() as session:
                held, _ = routing.reserve_for_call(session, second_sid, "en", "health", "sofia")
                return None if held is None else held.id

        waiting = pool.submit(second)
        _until_a_lock_is_waited_for(db)
        first.commit()
        assert waiting.result(timeout=30) == anna.id
    expected = 2 if db.get_bind().dialect.name == "postgresql" else 1
    assert picks.count(second_sid) == expected


def test_a_consultant_whose_phone_is_cleared_while_the_pick_waits_is_not_reserved(app, db):
    """An administrator clears Maria's phone while the reservation waits for her row: she cannot be
    rung, so she is not reserved (a reservation with no phone to dial was taken for a lost race, and
    Anna was reserved too: found in review); Anna is."""
    maria = add_consultant(app, db, "Maria", idle_minutes=9)
    anna = add_consultant(app, db, "Anna", idle_minutes=1)
    sid = "CA" + "4" * 32
    sessions = services_of(app).db.sessions
    with sessions() as admin, ThreadPoolExecutor(max_workers=1) as pool:
        admin.get(Staff, maria.id).phone = None
        admin.flush()

        def reserve() -> int | None:
            with sessions() as session:
                held, _ = routing.reserve_for_call(session, sid, "en", "health", "sofia")
                return None if held is None else held.id

        waiting = pool.submit(reserve)
        _until_a_lock_is_waited_for(db, waiting.done)
        admin.commit()
        assert waiting.result(timeout=30) == anna.id
    db.expire_all()
    assert db.get(Staff, maria.id).status == "available"
    assert routing.holders(db, sid) == [anna.id]


def test_twins_serialized_on_the_call_reserve_one_consultant_though_another_was_freed_meanwhile(
        app, db, backend):
    """Two copies of one routing step, each holding the call's row lock as ivr.flow.connect's
    callers do (hotline.calls.find_call(lock=True)): the first reserved Anna and has not committed
    when Zoe comes back from her break, and then the second starts. It waits for the lock, then
    finds Anna ringing for the call; without the lock its snapshot showed Zoe free and Anna not yet
    taken, and it reserved Zoe as well (found in review). PostgreSQL only: on SQLite nobody can be
    freed while the first copy's reservation is uncommitted (one writer at a time)."""
    if backend == "embedded":
        pytest.skip("SQLite has one writer at a time: nobody is freed while a reservation is uncommitted")
    # Zoe, of the caller's office, comes before Anna of the other one once she is free.
    anna = add_consultant(app, db, "Anna", office="burgas")
    zoe = add_consultant(app, db, "Zoe", office="sofia", status="break")
    sid = "CA" + "3" * 32
    db.add(Call(call_sid=sid, office_code="sofia", language_code="en", topic_code="health"))
    db.commit()
    sessions = services_of(app).db.sessions
    with sessions() as first, ThreadPoolExecutor(max_workers=1) as pool:
        calls.find_call(first, sid, lock=True)
        held, _ = routing.reserve_for_call(first, sid, "en", "health", "sofia", commit=False)
        assert held.id == anna.id
        assert routing.set_status(db, db.get(Staff, zoe.id), "available")

        def second() -> tuple[int, bool]:
            with sessions() as session:
                calls.find_call(session, sid, lock=True)
                held, reserved = routing.reserve_for_call(session, sid, "en", "health", "sofia")
                return held.id, reserved

        waiting = pool.submit(second)
        _until_a_lock_is_waited_for(db, waiting.done)
        first.commit()
        assert waiting.result(timeout=30) == (anna.id, False)
    db.expire_all()
    assert (db.get(Staff, zoe.id).status, db.get(Staff, zoe.id).current_call_sid) == ("available", None)
