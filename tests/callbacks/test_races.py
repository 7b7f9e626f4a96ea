"""A callback's state changes under races and faults: a supervisor's cancel landing between a job's
read and its write, a status callback retried after the attempt ended, a crash between the
attempt's end and the callback's, a consultant's twin answers. Each transition is one
compare-and-set: a lost race is a no-op, never a resurrection, and a retry answers as the original."""
from __future__ import annotations

import threading
import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import func, select

from callbacks import caller_leg, consultant_leg, reconciliation, schedule
from hotline.models import Callback, CallbackAttempt, ConsultationRecord, QueueEntry, utcnow
from tests.conftest import services_of
from tests.support.helpers import add_consultant
from tests.support.journeys import prompt, status_of, texts
from tests.support.placing import attempts_of, booked, placed, reread
from tests.support.queueing import recorded_webhooks, run_jobs


def _wake(app, callback) -> None:
    with app.app_context(), services_of(app).db.session() as session:
        schedule.wake(session, callback.id, utcnow())
    run_jobs(app)


def _cancel_elsewhere(app, callback_id: int) -> None:
    """A supervisor's cancel, committed by another process."""
    with app.app_context(), services_of(app).db.session() as session:
        assert schedule.cancel(session, callback_id, utcnow())


def test_a_cancel_between_the_wake_jobs_read_and_write_stands(app, db, twilio, twilio_api, monkeypatch):
    add_consultant(app, db, "Maria", languages=["ru"], topics=["health"])
    callback = booked(db)
    real_next_allowed = schedule.next_allowed

    def cancelled_meanwhile(office_code, at):  # the job has read the callback: scheduled, due
        _cancel_elsewhere(app, callback.id)
        return real_next_allowed(office_code, at)

    monkeypatch.setattr("callbacks.schedule.next_allowed", cancelled_meanwhile)
    _wake(app, callback)

    assert reread(db, callback).state == "canceled"
    assert placed(twilio, twilio_api) == []  # nobody rung for it
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(QueueEntry)
                     .where(QueueEntry.callback_id == callback.id,
                            QueueEntry.state.in_(("waiting", "offered")))) == 0


@pytest.mark.parametrize("action", ["reschedule", "reassign"])
def test_a_cancel_between_a_staff_change_and_its_write_stands(app, db, action, monkeypatch):
    callback = booked(db, due_in_minutes=60)
    real_next_allowed = schedule.next_allowed

    def cancelled_meanwhile(office_code, at):
        _cancel_elsewhere(app, callback.id)
        return real_next_allowed(office_code, at)

    monkeypatch.setattr("callbacks.schedule.next_allowed", cancelled_meanwhile)
    with app.app_context(), services_of(app).db.session() as session:
        if action == "reschedule":
            changed = schedule.reschedule(session, callback.id, utcnow(), utcnow())
        else:
            monkeypatch.setattr("callbacks.schedule.next_allowed", real_next_allowed)
            session.get(Callback, callback.id)  # read, then cancelled before the write
            _cancel_elsewhere(app, callback.id)
            changed = schedule.reassign(session, callback.id, None, utcnow())
    assert not changed
    assert reread(db, callback).state == "canceled"


def _accepted(app, db, twilio, twilio_api):
    maria = add_consultant(app, db, "Maria", languages=["ru"], topics=["health"])
    callback = booked(db)
    _wake(app, callback)
    [consultant] = placed(twilio, twilio_api)
    consultant.answer()
    consultant.press("1")
    [_, caller] = placed(twilio, twilio_api)
    return maria, callback, consultant, caller


def test_a_retried_status_callback_does_not_reschedule_a_conversation(app, db, twilio, twilio_api):
    maria, callback, consultant, caller = _accepted(app, db, twilio, twilio_api)
    caller.answer(AnsweredBy="human")
    for _ in range(3):
        caller.ends("completed", duration=240)
    consultant.ends("completed", duration=250)

    done = reread(db, callback)
    assert (done.state, done.attempts) == ("completed", 1)
    assert attempts_of(db, callback) == [(1, maria.id, "completed")]
    assert db.scalar(select(func.count()).select_from(ConsultationRecord)
                     .where(ConsultationRecord.call_id == done.return_call_id)) == 1


