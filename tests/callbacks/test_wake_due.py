"""Many callbacks due at one moment (the offices opening): one job wakes them all in one batch, then
each free consultant takes the best of them and their phones are rung together; the callback's
own wake-up job stays armed a little later, and changes nothing after the batch."""
from __future__ import annotations

import threading
import time
from datetime import timedelta

from rq.job import Job
from sqlalchemy import select

from callbacks import jobs, reconciliation, schedule
from hotline.models import CallbackAttempt, QueueEntry, utcnow
from tests.conftest import services_of
from tests.routing.test_wait_poll_cost import counting
from tests.support.clock import set_clock
from tests.support.helpers import add_consultant
from tests.support.placing import booked, placed, reread
from tests.support.queueing import run_jobs


def _wake_due(app) -> int:
    with app.app_context(), services_of(app).db.session() as session:
        return schedule.wake_due(session, utcnow())


def _entries(db) -> list[tuple[int, int, str]]:
    db.expire_all()
    return [tuple(row) for row in db.execute(
        select(QueueEntry.id, QueueEntry.callback_id, QueueEntry.state).order_by(QueueEntry.id))]


def _rung_for(db) -> dict[int, int]:
    """Callback id -> the consultant rung for it (its attempts)."""
    db.expire_all()
    return dict(db.execute(select(CallbackAttempt.callback_id, CallbackAttempt.staff_id)).all())


def test_callbacks_due_at_one_moment_are_woken_in_one_transaction_whatever_their_number(app, db):
    few = [booked(db, language=language, rang_minutes_ago=40 - n)
           for n, language in enumerate(["ru", "en", "bg"])]
    with counting(app) as first:
        assert _wake_due(app) == 3
    many = [booked(db, language=["ru", "en", "bg"][n % 3], rang_minutes_ago=30 - n) for n in range(12)]
    with counting(app) as second:
        assert _wake_due(app) == 12
    # The same statements for 12 callbacks as for 3: one read, one INSERT, one UPDATE, one commit.
    assert len(second.statements) == len(first.statements), (first.statements, second.statements)
    assert first.commits == second.commits == 1
    assert [s.split()[0] for s in second.statements].count("INSERT") == 1
    assert {reread(db, callback).state for callback in few + many} == {"due"}
    assert sorted(callback_id for _, callback_id, _ in _entries(db)) == sorted(c.id for c in few + many)
    assert {state for *_, state in _entries(db)} == {"waiting"}


def test_each_free_consultant_is_rung_for_the_best_callback_due(app, db, twilio, twilio_api):
    maria = add_consultant(app, db, "Maria", languages=["ru"], topics=["health"], idle_minutes=30)
    ivan = add_consultant(app, db, "Ivan", languages=["ru"], topics=["health"], idle_minutes=10)
    oldest, older, newest = (booked(db, rang_minutes_ago=minutes) for minutes in (50, 40, 30))
    nobodys = booked(db, language="en", rang_minutes_ago=60)  # nobody free speaks English
    assert _wake_due(app) == 4
    # The consultant idle longest first, each for the caller who rang first of those left.
    assert _rung_for(db) == {oldest.id: maria.id, older.id: ivan.id}
    assert sorted(leg.to for leg in placed(twilio, twilio_api)) == sorted([maria.phone, ivan.phone])
    states = {callback_id: state for _, callback_id, state in _entries(db)}
    assert states == {oldest.id: "offered", older.id: "offered", newest.id: "waiting", nobodys.id: "waiting"}


def test_a_retried_batch_and_the_callbacks_own_jobs_after_it_change_nothing(app, db, twilio, twilio_api):
    add_consultant(app, db, "Maria", languages=["ru"], topics=["health"])
    due = [booked(db, rang_minutes_ago=minutes) for minutes in (50, 40)]
    assert _wake_due(app) == 2
    entries, legs = _entries(db), len(placed(twilio, twilio_api))
    assert legs == 1
    assert _wake_due(app) == 0  # the batch job run again (a retry, or the next second's)
    with app.app_context():
        for callback in due:  # each callback's own wake-up job, WAKE_FALLBACK later
            jobs.wake_job(callback.id)
        with services_of(app).db.session() as session:
            assert reconciliation.reconcile(session, utcnow()) == 0
    run_jobs(app)
    assert _entries(db) == entries
    assert len(placed(twilio, twilio_api)) == legs
    assert {reread(db, callback).state for callback in due} == {"due"}


