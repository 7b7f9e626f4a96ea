"""Placing a callback, consultant first: a due callback waits in the queue like a caller and keeps
the caller's place; the consultant rung hears who and what, accepts, the caller is dialled from the
office's number and greeted in their language. Each attempt's outcome is recorded; failures are
retried on the schedule; the consultation record of the returned call links the original call."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from callbacks import reconciliation, schedule
from hotline.models import Call, ConsultationRecord, utcnow
from tests.conftest import services_of
from tests.support.helpers import add_consultant, add_staff_with_token
from tests.support.journeys import prompt, route, status_of, texts
from tests.support.placing import CALLER, attempts_of, booked, placed, reread, set_clock, texts_sent
from tests.support.queueing import run_jobs


def _wake(app, callback) -> None:
    """The callback's wake-up job runs (at the clock of the callbacks' modules)."""
    with app.app_context(), services_of(app).db.session() as session:
        schedule.wake(session, callback.id, schedule.utcnow())
    run_jobs(app)


def test_a_due_callback_rings_a_consultant_then_the_caller_and_completes(app, db, twilio, twilio_api):
    maria = add_consultant(app, db, "Maria", languages=["ru"], topics=["health"])
    callback = booked(db)
    _wake(app, callback)

    [consultant] = placed(twilio, twilio_api)
    assert consultant.to == maria.phone and consultant.request.data["From"] == "+35924916000"
    whisper = consultant.answer()
    assert texts(whisper)[0].startswith(prompt(app, "ru", "callback_whisper", language="русский",
                                               topic="здоровье", when="")[:30])
    joined = consultant.press("1")
    assert texts(joined) == [prompt(app, "ru", "callback_calling")]  # the language she lists
    room = joined.find("Dial/Conference").text

    [_, caller] = placed(twilio, twilio_api)
    assert caller.to == CALLER and caller.request.data["From"] == "+35924916000"
    assert caller.request.data["MachineDetection"] == "Enable"
    assert reread(db, callback).state == "in_progress"
    greeted = caller.answer(AnsweredBy="human")
    assert texts(greeted) == [prompt(app, "ru", "callback_greeting")]
    assert greeted.find("Dial/Conference").text == room

    caller.ends("completed", duration=240)
    consultant.ends("completed", duration=250)
    done = reread(db, callback)
    assert (done.state, done.attempts) == ("completed", 1)
    assert attempts_of(db, callback) == [(1, maria.id, "completed")]
    returned = db.get(Call, done.return_call_id)
    assert returned.original_call_id == callback.call_id and returned.direction == "outbound-api"
    record = db.scalar(select(ConsultationRecord).where(ConsultationRecord.call_id == returned.id))
    assert (record.outcome, record.consultant_id, record.language_code) == ("answered", maria.id, "ru")
    assert status_of(db, maria)[0] == "wrap_up"
    # Staff find the returned call's record linked to the original call.
    _, token = add_staff_with_token(app, db, "Supervisor")
    listed = app.test_client().get(f"/api/consultations?call_sid={returned.call_sid}",
                                   headers={"Authorization": f"Bearer {token}"}).get_json()
    assert [r["original_call_id"] for r in listed["consultations"]] == [callback.call_id]


def test_a_callback_keeps_the_callers_place_against_later_live_callers(app, db, client, twilio, twilio_api):
    maria = add_consultant(app, db, "Maria", languages=["ru"], topics=["health"], status="busy")
    _, token = add_staff_with_token(app, db, "Supervisor")
    live = route(twilio, "ru", "health")  # rang just now, waits in the queue
    callback = booked(db, rang_minutes_ago=40)  # rang 40 minutes ago, due now
    _wake(app, callback)
    assert placed(twilio, twilio_api) == []  # nobody free yet

    client.put(f"/api/consultants/{maria.id}/status", json={"status": "available"},
               headers={"Authorization": f"Bearer {token}"})
    run_jobs(app)
    [leg] = placed(twilio, twilio_api)
    assert "/callbacks/whisper" in leg.request.data["Url"]  # the callback, not the live caller
    assert status_of(db, maria)[1].startswith(f"callback-{callback.id}-1-")
    assert live.call_sid not in status_of(db, maria)


def test_a_busy_caller_is_retried_after_the_configured_delay_and_the_consultant_freed(
        app, db, twilio, twilio_api, monkeypatch):
    maria = add_consultant(app, db, "Maria", languages=["ru"], topics=["health"])
    callback = booked(db)
    _wake(app, callback)
    [consultant] = placed(twilio, twilio_api)
    consultant.answer()
    consultant.press("1")
    caller = placed(twilio, twilio_api)[1]
    before = utcnow()
    caller.ends("busy")

    again = reread(db, callback)
    assert (again.state, again.attempts) == ("scheduled", 1)
    assert timedelta(minutes=15) <= again.due_at - before < timedelta(minutes=16)
    assert attempts_of(db, callback) == [(1, maria.id, "caller_busy")]
    # The consultant waiting in the conference is told, and is free again at once (no wrap-up).
    [update] = twilio_api.updates_of(consultant.request.sid)
    assert "/callbacks/not-reached" in update["Url"]
    assert status_of(db, maria)[0] in ("wrap_up", "available")
    assert reread(db, callback).due_at > utcnow()
    jobs = services_of(app).queue().scheduled_job_registry.get_job_ids()
    assert any(job.startswith(f"callback_{callback.id}_2_") for job in jobs)


def test_after_the_last_attempt_the_callback_is_unreachable_and_the_caller_texted(app, db, twilio, twilio_api,
                                                                                    monkeypatch):
    add_consultant(app, db, "Maria", languages=["ru"], topics=["health"])
    callback = booked(db)
    outcomes = ["no-answer", "busy", "failed"]
    for attempt, status in enumerate(outcomes, start=1):
        set_clock(monkeypatch, utcnow() + timedelta(hours=2 * attempt))  # past each retry delay
        _wake(app, callback)
        consultant = placed(twilio, twilio_api)[-1]
        consultant.answer()
        consultant.press("1")
        placed(twilio, twilio_api, to=CALLER)[-1].ends(status)
        consultant.ends("completed")
        db.expire_all()
        db.get(type(callback), callback.id)
        from hotline.models import Staff

        for staff in db.scalars(select(Staff)):
            if staff.status == "wrap_up":
                staff.status = "available"
        db.commit()
    done = reread(db, callback)
    assert (done.state, done.attempts) == ("unreachable", 3)
    outcomes = [outcome for _, _, outcome in attempts_of(db, callback)]
    assert outcomes == ["caller_no_answer", "caller_busy", "failed"]
    run_jobs(app)
    [sms] = texts_sent(twilio_api)
    assert sms["To"] == CALLER and sms["Body"] == prompt(app, "ru", "sms_callback_unreachable")


def test_an_answering_machine_is_hung_up_on_and_the_callback_retried(app, db, twilio, twilio_api):
    add_consultant(app, db, "Maria", languages=["ru"], topics=["health"])
    callback = booked(db)
    _wake(app, callback)
    consultant = placed(twilio, twilio_api)[0]
    consultant.answer()
    consultant.press("1")
    caller = placed(twilio, twilio_api)[1]
    heard = caller.answer(AnsweredBy="machine_start")
    assert [child.tag for child in heard] == ["Hangup"]
    caller.ends("completed", duration=3)
    assert attempts_of(db, callback)[0][2] == "machine"
    assert reread(db, callback).state == "scheduled"


def test_a_consultant_who_does_not_answer_passes_the_callback_on_without_using_an_attempt(
        app, db, twilio, twilio_api):
    first = add_consultant(app, db, "First", languages=["ru"], topics=["health"], idle_minutes=30)
    second = add_consultant(app, db, "Second", languages=["ru"], topics=["health"], idle_minutes=5)
    callback = booked(db)
    _wake(app, callback)
    [ringing] = placed(twilio, twilio_api)
    assert ringing.to == first.phone
    ringing.ends("no-answer")
    run_jobs(app)
    assert [leg.to for leg in placed(twilio, twilio_api)] == [first.phone, second.phone]
    assert status_of(db, first)[0] == "break"
    assert attempts_of(db, callback) == [(1, first.id, "consultant_no_answer"), (2, second.id, None)]
    assert (reread(db, callback).state, reread(db, callback).attempts) == ("due", 0)


def test_waking_twice_and_a_retried_accept_dial_the_caller_once(app, db, twilio, twilio_api):
    add_consultant(app, db, "Maria", languages=["ru"], topics=["health"])
    callback = booked(db)
    _wake(app, callback)
    _wake(app, callback)
    with app.app_context(), services_of(app).db.session() as session:
        reconciliation.reconcile(session, utcnow())
    run_jobs(app)
    [consultant] = placed(twilio, twilio_api)
    consultant.answer()
    first = consultant.press("1")
    consultant.last = consultant.answer()
    again = consultant.press("1")  # Twilio retried the whisper's answer
    assert again.find("Dial/Conference").text == first.find("Dial/Conference").text
    assert len(placed(twilio, twilio_api, to=CALLER)) == 1


def test_redis_losing_its_data_loses_no_callback(app, db, twilio, twilio_api, monkeypatch):
    add_consultant(app, db, "Maria", languages=["ru"], topics=["health"])
    callback = booked(db, due_in_minutes=10)
    with app.app_context():
        schedule.schedule_wake(reread(db, callback))
    hotline = services_of(app)
    hotline.redis.flushdb()  # the scheduled wake-up job is gone
    set_clock(monkeypatch, utcnow() + timedelta(minutes=11))
    with app.app_context(), hotline.db.session() as session:
        assert reconciliation.reconcile(session, utcnow() + timedelta(minutes=11)) == 1
    run_jobs(app)
    assert len(placed(twilio, twilio_api)) == 1
    assert reread(db, callback).state == "due"


def test_a_worker_dying_after_queueing_the_callback_loses_nothing(app, db, twilio, twilio_api, monkeypatch):
    maria = add_consultant(app, db, "Maria", languages=["ru"], topics=["health"])
    callback = booked(db)

    def dies(*_args):
        raise SystemExit("worker killed")

    monkeypatch.setattr("routing.find_consultant", dies)  # killed after queueing, before pairing
    with app.app_context(), services_of(app).db.session() as session:
        try:
            schedule.wake(session, callback.id, utcnow())
        except SystemExit:
            pass
    monkeypatch.undo()
    assert placed(twilio, twilio_api) == []
    from routing import offers

    with app.app_context(), services_of(app).db.session() as session:
        assert offers.sweep(session, utcnow()) == 1  # the periodic sweep
    [leg] = placed(twilio, twilio_api)
    assert leg.to == maria.phone


def test_no_sms_to_a_fixed_line(app, db, twilio, twilio_api):
    from callbacks import sms

    landline = booked(db, number="+35929876543")
    with app.app_context(), services_of(app).db.session() as session:
        assert sms.send(session, landline.id, "unreachable") is False
    assert texts_sent(twilio_api) == []


def test_a_consultant_hanging_up_while_the_caller_rings_stops_the_ringing(app, db, twilio, twilio_api):
    add_consultant(app, db, "Maria", languages=["ru"], topics=["health"])
    callback = booked(db)
    _wake(app, callback)
    consultant = placed(twilio, twilio_api)[0]
    consultant.answer()
    consultant.press("1")
    caller = placed(twilio, twilio_api)[1]
    consultant.ends("completed", duration=12)  # gave up before the caller answered
    assert twilio_api.updates_of(caller.request.sid) == [{"Status": "canceled"}]
    caller.ends("canceled")
    assert attempts_of(db, callback)[0][2] == "failed"
    assert reread(db, callback).state == "scheduled"


def test_an_attempt_twilio_never_reports_on_is_failed_and_retried_but_a_long_conversation_is_not(
        app, db, twilio, twilio_api):
    add_consultant(app, db, "Maria", languages=["ru"], topics=["health"])
    add_consultant(app, db, "Ivan", languages=["ru"], topics=["health"])
    lost, talking = booked(db), booked(db, rang_minutes_ago=20)
    for callback in (lost, talking):
        _wake(app, callback)
    legs = placed(twilio, twilio_api)
    for leg in legs:
        leg.answer()
        leg.press("1")
    callers = placed(twilio, twilio_api, to=CALLER)
    talking_leg = next(leg for leg in callers
                       if f"attempt={attempts_of_id(db, talking)}" in leg.request.data["Url"])
    talking_leg.answer(AnsweredBy="human")
    with app.app_context(), services_of(app).db.session() as session:
        assert reconciliation.fail_stuck_attempts(session, utcnow() + timedelta(minutes=20)) == 1
    assert (reread(db, lost).state, attempts_of(db, lost)[0][2]) == ("scheduled", "failed")
    assert (reread(db, talking).state, attempts_of(db, talking)[0][2]) == ("in_progress", None)


def attempts_of_id(db, callback) -> int:
    from hotline.models import CallbackAttempt

    return db.scalar(select(CallbackAttempt.id).where(CallbackAttempt.callback_id == callback.id))


def test_cancelling_a_callback_while_its_consultant_is_rung_stops_the_ringing(app, db, twilio, twilio_api):
    maria = add_consultant(app, db, "Maria", languages=["ru"], topics=["health"])
    callback = booked(db)
    _wake(app, callback)
    [consultant] = placed(twilio, twilio_api)
    with app.app_context(), services_of(app).db.session() as session:
        assert schedule.cancel(session, callback.id, utcnow()) is True
    assert twilio_api.updates_of(consultant.request.sid) == [{"Status": "canceled"}]
    assert status_of(db, maria) == ("available", None)
    consultant.answer()
    refused = consultant.press("1")  # picked up just before the ringing stopped
    assert refused.find("Dial") is None
    assert placed(twilio, twilio_api, to=CALLER) == []
    assert reread(db, callback).state == "canceled"


def test_reassigning_a_due_callback_at_once_queues_it_again_for_that_consultant(app, db, twilio, twilio_api):
    add_consultant(app, db, "Busy", languages=["ru"], topics=["health"], status="busy")
    ivan = add_consultant(app, db, "Ivan", languages=["ru"], topics=["social"])
    callback = booked(db)
    _wake(app, callback)
    assert placed(twilio, twilio_api) == []
    with app.app_context(), services_of(app).db.session() as session:
        assert schedule.reassign(session, callback.id, ivan.id, utcnow()) is True
    run_jobs(app)
    [leg] = placed(twilio, twilio_api)
    assert leg.to == ivan.phone


def test_booking_texts_the_caller_once_in_their_language(app, db, twilio, twilio_api):
    from callbacks import sms, windows

    callback = booked(db, state="draft")
    with app.app_context(), services_of(app).db.session() as session:
        row = session.get(type(callback), callback.id)
        schedule.confirm(session, row, row.window_start, row.window_end)
        schedule.confirm(session, row, row.window_start, row.window_end)  # a retried webhook
    run_jobs(app)
    with app.app_context(), services_of(app).db.session() as session:
        assert sms.send(session, callback.id, "booked") is False  # the job run again: not twice
        phrase = windows.window_phrase("ru", session.get(type(callback), callback.id))
    [text] = texts_sent(twilio_api)
    assert text["To"] == CALLER and text["Body"] == prompt(app, "ru", "sms_callback_booked", window=phrase)


def test_each_reconciliation_run_wakes_callbacks_not_yet_queued(app, db, twilio, twilio_api, monkeypatch):
    """After Redis lost every wake-up job: a run takes a batch of callbacks still to wake, never the
    ones the previous run queued (nobody is free, so they stay queued)."""
    monkeypatch.setattr(reconciliation, "RECONCILE_BATCH", 2)
    due = [booked(db, rang_minutes_ago=30 - n) for n in range(3)]
    with app.app_context(), services_of(app).db.session() as session:
        assert reconciliation.reconcile(session, utcnow()) == 2
        assert reconciliation.reconcile(session, utcnow()) == 1
        assert reconciliation.reconcile(session, utcnow()) == 0
    assert {reread(db, callback).state for callback in due} == {"due"}


def test_twilio_out_of_reach_loses_nothing(app, db, twilio, twilio_api, monkeypatch):
    """No answer at all from Twilio's API (DNS, network): the consultant is not left reserved, the
    callback stays in the queue with its place, and nothing raises out of the job."""
    import requests

    maria = add_consultant(app, db, "Maria", languages=["ru"], topics=["health"])
    callback = booked(db)

    def unreachable(*_args, **_kwargs):
        raise requests.exceptions.ConnectionError("Name or service not known")

    monkeypatch.setattr(twilio_api, "request", unreachable)
    _wake(app, callback)
    # Twilio's failure is not hers: available (not on break), and not rung again for the callback
    # at once (the sweep tries again).
    assert status_of(db, maria) == ("available", None)
    assert attempts_of(db, callback) == [(1, maria.id, "failed")]
    from hotline.models import QueueEntry
    from tests.support.queueing import entry_of as _  # noqa: F401

    db.expire_all()
    [entry] = db.scalars(select(QueueEntry).where(QueueEntry.callback_id == callback.id))
    assert entry.state == "waiting" and reread(db, callback).state == "due"


def test_a_cancel_landing_between_the_accept_and_the_dial_is_kept_and_nobody_dialled(
        app, db, twilio, twilio_api, monkeypatch):
    import routing

    maria = add_consultant(app, db, "Maria", languages=["ru"], topics=["health"])
    callback = booked(db)
    _wake(app, callback)
    consultant = placed(twilio, twilio_api)[0]
    consultant.answer()
    real_mark_bridged = routing.mark_bridged

    def cancelled_meanwhile(session, *args, **kwargs):
        bridged = real_mark_bridged(session, *args, **kwargs)
        with services_of(app).db.session() as other:  # a supervisor's PATCH, at this very moment
            assert schedule.cancel(other, callback.id, utcnow())
        return bridged

    monkeypatch.setattr(routing, "mark_bridged", cancelled_meanwhile)
    answer = consultant.press("1")
    assert answer.find("Dial") is None
    assert placed(twilio, twilio_api, to=CALLER) == []
    assert (reread(db, callback).state, reread(db, callback).attempts) == ("canceled", 0)
    assert status_of(db, maria)[1] is None  # free again


def test_a_consultant_who_accepted_but_whose_caller_was_never_dialled_is_freed(app, db, twilio, twilio_api,
                                                                                 monkeypatch):
    """The process died between accepting and dialling: the reconciliation frees the consultant
    and retries the callback."""
    maria = add_consultant(app, db, "Maria", languages=["ru"], topics=["health"])
    callback = booked(db)
    _wake(app, callback)
    consultant = placed(twilio, twilio_api)[0]
    consultant.answer()

    def dies(*_args, **_kwargs):
        raise SystemExit("killed before dialling")

    monkeypatch.setattr(twilio_api, "request", dies)
    try:
        consultant.press("1")
    except SystemExit:
        pass
    monkeypatch.undo()
    assert reread(db, callback).state == "in_progress" and status_of(db, maria)[0] == "busy"
    with app.app_context(), services_of(app).db.session() as session:
        assert reconciliation.fail_stuck_attempts(session, utcnow() + timedelta(minutes=16)) == 1
    assert reread(db, callback).state == "scheduled"
    assert status_of(db, maria)[1] is None


def test_an_sms_twilio_did_not_take_is_tried_again(app, db, twilio, twilio_api, monkeypatch):
    import pytest as _pytest
    import requests

    from callbacks import sms

    callback = booked(db)
    monkeypatch.setattr(twilio_api, "request",
                        lambda *a, **k: (_ for _ in ()).throw(requests.exceptions.Timeout("timed out")))
    with app.app_context(), services_of(app).db.session() as session:
        with _pytest.raises(sms.SmsNotSent):
            sms.send(session, callback.id, "unreachable")
    assert reread(db, callback).sms_unreachable is False  # free to be sent by the retry
    monkeypatch.undo()
    with app.app_context(), services_of(app).db.session() as session:
        assert sms.send(session, callback.id, "unreachable") is True
    assert len(texts_sent(twilio_api)) == 1


def test_a_callback_assigned_to_someone_who_has_left_goes_to_anyone_suitable(app, db, twilio, twilio_api):
    leaver = add_consultant(app, db, "Leaver", languages=["ru"], topics=["health"], status="offline")
    ivan = add_consultant(app, db, "Ivan", languages=["ru"], topics=["health"])
    callback = booked(db)
    callback.assigned_staff_id = leaver.id
    db.commit()
    leaver.active = False
    db.commit()
    _wake(app, callback)
    [leg] = placed(twilio, twilio_api)
    assert leg.to == ivan.phone