def test_a_fault_after_the_attempt_ends_leaves_no_callback_in_progress(app, db, twilio, twilio_api,
                                                                       monkeypatch):
    """The attempt's outcome and the callback's state are one transaction: a crash after it leaves
    both, and Twilio's retry of the status callback does not decide otherwise."""
    maria, callback, consultant, caller = _accepted(app, db, twilio, twilio_api)
    caller.answer(AnsweredBy="human")

    def crash(*_args, **_kwargs):
        raise RuntimeError("the process died here")

    monkeypatch.setattr("hotline.calls.close_call", crash)
    caller.ends("completed", duration=240)  # answered 200 with an empty Response, but failed inside
    assert (reread(db, callback).state, attempts_of(db, callback)) == ("completed",
                                                                       [(1, maria.id, "completed")])
    monkeypatch.undo()
    caller.ends("completed", duration=240)  # Twilio retries
    assert reread(db, callback).state == "completed"


def test_the_reconciliation_closes_in_progress_callbacks_whose_attempts_all_ended(app, db, twilio,
                                                                                  twilio_api):
    maria, callback, consultant, caller = _accepted(app, db, twilio, twilio_api)
    # As a crash before this fix left them: the attempt ended, the callback still in progress.
    db.execute(CallbackAttempt.__table__.update().where(CallbackAttempt.callback_id == callback.id)
               .values(outcome="caller_busy", ended_at=utcnow()))
    db.commit()
    with app.app_context(), services_of(app).db.session() as session:
        reconciliation.reconcile(session, utcnow())
    after = reread(db, callback)
    assert after.state == "scheduled" and after.due_at > utcnow()  # retried, on the schedule


def test_a_callback_leg_that_reached_no_one_makes_no_record_and_no_abandonment(app, db, twilio, twilio_api):
    maria, callback, consultant, caller = _accepted(app, db, twilio, twilio_api)
    caller.ends("no-answer")
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(ConsultationRecord)) == 0
    from hotline.models import CallEvent

    assert db.scalar(select(func.count()).select_from(CallEvent).where(CallEvent.kind == "abandoned")) == 0
    assert attempts_of(db, callback)[-1][2] == "caller_no_answer"


