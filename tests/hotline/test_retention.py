"""Personal data is erased after retention_days, by a periodic RQ job armed once per slot."""
from __future__ import annotations

from datetime import timedelta

from hotline.jobs import periodic
from hotline.models import Call, ConsultationRecord, utcnow
from hotline.retention import purge_personal_data
from tests.conftest import services_of
from tests.support.queueing import run_jobs


def _call_with_record(db, sid: str, age_days: int) -> Call:
    started = utcnow() - timedelta(days=age_days)
    call = Call(call_sid=sid, caller_number="+359888123456", office_code="sofia", started_at=started)
    db.add(call)
    db.flush()
    db.add(ConsultationRecord(call_id=call.id, office_code="sofia", outcome="answered",
                              notes="lives in Lyulin", started_at=started))
    db.commit()
    return call


def test_purge_erases_only_what_outlived_retention(app, db, app_context):
    old = _call_with_record(db, "CAold", age_days=400)
    recent = _call_with_record(db, "CArecent", age_days=10)
    purged = purge_personal_data(db, retention_days=365)
    assert (purged.caller_numbers, purged.notes) == (1, 1)
    db.expire_all()
    assert db.get(Call, old.id).caller_number is None
    assert db.get(Call, recent.id).caller_number == "+359888123456"
    records = {r.call_id: r.notes for r in db.query(ConsultationRecord)}
    assert records == {old.id: None, recent.id: "lives in Lyulin"}
    assert purge_personal_data(db, retention_days=365) == type(purged)(0, 0)


def test_arming_twice_schedules_one_job_per_slot(app):
    queue = services_of(app).queue()
    # 7 s into every interval's slot, so that a second later is the same slot for each of them.
    now = utcnow().replace(minute=0, second=7, microsecond=0) + timedelta(hours=1)
    first = periodic.arm(queue, now)
    second = periodic.arm(queue, now + timedelta(seconds=1))
    assert first == second
    assert sorted(queue.scheduled_job_registry.get_job_ids()) == sorted(first)


def test_periodic_job_runs_in_a_worker_and_arms_the_next_slot(app, db):
    old = _call_with_record(db, "CAold", age_days=400)
    hotline = services_of(app)
    queue = hotline.queue()
    queue.enqueue(periodic.run_periodic, "purge-personal-data")
    run_jobs(app)
    db.expire_all()
    assert db.get(Call, old.id).caller_number is None
    assert len(queue.scheduled_job_registry.get_job_ids()) == len(periodic.PERIODIC)  # each armed once


def test_callback_numbers_are_erased_once_closed_and_old_but_kept_while_open(app, db, app_context):
    from hotline.models import Callback

    def callback(sid: str, state: str, age_days: int) -> Callback:
        call = _call_with_record(db, sid, age_days)
        created = utcnow() - timedelta(days=age_days)
        row = Callback(call_id=call.id, number="+359888123456", language_code="en", topic_code="health",
                       office_code="sofia", first_rang_at=created, window_start=created, window_end=created,
                       due_at=created, state=state, created_at=created)
        db.add(row)
        db.commit()
        return row

    closed_old = callback("CAcb1", "completed", 400)
    open_old = callback("CAcb2", "scheduled", 400)
    closed_recent = callback("CAcb3", "unreachable", 10)
    assert purge_personal_data(db, retention_days=365).callback_numbers == 1
    db.expire_all()
    assert [db.get(Callback, row.id).number for row in (closed_old, open_old, closed_recent)] == [
        None, "+359888123456", "+359888123456"]
