"""Twilio retries a webhook it got no timely answer to, so two copies of one request (the same
I-Twilio-Idempotency-Token) can arrive at the same moment. Every Twilio-facing webhook of a whole
call is sent twice at once here: both copies get the same answer (the loser of a compare-and-set
answers what the winner did, never the opposite), and the call ends as it does with single
requests: one record, one ring of the consultant, one redirect, one conversation."""
from __future__ import annotations

import threading
import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import func, select

from hotline.models import Call, ConsultationRecord, QueueEntry
from tests.support.helpers import add_consultant, new_call
from tests.support.journeys import LANGUAGE_KEYS, TOPIC_KEYS, journal, record_of, status_of
from tests.support.queueing import entry_of, rung, whole_queued_call


def _twin_transport(transport, answers: list[tuple[str, str, str]]):
    """Send every request twice at the same moment; keep both answers; hand one on."""

    def twins(url, params, headers):
        barrier = threading.Barrier(2)
        results: list[tuple[int, str]] = [None, None]

        def send(i):
            barrier.wait()
            results[i] = transport(url, params, headers)

        threads = [threading.Thread(target=send, args=(i,)) for i in (0, 1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        answers.append((url, results[0][1], results[1][1]))
        assert results[0][0] == results[1][0] == 200, (url, results)
        return results[0]

    return twins


def test_every_webhook_of_a_queued_call_sent_twice_at_once(app, db, twilio, twilio_api):
    maria = add_consultant(app, db, "Maria", languages=["en"], topics=["health"], status="busy")
    answers: list[tuple[str, str, str]] = []
    twilio.transport = _twin_transport(twilio.transport, answers)

    whole = whole_queued_call(app, twilio, twilio_api, maria.id)
    call = whole.caller
    assert whole.accepted.find("Dial/Conference") is not None

    for url, first, second in answers:
        assert ET.fromstring(first).tag == "Response"
        assert first == second, f"{url} answered its twin differently:\n{first}\n{second}"
    db.expire_all()
    assert len(rung(twilio, twilio_api)) == 1
    assert len([u for u in twilio_api.updates_of(call.call_sid) if "Url" in u]) == 1  # one redirect
    assert db.scalar(select(func.count()).select_from(QueueEntry)) == 1
    assert entry_of(db, call).state == "bridged"
    assert db.scalar(select(func.count()).select_from(ConsultationRecord)) == 1
    assert record_of(db, call).outcome == "answered"
    assert status_of(db, maria)[0] == "wrap_up"
    kinds = [kind for kind, _, _ in journal(db, call)]
    for once in ("queued", "offered", "accepted", "bridged", "ended"):
        assert kinds.count(once) == 1, (once, kinds)


@pytest.mark.parametrize("others_free", [(), ("Anna",)], ids=["one free", "two free"])
def test_a_topic_that_rings_a_consultant_sent_twice_at_once(app, db, twilio, others_free):
    """Both copies dial the one consultant reserved, and the offer is journalled once: the copy that
    comes second (it waits for the first's lock on the call) finds Maria ringing for this very call
    and dials her too, rather than reserving someone else free. The interleaving where the second
    copy would otherwise pick someone freed meanwhile is driven step by step in
    tests/routing/test_concurrent_offers.py (here both copies race as they come)."""
    maria = add_consultant(app, db, "Maria", languages=["en"], topics=["health"], idle_minutes=9)
    others = [add_consultant(app, db, name, languages=["en"], topics=["health"], idle_minutes=1)
              for name in others_free]
    call = new_call(twilio)
    call.ring()
    call.press(LANGUAGE_KEYS["en"])
    answers: list[tuple[str, str, str]] = []
    twilio.transport = _twin_transport(twilio.transport, answers)
    call.press(TOPIC_KEYS["health"])
    [(_, first, second)] = answers
    assert first == second
    assert call.dialled_number() == maria.phone
    assert status_of(db, maria) == ("offered", call.call_sid)
    assert [status_of(db, other) for other in others] == [("available", None)] * len(others)
    assert [kind for kind, _, _ in journal(db, call)].count("offered") == 1


def test_a_topic_retried_after_its_caller_was_queued_keeps_them_queued(app, db, twilio):
    """Twilio retries the topic webhook after the first copy queued the caller: the retry finds
    their entry and must leave the call at stage "queued", not at the "routing" it passes through
    (it did: the abandonment funnel then said they gave up while being routed; found in review)."""
    add_consultant(app, db, "Maria", languages=["en"], topics=["health"], status="busy")
    call = new_call(twilio)
    call.ring()
    call.press(LANGUAGE_KEYS["en"])
    topic_url = call.gather().attrib["action"]
    call.press(TOPIC_KEYS["health"])
    assert call.last.find("Enqueue") is not None and _stage(db, call) == "queued"

    call.follow(topic_url, Digits=TOPIC_KEYS["health"])  # the retry

    assert call.last.find("Enqueue") is not None
    assert _stage(db, call) == "queued"


def _stage(db, call) -> str:
    db.expire_all()
    return db.scalar(select(Call.stage).where(Call.call_sid == call.call_sid))