def test_a_callback_cancelled_before_its_moment_is_not_woken(app, db):
    kept, cancelled = booked(db), booked(db)
    with app.app_context(), services_of(app).db.session() as session:
        assert schedule.cancel(session, cancelled.id, utcnow())
    assert _wake_due(app) == 1
    assert [callback_id for _, callback_id, _ in _entries(db)] == [kept.id]
    assert reread(db, cancelled).state == "canceled"


def test_callbacks_booked_for_one_moment_arm_one_batch_job_and_each_its_own_later(app, db, monkeypatch):
    maria = add_consultant(app, db, "Maria", languages=["ru"], topics=["health"])
    opening = utcnow().replace(microsecond=250_000) + timedelta(minutes=10)
    due = [booked(db, now=opening, due_in_minutes=0, rang_minutes_ago=60 - n) for n in range(3)]
    with app.app_context():
        for callback in due:
            schedule.schedule_wake(reread(db, callback))
    hotline = services_of(app)
    registry = hotline.queue().scheduled_job_registry
    # RQ keeps whole seconds: the batch job is armed for the next one, never before the callbacks are due.
    moment = opening.replace(microsecond=0) + timedelta(seconds=1)
    armed = {job_id: registry.get_scheduled_time(Job.fetch(job_id, connection=hotline.redis))
             for job_id in registry.get_job_ids()}
    batch = f"callbacks_due_{int(moment.timestamp())}"
    assert armed == {batch: moment, **{
        f"callback_{callback.id}_1_{int(opening.timestamp())}": (opening + schedule.WAKE_FALLBACK).replace(
            microsecond=0) + timedelta(seconds=1) for callback in due}}  # each one's own: never early either
    set_clock(monkeypatch, moment)  # the batch job runs at its time
    with app.app_context():
        Job.fetch(batch, connection=hotline.redis).perform()
    assert {reread(db, callback).state for callback in due} == {"due"}
    assert _rung_for(db) == {due[0].id: maria.id}


def test_the_consultants_phones_are_rung_together_each_for_a_callback_of_their_own(
        app, db, twilio, twilio_api, monkeypatch):
    consultants = [add_consultant(app, db, f"Consultant {n}", languages=["ru"], topics=["health"],
                                  idle_minutes=30 - n) for n in range(10)]
    due = [booked(db, rang_minutes_ago=60 - n) for n in range(12)]
    in_flight, most = [0], [0]
    lock, answer = threading.Lock(), twilio_api.request

    def slow_twilio(method, uri, *args, **kwargs):  # Twilio's round trip, on calls.create only
        if method != "POST" or not uri.endswith("/Calls.json"):
            return answer(method, uri, *args, **kwargs)
        with lock:
            in_flight[0] += 1
            most[0] = max(most[0], in_flight[0])
        time.sleep(0.2)
        try:
            return answer(method, uri, *args, **kwargs)
        finally:
            with lock:
                in_flight[0] -= 1

    monkeypatch.setattr(twilio_api, "request", slow_twilio)
    assert _wake_due(app) == 12
    assert most[0] > 1  # the REST requests overlapped
    # Longest idle first, each for the caller who rang first of those left.
    assert _rung_for(db) == {callback.id: staff.id for callback, staff in zip(due, consultants, strict=False)}
    assert len(placed(twilio, twilio_api)) == 10


def test_a_lost_batch_job_is_made_up_for_by_the_callbacks_own_job(app, db, twilio, twilio_api, monkeypatch):
    maria = add_consultant(app, db, "Maria", languages=["ru"], topics=["health"])
    callback = booked(db, due_in_minutes=10)
    with app.app_context():
        schedule.schedule_wake(reread(db, callback))
    hotline = services_of(app)
    registry = hotline.queue().scheduled_job_registry
    [batch] = [job_id for job_id in registry.get_job_ids() if job_id.startswith("callbacks_due_")]
    registry.remove(batch, delete_job=True)  # lost: its wake-up at the due time never runs
    set_clock(monkeypatch, callback.due_at + schedule.WAKE_FALLBACK)
    with app.app_context():
        jobs.wake_job(callback.id)
    assert reread(db, callback).state == "due"
    assert _rung_for(db) == {callback.id: maria.id}
