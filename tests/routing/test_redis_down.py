"""Redis is a helper, the database is the truth: a call whose every step meets a dead Redis goes
exactly as one with Redis up (the same TwiML, the same rows), and once Redis is back the sweep does
the work the lost jobs would have done (the consultant is rung, and freed after the call)."""
from __future__ import annotations

import time
import xml.etree.ElementTree as ET

import pytest

from hotline.models import Staff
from routing import jobs
from tests.support.helpers import add_consultant, add_staff_with_token, new_call
from tests.support.journeys import (
    LANGUAGE_KEYS,
    TOPIC_KEYS,
    hang_up,
    journal,
    record_of,
    status_of,
    stored_call,
)
from tests.support.outage import redis_down, redis_hung
from tests.support.queueing import enqueued, entry_of, redirect_of, run_jobs, rung, wait_turn

STEPS = ("greeting", "language", "topic_queued", "consultant_available", "wait", "accept", "conversation",
         "goodbye", "consultant_leg_ends", "final_status")


def settle(app) -> None:
    """What happens between two webhooks: the worker runs what was queued, and the periodic sweep
    runs (with Redis back, whatever it was during the step)."""
    run_jobs(app)
    with app.app_context():
        jobs.sweep_job()
    run_jobs(app)


def shape(answer, call_sid: str):
    """What the other side got, without what differs from call to call (sids, times)."""
    if isinstance(answer, ET.Element):
        return [(el.tag, (el.text or "").replace(call_sid, "<call>")) for el in answer.iter()]
    if answer is None:
        return None
    body = answer.get_json()
    return answer.status_code, body.get("status") if isinstance(body, dict) else body


def journey(app, client, twilio, twilio_api, db, maria: Staff, token: str, down_at: str | None,
            steps: tuple[str, ...] = STEPS) -> dict:
    """One call through the queue to Maria, Redis dead during step `down_at` (None: never); of
    the call's `steps`, in order (the caller may hang up first: no "goodbye", and the final status
    comes before the consultant's leg ends). Returns what each step answered, and the rows the call left."""
    call = new_call(twilio)
    heard, legs = {}, {}

    def step(name, action):
        with redis_down(app, name == down_at):
            answer = action()
        settle(app)
        heard[name] = shape(answer, call.call_sid)

    def consultant_leg():
        [leg] = [leg for leg in rung(twilio, twilio_api) if call.call_sid in leg.request.data["Url"]]
        return legs.setdefault("leg", leg)

    def accept():
        consultant_leg().answer()
        return consultant_leg().press("1")

    actions = {
        "greeting": call.ring,
        "language": lambda: call.press(LANGUAGE_KEYS["en"]),
        "topic_queued": lambda: call.press(TOPIC_KEYS["health"]),
        "consultant_available": lambda: client.put(
            f"/api/consultants/{maria.id}/status", json={"status": "available"},
            headers={"Authorization": f"Bearer {token}"}),
        "wait": lambda: wait_turn(call, enqueued(call)),
        "accept": accept,
        "conversation": lambda: call.follow(redirect_of(twilio_api, call)),
        "goodbye": lambda: call.dial_ends("completed", duration=300),
        "consultant_leg_ends": lambda: consultant_leg().ends("completed"),
        "final_status": lambda: hang_up(call, duration=400),
    }
    for name in steps:
        step(name, actions[name])

    record = record_of(db, call)
    stored = stored_call(db, call)
    return {
        "heard": heard,
        # (A bridged event's detail is the seconds waited: a clock reading, not a result.)
        "journal": [(kind, None if kind == "bridged" else detail, who)
                    for kind, detail, who in journal(db, call)],
        "call": (stored.stage, stored.outcome, stored.consultant_id, stored.ended_at is not None),
        "record": record and (record.outcome, record.consultant_id, record.language_code, record.topic_code),
        "entry": entry_of(db, call).state,
        "maria": status_of(db, maria)[0],
        "rung": len([leg for leg in rung(twilio, twilio_api) if call.call_sid in leg.request.data["Url"]]),
    }


