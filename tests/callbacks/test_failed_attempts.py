"""Callback attempts that end badly free the consultant, once (issue 17, item 3). Whichever webhook
learns first that the caller was not reached (the answer URL with a machine, the caller leg's
status callback, the consultant leg's status callback), in whatever order and however often Twilio
sends them, the consultant waiting in the conference is told once and freed at once, and the
callback is retried on the schedule. A caller leg that never reports back is found by the sweep of
silent calls, which asks Twilio about it and ends the attempt as its status callback would have."""
from __future__ import annotations

import threading
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from sqlalchemy import select

from callbacks import reconciliation, schedule
from hotline.models import CallbackAttempt, CallEvent, ConsultationRecord, utcnow
from tests.conftest import services_of
from tests.support.helpers import add_consultant, add_staff_with_token
from tests.support.journeys import prompt, status_of, texts
from tests.support.placing import attempts_of, booked, placed, reread
from tests.support.queueing import run_jobs, sweep_at

NOT_REACHED = "/callbacks/not-reached"


def _accepted(app, db, twilio, twilio_api):
    """Maria accepted a callback; its caller is being dialled."""
    maria = add_consultant(app, db, "Maria", languages=["ru"], topics=["health"])
    callback = booked(db)
    with app.app_context(), services_of(app).db.session() as session:
        schedule.wake(session, callback.id, utcnow())
    run_jobs(app)
    [consultant] = placed(twilio, twilio_api)
    consultant.answer()
    consultant.press("1")
    [_, caller] = placed(twilio, twilio_api)
    assert status_of(db, maria)[0] == "busy"
    return maria, callback, consultant, caller


def _tellings(twilio_api, consultant) -> list[dict[str, str]]:
    """The REST updates that moved the consultant's leg to "not reached"."""
    return [data for data in twilio_api.updates_of(consultant.request.sid)
            if NOT_REACHED in data.get("Url", "")]


def _attempt_journal(db, callback) -> list[str | None]:
    """The outcomes journalled on the original call, one per attempt that ended."""
    db.expire_all()
    return list(db.scalars(select(CallEvent.detail).where(CallEvent.call_id == callback.call_id,
                                                         CallEvent.kind == "callback_attempt")
                           .order_by(CallEvent.id)))


def _assert_failed_once(app, db, twilio, twilio_api, maria, callback, consultant, outcome: str) -> None:
    [telling] = _tellings(twilio_api, consultant)
    told = twilio.twiml(telling["Url"], consultant.params())  # Twilio moves her leg there
    # Maria lists Russian only: she is told in Russian (hotline.voice.speaking.staff_language).
    assert texts(told) == [prompt(app, "ru", "callback_not_reached")] and told.find("Hangup") is not None
    assert status_of(db, maria) in (("wrap_up", None), ("available", None))
    assert attempts_of(db, callback) == [(1, maria.id, outcome)]
    assert _attempt_journal(db, callback) == [outcome]
    after = reread(db, callback)
    assert (after.state, after.attempts) == ("scheduled", 1) and after.due_at > utcnow()


MACHINE_FIRST = ["machine", "status"]
STATUS_FIRST = ["status", "machine"]


@pytest.mark.parametrize("order, outcome", [
    (MACHINE_FIRST, "machine"),
    (["machine", "machine", "status", "status"], "machine"),
    (["machine", "consultant", "status", "machine"], "machine"),
    (STATUS_FIRST, "caller_no_answer"),
    (["status", "status", "machine", "machine"], "caller_no_answer"),
], ids=["machine-then-status", "both-retried", "consultant-hangs-up-between", "status-then-machine",
        "status-retried-first"])
def test_an_answering_machine_tells_the_consultant_and_frees_them_once_whatever_the_order(
        app, db, twilio, twilio_api, order, outcome):
    maria, callback, consultant, caller = _accepted(app, db, twilio, twilio_api)
    for step in order:
        if step == "machine":
            heard = caller.answer(AnsweredBy="machine_end_beep")
            assert [child.tag for child in heard] == ["Hangup"]
        elif step == "status":  # Twilio hung up on the machine: the leg completed, unanswered by a person
            caller.ends("completed", duration=4)
        else:  # told, she hangs up
            consultant.ends("completed", duration=30)
        if step == order[0]:  # the first to learn it tells her and frees her at once
            assert len(_tellings(twilio_api, consultant)) == 1
            assert status_of(db, maria)[1] is None
    _assert_failed_once(app, db, twilio, twilio_api, maria, callback, consultant, outcome)
    db.expire_all()
    assert db.scalar(select(ConsultationRecord.id)) is None  # nobody was reached: no record


