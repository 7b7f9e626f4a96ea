"""Offers of a waiting caller that do not end in a conversation: the consultant's phone rings out,
they decline, go offline while it rings, Twilio refuses to ring them, or the caller hangs up first.
The caller always keeps their place and goes to the next consultant; nobody is rung twice."""
from __future__ import annotations

import pytest

from tests.support.helpers import add_consultant, add_staff_with_token
from tests.support.journeys import hang_up, journal, prompt, route, status_of, texts, verbs
from tests.support.queueing import enqueued, entry_of, redirect_of, run_jobs, rung, wait_turn


@pytest.fixture
def token(app, db) -> str:
    return add_staff_with_token(app, db, "Supervisor")[1]


def _set_status(client, token: str, staff_id: int, status: str) -> None:
    response = client.put(f"/api/consultants/{staff_id}/status", json={"status": status},
                          headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.get_json()


def _waiting_then_two_free(app, db, client, twilio, token):
    """A caller queued while both consultants were busy; then both become available, the one
    idle longest first. Returns (caller, first consultant, second consultant)."""
    first = add_consultant(app, db, "First", status="busy", idle_minutes=30)
    second = add_consultant(app, db, "Second", status="busy", idle_minutes=10)
    call = route(twilio, "en", "health")
    enqueued(call)
    _set_status(client, token, first.id, "available")
    run_jobs(app)
    _set_status(client, token, second.id, "available")
    run_jobs(app)
    return call, first, second


@pytest.mark.parametrize("leg_status", ["no-answer", "busy", "failed"])
def test_an_offer_that_rings_out_goes_to_the_next_consultant(app, db, client, twilio, twilio_api, token,
                                                             leg_status):
    call, first, second = _waiting_then_two_free(app, db, client, twilio, token)
    [leg] = rung(twilio, twilio_api)
    assert leg.staff_id == first.id
    assert status_of(db, second) == ("available", None)  # the caller is offered to one at a time

    leg.ends(leg_status)
    run_jobs(app)
    assert status_of(db, first) == ("break", None)  # not rung again at an empty desk
    legs = rung(twilio, twilio_api)
    assert [ringing.staff_id for ringing in legs] == [first.id, second.id]
    assert status_of(db, second) == ("offered", call.call_sid)
    assert entry_of(db, call).offered_staff_id == second.id
    assert ("not_accepted", leg_status, first.id) in journal(db, call)


def test_a_declined_offer_goes_to_the_next_consultant_and_the_caller_keeps_waiting(
        app, db, client, twilio, twilio_api, token):
    call, first, second = _waiting_then_two_free(app, db, client, twilio, token)
    [leg] = rung(twilio, twilio_api)
    leg.answer()
    declined = leg.press("2")
    assert texts(declined) == [prompt(app, "en", "whisper_declined")] and verbs(declined) == ["Say", "Hangup"]
    leg.ends("completed")  # the declined leg's own status callback changes nothing more
    run_jobs(app)
    assert [ringing.staff_id for ringing in rung(twilio, twilio_api)] == [first.id, second.id]
    assert status_of(db, first) == ("break", None)
    assert redirect_of(twilio_api, call) is None  # the caller was never taken out of the queue
    assert texts(wait_turn(call, enqueued(call)))[0] == prompt(app, "en", "queue_position", position=1)


def test_a_consultant_who_hangs_up_during_the_whisper_has_not_accepted(app, db, client, twilio, twilio_api,
                                                                       token):
    call, first, second = _waiting_then_two_free(app, db, client, twilio, token)
    [leg] = rung(twilio, twilio_api)
    leg.answer()
    leg.ends("completed")  # picked up, heard the whisper, hung up without a key
    run_jobs(app)
    assert [ringing.staff_id for ringing in rung(twilio, twilio_api)] == [first.id, second.id]


def test_a_consultant_going_offline_while_rung_passes_the_caller_on_and_stops_the_ringing(
        app, db, client, twilio, twilio_api, token):
    call, first, second = _waiting_then_two_free(app, db, client, twilio, token)
    [leg] = rung(twilio, twilio_api)
    _set_status(client, token, first.id, "offline")
    assert twilio_api.updates_of(leg.request.sid) == [{"Status": "canceled"}]
    run_jobs(app)
    assert [ringing.staff_id for ringing in rung(twilio, twilio_api)] == [first.id, second.id]
    assert status_of(db, first) == ("offline", None)
    # Picking up the phone that was stopped too late takes nothing.
    leg.answer()
    refused = leg.press("1")
    assert "Dial" not in verbs(refused)
    assert status_of(db, second) == ("offered", call.call_sid)


def test_a_caller_hanging_up_while_the_consultant_is_rung_stops_the_ringing_and_frees_the_consultant(
        app, db, client, twilio, twilio_api, token):
    maria = add_consultant(app, db, "Maria", status="busy")
    call = route(twilio, "en", "health")
    _set_status(client, token, maria.id, "available")
    run_jobs(app)
    [leg] = rung(twilio, twilio_api)
    hang_up(call, duration=70)
    assert twilio_api.updates_of(leg.request.sid) == [{"Status": "canceled"}]
    assert status_of(db, maria) == ("available", None)  # not their fault: no break
    assert entry_of(db, call).state == "abandoned"
    leg.ends("canceled")  # the cancelled leg's status callback comes after
    assert status_of(db, maria) == ("available", None)


def test_the_caller_gone_by_the_time_the_consultant_accepts(app, db, client, twilio, twilio_api, token):
    maria = add_consultant(app, db, "Maria", status="busy")
    call = route(twilio, "en", "health")
    _set_status(client, token, maria.id, "available")
    run_jobs(app)
    [leg] = rung(twilio, twilio_api)
    leg.answer()
    twilio_api.refuse = 1  # Twilio: the call is not in progress, it cannot be redirected
    answer = leg.press("1")
    assert texts(answer) == [prompt(app, "en", "caller_gone")] and "Dial" not in verbs(answer)
    status, _ = status_of(db, maria)
    assert status == "wrap_up"  # a wrap-up of no length: free at once
    assert "bridged" not in [kind for kind, _, _ in journal(db, call)]
    # Twilio's refusal may have been passing: the caller waits again, in their place; if they
    # have really gone, their status callback says so.
    assert entry_of(db, call).state in ("waiting", "offered")
    hang_up(call)
    assert entry_of(db, call).state == "abandoned"


def test_twilio_refusing_to_ring_a_consultant_passes_the_caller_on(app, db, client, twilio, twilio_api,
                                                                   token):
    first = add_consultant(app, db, "First", status="busy", idle_minutes=30)
    second = add_consultant(app, db, "Second", status="available", idle_minutes=10)
    second.status = "busy"
    db.commit()
    call = route(twilio, "en", "health")
    run_jobs(app)  # nobody free yet
    _set_status(client, token, second.id, "available")
    twilio_api.refuse = 1
    run_jobs(app)
    assert ("not_accepted", "offer_failed", second.id) in journal(db, call)
    # Twilio's failure is not the consultant's: no break for them (see the test below).
    assert status_of(db, second) == ("available", None)
    assert entry_of(db, call).state == "waiting"
    _set_status(client, token, first.id, "available")
    run_jobs(app)
    assert status_of(db, first) == ("offered", call.call_sid)


def test_a_consultant_twilio_failed_to_ring_stays_available_and_the_sweep_tries_again(
        app, db, client, twilio, twilio_api, token):
    """Not on break as if they had let it ring out; not rung again for the caller at once (with
    Twilio failing, that would be a loop of jobs); the sweep, a few seconds on, rings them again."""
    from routing import jobs

    maria = add_consultant(app, db, "Maria", status="busy", idle_minutes=30)
    call = route(twilio, "en", "health")
    enqueued(call)
    run_jobs(app)  # nobody free yet
    twilio_api.refuse = 1
    _set_status(client, token, maria.id, "available")
    run_jobs(app)
    assert len(twilio_api.created_calls()) == 1  # one try, then nothing more from the jobs
    assert status_of(db, maria) == ("available", None)
    assert entry_of(db, call).state == "waiting"
    assert ("not_accepted", "offer_failed", maria.id) in journal(db, call)
    with app.app_context():
        jobs.sweep_job()
    [_, again] = rung(twilio, twilio_api)
    assert again.staff_id == maria.id and status_of(db, maria) == ("offered", call.call_sid)


def test_running_the_same_pairing_job_again_rings_nobody_twice(app, db, client, twilio, twilio_api, token):
    maria = add_consultant(app, db, "Maria", status="busy")
    call = route(twilio, "en", "health")
    _set_status(client, token, maria.id, "available")
    _set_status(client, token, maria.id, "available")  # a double click: two jobs
    run_jobs(app)
    from routing import offers

    with app.app_context():
        from hotline import runtime

        assert offers.offer_next_caller(runtime.session(), maria.id) is None
        assert offers.find_consultant(runtime.session(), entry_of(db, call).id) is None
    assert len(rung(twilio, twilio_api)) == 1


def test_a_retried_accept_gives_the_consultant_the_same_conference(app, db, client, twilio, twilio_api,
                                                                   token):
    maria = add_consultant(app, db, "Maria", status="busy")
    call = route(twilio, "en", "health")
    _set_status(client, token, maria.id, "available")
    run_jobs(app)
    [leg] = rung(twilio, twilio_api)
    leg.answer()
    first = leg.press("1")
    leg.answer()
    again = leg.press("1")  # Twilio retried the whisper's answer
    assert again.find("Dial/Conference").text == first.find("Dial/Conference").text
    assert status_of(db, maria) == ("busy", call.call_sid)
    assert len(twilio_api.updates_of(call.call_sid)) == 1  # the caller was redirected once


def test_a_bridge_that_never_happened_puts_the_caller_back_in_the_queue(app, db, client, twilio, twilio_api,
                                                                           token, monkeypatch):
    """The redirect was accepted but the caller still asks for the wait URL long after: the
    caller waits again rather than hearing a pause for ever."""
    from datetime import timedelta

    from hotline.models import utcnow
    from tests.support.clock import set_clock

    maria = add_consultant(app, db, "Maria", status="busy")
    call = route(twilio, "en", "health")
    enqueue = enqueued(call)
    _set_status(client, token, maria.id, "available")
    run_jobs(app)
    [leg] = rung(twilio, twilio_api)
    leg.answer()
    leg.press("1")
    assert [child.tag for child in wait_turn(call, enqueue)] == ["Pause"]  # being put through
    set_clock(monkeypatch, utcnow() + timedelta(seconds=45))
    turn = wait_turn(call, enqueue)
    assert texts(turn)[0] == prompt(app, "en", "queue_position", position=1)
    assert entry_of(db, call).state in ("waiting", "offered")
    assert ("bridge_failed", None, None) in journal(db, call)


def test_a_consultant_hanging_up_before_the_caller_is_put_through_sends_the_caller_back_to_wait(
        app, db, client, twilio, twilio_api, token):
    maria = add_consultant(app, db, "Maria", status="busy")
    call = route(twilio, "en", "health")
    _set_status(client, token, maria.id, "available")
    run_jobs(app)
    [leg] = rung(twilio, twilio_api)
    leg.answer()
    leg.press("1")
    leg.ends("completed")  # gone before the caller's redirect landed
    assert status_of(db, maria)[0] == "wrap_up"
    back = call.follow(redirect_of(twilio_api, call))
    assert back.find("Enqueue") is not None and back.find("Dial") is None
    assert entry_of(db, call).state in ("waiting", "offered")
    assert ("bridge_failed", None, None) in journal(db, call)


def test_a_crash_between_the_redirect_and_its_record_loses_no_answered_call(
        app, db, client, twilio, twilio_api, token, monkeypatch):
    """Intent first: the bridge is committed before Twilio is asked to redirect the caller; a
    process that dies after the redirect, before recording it, leaves the caller's arrival at the
    bridge to record it. The call counts as answered, by its consultant, once."""
    from ivr import on_hold

    maria = add_consultant(app, db, "Maria", status="busy")
    call = route(twilio, "en", "health")
    enqueue = enqueued(call)
    _set_status(client, token, maria.id, "available")
    run_jobs(app)
    [leg] = rung(twilio, twilio_api)
    leg.answer()
    real_put_through = on_hold.put_through

    def dies_once(*args):
        monkeypatch.setattr(on_hold, "put_through", real_put_through)
        raise RuntimeError("the web process died after the redirect")

    monkeypatch.setattr(on_hold, "put_through", dies_once)
    leg.press("1")  # Twilio gets the fault's answer; the redirect went out
    assert redirect_of(twilio_api, call) is not None

    call.follow(enqueue.attrib["action"], QueueResult="redirected")
    bridge = call.follow(redirect_of(twilio_api, call))
    assert bridge.find("Dial/Conference") is not None
    call.follow(bridge.find("Dial").attrib["action"], DialCallStatus="completed", DialCallDuration="60")
    hang_up(call)
    kinds = [kind for kind, _, _ in journal(db, call)]
    assert kinds.count("accepted") == 1 and kinds.count("bridged") == 1
    from tests.support.journeys import record_of

    record = record_of(db, call)
    assert (record.outcome, record.consultant_id) == ("answered", maria.id)