@pytest.mark.parametrize("down_at", STEPS)
def test_a_dead_redis_at_any_step_of_a_queued_call_changes_nothing_the_caller_hears_or_the_rows(
        app, db, client, twilio, twilio_api, monkeypatch, down_at):
    import routing

    # The expected wait is learnt from the calls before: the second call would hear the first's.
    monkeypatch.setattr(routing, "wait_figures",
                        lambda s, entry, now, **_: (routing.position(s, entry), None))
    maria = add_consultant(app, db, "Maria", languages=["en"], topics=["health"], status="busy")
    _, token = add_staff_with_token(app, db, "Supervisor")
    with_redis = journey(app, client, twilio, twilio_api, db, maria, token, None)
    assert with_redis["record"] == ("answered", maria.id, "en", "health")
    assert with_redis["rung"] == 1 and with_redis["maria"] == "wrap_up"

    again = db.get(Staff, maria.id)
    again.status, again.current_call_sid, again.wrap_up_until = "busy", None, None  # on another call
    db.commit()
    without = journey(app, client, twilio, twilio_api, db, maria, token, down_at)
    assert_same(without, with_redis)


def assert_same(without: dict, with_redis: dict) -> None:
    for name in with_redis["heard"]:
        assert without["heard"][name] == with_redis["heard"][name], name
    for part in ("heard", "journal", "call", "record", "entry", "maria", "rung"):
        assert without[part] == with_redis[part], part


HANGS_UP_FIRST = STEPS[:7] + ("final_status", "consultant_leg_ends")


@pytest.mark.parametrize("down_at", ("conversation", "final_status"))
def test_a_final_status_that_meets_a_dead_redis_still_closes_the_call_and_frees_the_consultant(
        app, db, client, twilio, twilio_api, monkeypatch, down_at):
    import routing

    monkeypatch.setattr(routing, "wait_figures",
                        lambda s, entry, now, **_: (routing.position(s, entry), None))
    maria = add_consultant(app, db, "Maria", languages=["en"], topics=["health"], status="busy")
    _, token = add_staff_with_token(app, db, "Supervisor")
    with_redis = journey(app, client, twilio, twilio_api, db, maria, token, None, HANGS_UP_FIRST)
    assert with_redis["record"] == ("answered", maria.id, "en", "health") and with_redis["maria"] == "wrap_up"
    again = db.get(Staff, maria.id)
    again.status, again.current_call_sid, again.wrap_up_until = "busy", None, None
    db.commit()
    without = journey(app, client, twilio, twilio_api, db, maria, token, down_at, HANGS_UP_FIRST)
    assert_same(without, with_redis)


def test_a_hung_redis_costs_a_webhook_a_second_not_twilios_whole_budget(app, db, client, twilio, twilio_api):
    """Twilio waits 15 s for a whole answer; a Redis that takes connections and never answers must
    not use it up. The caller is queued all the same, and the sweep rings the consultant after."""
    maria = add_consultant(app, db, "Maria", languages=["en"], topics=["health"], status="busy")
    _, token = add_staff_with_token(app, db, "Supervisor")
    call = new_call(twilio)
    call.ring()
    call.press(LANGUAGE_KEYS["en"])
    with redis_hung(app):
        started = time.monotonic()
        call.press(TOPIC_KEYS["health"])  # queued: one job (look for a consultant) to enqueue
        queued_in = time.monotonic() - started
        started = time.monotonic()
        response = client.put(f"/api/consultants/{maria.id}/status", json={"status": "available"},
                              headers={"Authorization": f"Bearer {token}"})
        freed_in = time.monotonic() - started
    assert enqueued(call).text == "en-health" and response.status_code == 200
    assert queued_in < 2.5 and freed_in < 2.5, (queued_in, freed_in)
    settle(app)
    [leg] = rung(twilio, twilio_api)
    assert leg.staff_id == maria.id and status_of(db, maria) == ("offered", call.call_sid)
