"""Redis is a helper, the database is the truth, for a callback booked on the phone: a dead Redis
at any step of the booking changes nothing the caller hears nor the callback booked, and once Redis
is back the reconciliation does what the lost jobs would have done: the callback is woken and its
consultant rung, and the booking SMS is sent (once)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from callbacks import jobs as callback_jobs
from hotline.models import Callback, Staff
from routing import jobs as routing_jobs
from tests.callbacks.test_booking import (  # noqa: F401 (fixtures)
    CALLER,
    MONDAY_10,
    _staffed_and_busy,
    app_config,
    extra_config,
)
from tests.conftest import services_of
from tests.support.helpers import add_consultant
from tests.support.journeys import hang_up, journal, prompt, route, stored_call, texts, verbs
from tests.support.outage import redis_down
from tests.support.placing import CALLER as CALLER_MOBILE
from tests.support.placing import placed, set_clock, texts_sent
from tests.support.queueing import enqueued, leaves_queue, run_jobs, wait_turn

STEPS = ("offer", "number", "window")


@pytest.fixture
def clock(monkeypatch):
    """The clock at MONDAY_10 (the windows the booking offers)."""
    set_clock(monkeypatch, MONDAY_10)


def settle(app, monkeypatch) -> None:
    """Two minutes after the booking, with Redis up: the worker runs what was queued, then the
    periodic reconciliation of callbacks and the queue's sweep run."""
    moment = MONDAY_10 + timedelta(minutes=2)
    with monkeypatch.context() as patched:
        set_clock(patched, moment)
        run_jobs(app)
        with app.app_context():
            callback_jobs.reconcile_job()
            routing_jobs.sweep_job()
        run_jobs(app)


def booking(app, db, twilio, twilio_api, monkeypatch, maria: Staff, down_at: str | None) -> dict:
    """A queued caller books a callback "as soon as possible" with Redis dead during step
    `down_at` (None: never); then Maria becomes free. What the caller heard, and what followed."""
    call = route(twilio, "en", "health")
    queue = enqueued(call)
    wait_turn(call, queue)
    call.press("1")  # the callback key: <Leave>, then the Enqueue action starts the booking
    heard = {}
    for name, action in (("offer", lambda: leaves_queue(call, queue, "leave")),
                         ("number", lambda: call.press("1")),  # their own number
                         ("window", lambda: call.press("1"))):  # as soon as possible
        with redis_down(app, name == down_at):
            answer = action()
        heard[name] = (texts(answer), verbs(answer))
    hang_up(call)
    db.expire_all()
    callback = db.scalar(select(Callback).where(Callback.call_id == stored_call(db, call).id))
    # Its row was made on the real clock; the test's clock is MONDAY_10.
    callback.created_at = MONDAY_10
    fresh = db.get(Staff, maria.id)
    fresh.status, fresh.current_call_sid, fresh.wrap_up_until = "available", None, None
    db.commit()
    sent_before, rung_before = len(texts_sent(twilio_api)), len(placed(twilio, twilio_api, to=maria.phone))
    settle(app, monkeypatch)
    db.expire_all()
    callback = db.get(Callback, callback.id)
    return {
        "heard": heard,
        "callback": (callback.state, callback.number, callback.window_start, callback.due_at,
                     callback.sms_booked),
        "journal": [(kind, detail) for kind, detail, _ in journal(db, call)],
        "sms": [(sms["To"], sms["Body"]) for sms in texts_sent(twilio_api)[sent_before:]],
        "maria_rung": len(placed(twilio, twilio_api, to=maria.phone)) - rung_before,
    }


@pytest.mark.parametrize("down_at", STEPS)
def test_a_dead_redis_at_any_step_of_a_booking_changes_nothing_and_the_reconciliation_catches_up(
        app, db, twilio, twilio_api, clock, monkeypatch, down_at):
    maria = add_consultant(app, db, "Maria", languages=["en"], topics=["health"], status="busy")
    with_redis = booking(app, db, twilio, twilio_api, monkeypatch, maria, None)
    assert with_redis["callback"][0] == "due" and with_redis["callback"][-1] is True
    assert [to for to, _ in with_redis["sms"]] == [CALLER] and with_redis["maria_rung"] == 1

    busy = db.get(Staff, maria.id)
    busy.status, busy.current_call_sid = "busy", None  # on the first callback, or another call
    db.commit()
    without = booking(app, db, twilio, twilio_api, monkeypatch, maria, down_at)
    for part in ("heard", "callback", "journal", "sms", "maria_rung"):
        assert without[part] == with_redis[part], part


def test_the_reconciliation_sends_the_sms_a_lost_job_did_not_once_and_only_those(app, db, twilio_api):
    from callbacks import reconciliation
    from hotline.models import utcnow
    from tests.support.placing import booked

    now = utcnow()
    lost = booked(db, due_in_minutes=60)  # booked; its SMS job lost
    late = booked(db, due_in_minutes=60)  # booked just now: its job may still be on its way
    landline = booked(db, number="+35929876543", due_in_minutes=60)
    unreachable = booked(db, state="unreachable")
    long_ago = booked(db, state="unreachable")
    for callback, created, closed in ((lost, now - timedelta(minutes=5), None), (late, now, None),
                                      (landline, now - timedelta(minutes=5), None),
                                      (unreachable, now - timedelta(hours=1), now - timedelta(minutes=2)),
                                      (long_ago, now - timedelta(days=3), now - timedelta(days=2))):
        callback.created_at, callback.closed_at = created, closed
    db.commit()
    with app.app_context(), services_of(app).db.session() as session:
        reconciliation.reconcile(session, now)
        reconciliation.reconcile(session, now)  # the next run: nothing twice
    db.expire_all()
    assert [(sms["To"], sms["Body"][:12]) for sms in texts_sent(twilio_api)] == [
        (CALLER_MOBILE, prompt(app, "ru", "sms_callback_booked", window="x")[:12]),
        (CALLER_MOBILE, prompt(app, "ru", "sms_callback_unreachable")[:12])]
    assert [db.get(Callback, c.id).sms_booked for c in (lost, late, landline)] == [True, False, False]
    assert [db.get(Callback, c.id).sms_unreachable for c in (unreachable, long_ago)] == [True, False]
