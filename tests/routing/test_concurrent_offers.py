"""Many calls racing for few consultants, each in its own thread and database session (as on
several web processes): the reservation is one conditional UPDATE, so every consultant goes to
exactly one call and every other call is told nobody is free."""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

import routing
from hotline.models import Staff
from tests.conftest import services_of
from tests.helpers import add_consultant

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
            staff = routing.offer_call(session, call_sid, "en", "health", "sofia")
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
    assert routing.offer_call(db, loser, "en", "health", "sofia") is not None


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


def test_a_pick_taken_by_a_concurrent_transaction_is_made_again(app, db):
    """The longest idle consultant is reserved by another call's transaction that has not committed
    yet: this call's reservation waits for it, then (on PostgreSQL, where the pick was made before
    the wait) finds them taken and picks again, the next one, in place of queueing a caller while
    someone is free."""
    maria = add_consultant(app, db, "Maria", idle_minutes=9)
    anna = add_consultant(app, db, "Anna", idle_minutes=1)
    sessions = services_of(app).db.sessions
    with sessions() as first, ThreadPoolExecutor(max_workers=1) as pool:
        held, _ = routing.reserve_for_call(first, "CA" + "1" * 32, "en", "health", "sofia", commit=False)
        assert held.id == maria.id

        def second() -> int | None:
            with sessions() as session:
                held, _ = routing.reserve_for_call(session, "CA" + "2" * 32, "en", "health", "sofia")
                return None if held is None else held.id

        waiting = pool.submit(second)
        time.sleep(0.5)  # the second reservation is waiting for the first transaction's lock
        first.commit()
        assert waiting.result(timeout=30) == anna.id