def test_twin_whisper_answers_get_the_same_answer_and_dial_once(app, db, twilio, twilio_api):
    add_consultant(app, db, "Maria", languages=["ru"], topics=["health"])
    callback = booked(db)
    _wake(app, callback)
    [consultant] = placed(twilio, twilio_api)
    whisper = consultant.answer()
    action = whisper.find("Gather").attrib["action"]
    params = consultant.params(Digits="1")
    answers: list[ET.Element] = []
    start = threading.Barrier(2)

    def press():
        start.wait()
        code, body = twilio.request(action, params)
        assert code == 200
        answers.append(ET.fromstring(body))

    threads = [threading.Thread(target=press) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [a.find("Dial/Conference") is not None for a in answers] == [True, True], \
        [ET.tostring(a) for a in answers]
    assert len(placed(twilio, twilio_api, to=callback.number)) == 1  # the caller dialled once
    assert attempts_of(db, callback)[0][2] is None  # not marked as a consultant who did not answer
    assert prompt(app, "bg", "whisper_declined") not in texts(answers[0]) + texts(answers[1])


def test_a_cancel_while_the_callback_ringer_places_the_leg_cancels_that_leg(app, db, twilio, twilio_api,
                                                                            monkeypatch):
    maria = add_consultant(app, db, "Maria", languages=["ru"], topics=["health"])
    callback = booked(db)
    real_rest_client = consultant_leg.rest_client

    class CancelledWhileRinging:
        """Twilio's client, with a supervisor's cancel landing while the call is being placed."""

        def __init__(self):
            self.client = real_rest_client()

        @property
        def calls(self):
            client = self.client

            class Calls:
                def create(self, **kwargs):
                    leg = client.calls.create(**kwargs)
                    _cancel_elsewhere(app, callback.id)
                    return leg

                def __call__(self, sid):
                    return client.calls(sid)

            return Calls()

    monkeypatch.setattr("callbacks.consultant_leg.rest_client", CancelledWhileRinging)
    _wake(app, callback)

    [leg] = placed(twilio, twilio_api)
    assert {"Status": "canceled"} in twilio_api.updates_of(leg.request.sid)  # its ringing stopped
    assert reread(db, callback).state == "canceled"
    assert status_of(db, maria)[0] == "available"


def test_a_crash_between_dialling_the_caller_and_recording_it_loses_no_conversation(
        app, db, twilio, twilio_api, monkeypatch):
    """Intent first: the callback is in progress (committed) before Twilio is asked to dial the
    caller; a process that dies after the dial, before recording the leg, leaves the leg's own
    webhooks to record it. The conversation counts, and the reconciliation does not retry it."""
    maria = add_consultant(app, db, "Maria", languages=["ru"], topics=["health"])
    callback = booked(db)
    _wake(app, callback)
    [consultant] = placed(twilio, twilio_api)
    consultant.answer()

    def dies(*_args):
        raise RuntimeError("the web process died after the dial")

    monkeypatch.setattr(consultant_leg, "_record_dialled", dies)
    consultant.press("1")  # Twilio gets the fault's answer; the caller is being dialled
    monkeypatch.undo()
    [_, caller] = placed(twilio, twilio_api)
    assert caller.to == callback.number

    greeted = caller.answer(AnsweredBy="human")
    assert greeted.find("Dial/Conference") is not None
    caller.ends("completed", duration=240)
    with app.app_context(), services_of(app).db.session() as session:
        reconciliation.reconcile(session, utcnow() + reconciliation.LONGEST_CONVERSATION)

    done = reread(db, callback)
    assert (done.state, attempts_of(db, callback)) == ("completed", [(1, maria.id, "completed")])
    record = db.scalar(select(ConsultationRecord).where(ConsultationRecord.call_id == done.return_call_id))
    assert (record.outcome, record.consultant_id) == ("answered", maria.id)


@pytest.mark.parametrize("order", ["as_sent", "reversed"])
def test_every_callback_webhook_replayed_after_the_end_changes_nothing(app, db, twilio, twilio_api, order):
    with recorded_webhooks(twilio) as sent:
        maria, callback, consultant, caller = _accepted(app, db, twilio, twilio_api)
        caller.answer(AnsweredBy="human")
        caller.ends("completed", duration=240)
        consultant.ends("completed", duration=250)
    before = (reread(db, callback).state, attempts_of(db, callback), len(placed(twilio, twilio_api)),
              status_of(db, maria), db.scalar(select(func.count()).select_from(ConsultationRecord)))

    for url, params in (sent if order == "as_sent" else sent[::-1]) * 2:
        code, body = twilio.request(url, params)
        assert code == 200 and ET.fromstring(body).tag == "Response", (url, body[:200])
        assert ET.fromstring(body).find("Gather") is None, url
    run_jobs(app)

    after = (reread(db, callback).state, attempts_of(db, callback), len(placed(twilio, twilio_api)),
             status_of(db, maria), db.scalar(select(func.count()).select_from(ConsultationRecord)))
    assert after == before


# -- the caller answers while the consultant hangs up ------------------------------------------------
# Whoever's compare-and-set on the attempt lands first decides it; the other webhook answers as that
# decision says. Each case forces one order by sending the other webhook from inside the first one,
# between its read and its write.

def test_a_consultant_hanging_up_while_the_callers_answer_is_read_fails_the_attempt_once(
        app, db, twilio, twilio_api, monkeypatch):
    """The consultant's leg ends after the answer webhook read the attempt, before it wrote the
    answer: the attempt has failed, so the caller is not greeted into an empty conference, the
    callback is retried, and no conversation is recorded."""
    maria, callback, consultant, caller = _accepted(app, db, twilio, twilio_api)
    real_record_dialled = caller_leg._record_dialled
    hung_up = []

    def consultant_hangs_up_meanwhile(*args, **kwargs):
        if not hung_up:
            hung_up.append(True)
            consultant.ends("completed", duration=15)
        return real_record_dialled(*args, **kwargs)

    monkeypatch.setattr(caller_leg, "_record_dialled", consultant_hangs_up_meanwhile)
    greeted = caller.answer(AnsweredBy="human")
    monkeypatch.undo()
    assert hung_up

    assert greeted.find("Dial/Conference") is None and greeted.find("Hangup") is not None
    assert prompt(app, "ru", "callback_greeting") not in texts(greeted)
    assert {"Status": "canceled"} in twilio_api.updates_of(caller.request.sid)
    caller.ends("completed", duration=3)  # the caller's phone hung up on
    assert attempts_of(db, callback) == [(1, maria.id, "failed")]
    after = reread(db, callback)
    assert (after.state, after.attempts) == ("scheduled", 1) and after.due_at > utcnow()
    assert db.scalar(select(func.count()).select_from(ConsultationRecord)) == 0
    assert status_of(db, maria)[0] != "busy"


def test_a_caller_answering_while_the_consultants_end_is_read_is_not_failed(
        app, db, twilio, twilio_api, monkeypatch):
    """The caller answers after the consultant leg's status webhook read the attempt, before it
    failed it: the caller has answered, so the attempt is not failed and retried beside a recorded
    conversation; the consultant has gone, so the caller's leg is ended, and the attempt ends once,
    as completed, with one record."""
    maria, callback, consultant, caller = _accepted(app, db, twilio, twilio_api)
    real_fail_attempt = consultant_leg.fail_attempt
    greetings: list[ET.Element] = []

    def caller_answers_meanwhile(*args, **kwargs):
        if not greetings:
            greetings.append(caller.answer(AnsweredBy="human"))
        return real_fail_attempt(*args, **kwargs)

    monkeypatch.setattr(consultant_leg, "fail_attempt", caller_answers_meanwhile)
    consultant.ends("completed", duration=15)
    monkeypatch.undo()

    [greeted] = greetings
    assert greeted.find("Dial/Conference") is not None
    assert attempts_of(db, callback) == [(1, maria.id, None)]  # not failed: the caller answered
    assert reread(db, callback).state == "in_progress"
    assert twilio_api.updates_of(caller.request.sid)[-1:] == [{"Status": "completed"}]  # not left alone
    caller.ends("completed", duration=3)
    done = reread(db, callback)
    assert (done.state, done.attempts) == ("completed", 1)
    assert attempts_of(db, callback) == [(1, maria.id, "completed")]
    assert db.scalar(select(func.count()).select_from(ConsultationRecord)
                     .where(ConsultationRecord.call_id == done.return_call_id)) == 1


def test_a_refused_dial_is_answered_the_same_when_the_whisper_answer_is_retried(app, db, twilio, twilio_api):
    """Twilio refuses to dial the caller: the consultant hears "not reached"; Twilio's retry of the
    same signed webhook (the consultant freed meanwhile) gets the same answer, and changes nothing."""
    maria = add_consultant(app, db, "Maria", languages=["ru"], topics=["health"])
    callback = booked(db)
    _wake(app, callback)
    [consultant] = placed(twilio, twilio_api)
    action = consultant.answer().find("Gather").attrib["action"]
    params = consultant.params(Digits="1")
    twilio_api.refuse = 1
    first = twilio.twiml(action, params)
    assert texts(first) == [prompt(app, "ru", "callback_not_reached")]
    state = (reread(db, callback).state, attempts_of(db, callback), status_of(db, maria))

    retried = twilio.twiml(action, params)
    assert ET.tostring(retried) == ET.tostring(first)
    assert (reread(db, callback).state, attempts_of(db, callback), status_of(db, maria)) == state
    assert attempts_of(db, callback) == [(1, maria.id, "failed")]