@pytest.mark.parametrize("status", ["busy", "no-answer", "failed"])
def test_a_caller_who_is_not_reached_is_told_to_the_consultant_once_however_often_twilio_retries(
        app, db, twilio, twilio_api, status):
    maria, callback, consultant, caller = _accepted(app, db, twilio, twilio_api)
    for _ in range(3):
        caller.ends(status)
    outcome = {"busy": "caller_busy", "no-answer": "caller_no_answer", "failed": "failed"}[status]
    _assert_failed_once(app, db, twilio, twilio_api, maria, callback, consultant, outcome)


def test_the_machine_and_the_status_callback_arriving_together_tell_the_consultant_once(
        app, db, twilio, twilio_api):
    maria, callback, consultant, caller = _accepted(app, db, twilio, twilio_api)
    answer_url, status_url = caller.request.data["Url"], caller.request.data["StatusCallback"]
    requests = [(answer_url, caller.params(AnsweredBy="machine_start")),
                (status_url, caller.params(CallStatus="completed", CallDuration="3"))] * 2
    start = threading.Barrier(len(requests))
    answers: list[tuple[int, str]] = []

    def send(url, params):
        start.wait()
        answers.append(twilio.request(url, params))

    threads = [threading.Thread(target=send, args=request) for request in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [code for code, _ in answers] == [200] * 4
    assert all(ET.fromstring(body).tag == "Response" for _, body in answers)
    assert len(_tellings(twilio_api, consultant)) == 1
    [(_, _, outcome)] = attempts_of(db, callback)
    assert outcome in ("machine", "caller_no_answer")
    assert _attempt_journal(db, callback) == [outcome]
    assert status_of(db, maria)[1] is None and reread(db, callback).state == "scheduled"


def test_a_consultant_hanging_up_while_the_caller_rings_is_freed_at_once(app, db, twilio, twilio_api):
    """Her leg's status callback is the first to learn the attempt failed: she is free and the
    callback retried even if the caller leg's status never comes; when it does, nothing more."""
    maria, callback, consultant, caller = _accepted(app, db, twilio, twilio_api)
    consultant.ends("completed", duration=12)
    assert twilio_api.updates_of(caller.request.sid) == [{"Status": "canceled"}]
    assert status_of(db, maria)[1] is None
    assert (reread(db, callback).state, attempts_of(db, callback)) == ("scheduled", [(1, maria.id, "failed")])
    caller.ends("canceled")
    caller.ends("canceled")
    assert _attempt_journal(db, callback) == ["failed"]
    assert _tellings(twilio_api, consultant) == []  # her leg had ended: nobody to tell
    assert reread(db, callback).state == "scheduled"


# -- the sweep of silent calls -----------------------------------------------------------------------

def _fetches(twilio_api, leg) -> int:
    return len([r for r in twilio_api.requests
                if r.method == "GET" and r.path.endswith(f"/Calls/{leg.request.sid}.json")])


def _cancel(app, db, client, callback):
    _, token = add_staff_with_token(app, db, "Supervisor")
    return client.patch(f"/api/callbacks/{callback.id}", json={"state": "canceled"},
                        headers={"Authorization": f"Bearer {token}"})


def test_a_caller_leg_that_never_reports_back_is_asked_about_and_its_attempt_retried(
        app, db, client, twilio, twilio_api, monkeypatch):
    """Twilio's status callback for the caller's leg is lost: the sweep of silent calls asks Twilio
    about the leg, ends the attempt as the status callback would have (the consultant told and
    freed once), and the callback can be retried, or cancelled by a supervisor."""
    maria, callback, consultant, caller = _accepted(app, db, twilio, twilio_api)
    twilio_api.ended(caller.request.sid, "no-answer")
    sweep_at(app, monkeypatch, 5)
    assert _fetches(twilio_api, caller) == 0  # not silent for long enough: not asked yet
    assert reread(db, callback).state == "in_progress"
    sweep_at(app, monkeypatch, 16)
    assert _fetches(twilio_api, caller) == 1
    _assert_failed_once(app, db, twilio, twilio_api, maria, callback, consultant, "caller_no_answer")
    caller.ends("no-answer")  # the lost status callback arrives after all: nothing more
    sweep_at(app, monkeypatch, 40)
    assert _fetches(twilio_api, caller) == 1  # the leg is closed: never asked about again
    _assert_failed_once(app, db, twilio, twilio_api, maria, callback, consultant, "caller_no_answer")
    assert _cancel(app, db, client, callback).status_code == 200
    assert reread(db, callback).state == "canceled"


def test_a_conversation_whose_end_was_never_reported_is_completed_from_twilios_answer(
        app, db, client, twilio, twilio_api, monkeypatch):
    maria, callback, consultant, caller = _accepted(app, db, twilio, twilio_api)
    caller.answer(AnsweredBy="human")
    sweep_at(app, monkeypatch, 16)  # Twilio says the leg is still live: still talking
    assert _fetches(twilio_api, caller) == 1
    assert (reread(db, callback).state, status_of(db, maria)[0]) == ("in_progress", "busy")
    twilio_api.ended(caller.request.sid, "completed", duration=1500)
    sweep_at(app, monkeypatch, 25)
    assert _fetches(twilio_api, caller) == 1  # asked again only after as long a silence again
    sweep_at(app, monkeypatch, 32)
    assert _fetches(twilio_api, caller) == 2
    done = reread(db, callback)
    assert (done.state, attempts_of(db, callback)) == ("completed", [(1, maria.id, "completed")])
    assert status_of(db, maria) == ("wrap_up", None)
    record = db.scalar(select(ConsultationRecord).where(ConsultationRecord.call_id == done.return_call_id))
    assert (record.outcome, record.consultant_id) == ("answered", maria.id)
    assert _tellings(twilio_api, consultant) == []  # they talked: nothing to tell her
    assert _cancel(app, db, client, callback).status_code == 409  # completed: closed


def test_the_reconciliation_frees_the_consultant_of_an_attempt_ended_before_this_fix(
        app, db, twilio, twilio_api):
    """What the answering-machine path left behind before: the attempt ended (machine), the
    callback still in progress, the consultant still busy in a silent conference."""
    maria, callback, consultant, caller = _accepted(app, db, twilio, twilio_api)
    db.execute(CallbackAttempt.__table__.update().where(CallbackAttempt.callback_id == callback.id)
               .values(outcome="machine", ended_at=utcnow()))
    db.commit()
    with app.app_context(), services_of(app).db.session() as session:
        reconciliation.reconcile(session, utcnow())
    assert reread(db, callback).state == "scheduled"
    assert status_of(db, maria)[1] is None


def test_a_consultant_whose_answer_never_came_does_not_fail_the_next_consultants_attempt(
        app, db, twilio, twilio_api):
    """First is rung and never heard of again (her leg's status callback lost); the offer goes back
    to the queue and Second takes the callback and talks to the caller. The reconciliation, 16
    minutes on, ends First's attempt as unanswered and leaves Second's alone: the callback is not
    retried in the middle of its conversation, and Second is not freed."""
    from routing import offers

    first = add_consultant(app, db, "First", languages=["ru"], topics=["health"], idle_minutes=30)
    second = add_consultant(app, db, "Second", languages=["ru"], topics=["health"], idle_minutes=5)
    callback = booked(db)
    with app.app_context(), services_of(app).db.session() as session:
        schedule.wake(session, callback.id, utcnow())
    run_jobs(app)
    [ringing] = placed(twilio, twilio_api)
    assert ringing.to == first.phone
    with app.app_context(), services_of(app).db.session() as session:
        offers.sweep(session, utcnow() + timedelta(minutes=3))  # her answer never came
    run_jobs(app)
    consultant = placed(twilio, twilio_api)[-1]
    assert consultant.to == second.phone
    consultant.answer()
    consultant.press("1")
    caller = placed(twilio, twilio_api)[-1]
    caller.answer(AnsweredBy="human")
    with app.app_context(), services_of(app).db.session() as session:
        reconciliation.reconcile(session, utcnow() + timedelta(minutes=16))
    assert attempts_of(db, callback) == [(1, first.id, "consultant_no_answer"), (2, second.id, None)]
    assert reread(db, callback).state == "in_progress"
    assert status_of(db, second)[0] == "busy" and _tellings(twilio_api, consultant) == []
    caller.ends("completed", duration=300)
    assert reread(db, callback).state == "completed"
