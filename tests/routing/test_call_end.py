"""Live calls' safety net: a call we have heard nothing of for stale_call_minutes (its final status
callback lost) is looked up in Twilio's REST API by the sweep; if Twilio says it ended, it is closed
exactly as its status callback would have closed it (the consultant freed, the record made)."""
from __future__ import annotations

from tests.support.helpers import add_consultant, add_staff_with_token
from tests.support.journeys import journal, record_of, route, status_of, stored_call
from tests.support.queueing import enqueued, redirect_of, run_jobs, rung, sweep_at


def _talking(app, db, client, twilio, twilio_api):
    """A caller put through to Maria from the queue; then Twilio never tells us any more."""
    maria = add_consultant(app, db, "Maria", languages=["en"], topics=["health"], status="busy")
    _, token = add_staff_with_token(app, db, "Supervisor")
    call = route(twilio, "en", "health")
    enqueued(call)
    run_jobs(app)
    client.put(f"/api/consultants/{maria.id}/status", json={"status": "available"},
               headers={"Authorization": f"Bearer {token}"})
    run_jobs(app)
    [leg] = rung(twilio, twilio_api)
    leg.answer()
    leg.press("1")
    call.follow(redirect_of(twilio_api, call))
    assert status_of(db, maria) == ("busy", call.call_sid)
    return call, maria


def _fetches(twilio_api, call) -> int:
    path = f"/Calls/{call.call_sid}.json"
    return len([r for r in twilio_api.requests if r.method == "GET" and r.path.endswith(path)])


def test_a_call_whose_final_status_was_lost_is_closed_from_twilios_answer(
        app, db, client, twilio, twilio_api, monkeypatch):
    call, maria = _talking(app, db, client, twilio, twilio_api)
    twilio_api.ended(call.call_sid, "completed", duration=420)
    sweep_at(app, monkeypatch, 5)
    assert _fetches(twilio_api, call) == 0  # not silent long enough: Twilio is not asked
    sweep_at(app, monkeypatch, 16)
    assert _fetches(twilio_api, call) == 1
    assert status_of(db, maria)[0] == "wrap_up"
    stored = stored_call(db, call)
    assert (stored.stage, stored.twilio_status, stored.duration_seconds) == ("ended", "completed", 420)
    record = record_of(db, call)
    assert (record.outcome, record.consultant_id) == ("answered", maria.id)
    assert ("status_checked", "completed", None) in journal(db, call)
    sweep_at(app, monkeypatch, 40)
    assert _fetches(twilio_api, call) == 1  # closed: never asked again


def test_a_call_twilio_says_is_live_is_left_alone_and_asked_again_only_after_more_silence(
        app, db, client, twilio, twilio_api, monkeypatch):
    call, maria = _talking(app, db, client, twilio, twilio_api)
    sweep_at(app, monkeypatch, 16)
    sweep_at(app, monkeypatch, 20)
    assert _fetches(twilio_api, call) == 1
    assert status_of(db, maria) == ("busy", call.call_sid) and stored_call(db, call).ended_at is None
    assert ("status_checked", "in-progress", None) in journal(db, call)
    sweep_at(app, monkeypatch, 32)
    assert _fetches(twilio_api, call) == 2


def test_twilio_failing_to_answer_changes_nothing(app, db, client, twilio, twilio_api, monkeypatch):
    call, maria = _talking(app, db, client, twilio, twilio_api)
    twilio_api.refuse = 5
    sweep_at(app, monkeypatch, 16)
    assert status_of(db, maria) == ("busy", call.call_sid) and stored_call(db, call).ended_at is None
