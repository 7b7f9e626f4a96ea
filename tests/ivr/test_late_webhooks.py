"""Webhooks that arrive after the call's final status: a caller who presses a key and hangs up at
once (the two requests race), Twilio retrying late, or replaying out of order. A call that has
ended reserves nobody, queues nothing, rings nobody and makes no second record; every answer is
still valid TwiML."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import func, select

from hotline.models import ConsultationRecord, QueueEntry
from tests.support.helpers import STATUS_URL, add_consultant, add_staff_with_token, to_topic_menu
from tests.support.journeys import TOPIC_KEYS, hang_up, journal, prompt, record_of, route, status_of, texts
from tests.support.queueing import (
    enqueued,
    entry_of,
    recorded_webhooks,
    run_jobs,
    rung,
    wait_turn,
    whole_queued_call,
)


def _count(db, model) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(model))


def _hangs_up_quietly(app, root: ET.Element) -> None:
    """An ended call's answer: nothing but a hang-up, and never the apology."""
    assert [child.tag for child in root] in ([], ["Hangup"])
    assert prompt(app, "en", "technical_problem") not in texts(root)


def test_a_topic_key_after_the_final_status_rings_nobody(app, db, twilio, twilio_api):
    maria = add_consultant(app, db, "Maria", languages=["en"], topics=["health"])
    call = to_topic_menu(twilio)
    topic_menu = call.gather()
    hang_up(call)

    answer = call.follow(topic_menu.attrib["action"], Digits=TOPIC_KEYS["health"])

    _hangs_up_quietly(app, answer)
    assert status_of(db, maria) == ("available", None)
    assert "offered" not in [kind for kind, _, _ in journal(db, call)]
    assert _count(db, ConsultationRecord) == 1


def test_a_topic_key_after_the_final_status_queues_nobody(app, db, twilio, twilio_api):
    add_consultant(app, db, "On a call", languages=["en"], topics=["health"], status="busy")
    call = to_topic_menu(twilio)
    topic_menu = call.gather()
    hang_up(call)

    answer = call.follow(topic_menu.attrib["action"], Digits=TOPIC_KEYS["health"])

    _hangs_up_quietly(app, answer)
    assert entry_of(db, call) is None
    assert record_of(db, call).outcome == "abandoned"


def test_the_wait_url_after_the_final_status_does_not_bring_the_caller_back(app, db, twilio, twilio_api):
    busy = add_consultant(app, db, "On a call", languages=["en"], topics=["health"], status="busy")
    call = route(twilio, "en", "health")
    enqueue = enqueued(call)
    hang_up(call)
    left = entry_of(db, call).state

    _hangs_up_quietly(app, wait_turn(call, enqueue))
    _hangs_up_quietly(app, call.follow(enqueue.attrib["action"], QueueResult="hangup"))
    assert entry_of(db, call).state == left

    # A consultant free now is not rung for the caller who is gone.
    _, token = add_staff_with_token(app, db, "Supervisor")
    response = app.test_client().put(f"/api/consultants/{busy.id}/status", json={"status": "available"},
                                     headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    run_jobs(app)
    assert rung(twilio, twilio_api) == []
    assert status_of(db, busy) == ("available", None)


def _journey_requests(app, db, twilio, twilio_api) -> tuple[list[tuple[str, dict]], object]:
    """A whole call through the queue (tests.support.queueing.whole_queued_call). Returns every webhook
    request Twilio made (url, params), in order, and the consultant."""
    maria = add_consultant(app, db, "Maria", languages=["en"], topics=["health"], status="busy")
    with recorded_webhooks(twilio) as sent:
        whole_queued_call(app, twilio, twilio_api, maria.id)
    return sent, maria


@pytest.mark.parametrize("order", ["as_sent", "reversed"])
def test_every_webhook_replayed_after_the_final_status_changes_nothing(app, db, twilio, twilio_api, order):
    sent, maria = _journey_requests(app, db, twilio, twilio_api)
    assert any(url.endswith("/ivr/status") for url, _ in sent)
    records, entries = _count(db, ConsultationRecord), _count(db, QueueEntry)
    rings = len(twilio_api.created_calls())
    status = status_of(db, maria)
    events = len(journal(db, type("Leg", (), {"call_sid": sent[0][1]["CallSid"]})))

    for url, params in (sent if order == "as_sent" else sent[::-1]) * 2:
        code, body = twilio.request(url, params)
        assert code == 200, (url, body[:200])
        root = ET.fromstring(body)
        assert root.tag == "Response"
        assert prompt(app, "en", "technical_problem") not in texts(root), url
        assert root.find("Enqueue") is None and root.find("Gather") is None, url
    run_jobs(app)

    assert (_count(db, ConsultationRecord), _count(db, QueueEntry)) == (records, entries)
    assert len(twilio_api.created_calls()) == rings  # nobody rung again
    assert status_of(db, maria) == status  # no reservation, no second wrap-up
    assert journal(db, type("Leg", (), {"call_sid": sent[0][1]["CallSid"]}))[events:] == []


def test_a_status_callback_replayed_makes_one_record(app, db, twilio):
    call = to_topic_menu(twilio)
    for _ in range(3):
        code, _body = call.hang_up(STATUS_URL)
        assert code == 200
    assert _count(db, ConsultationRecord) == 1
