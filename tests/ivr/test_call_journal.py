"""Each step of a call is journalled (CallEvent rows, in order) and the call ends in one
consultation record that says who took it, about what, and for how long."""
from __future__ import annotations

from tests.support.helpers import add_consultant
from tests.support.journeys import answer_and_press, hang_up, journal, record_of, route, stored_call


def test_the_journal_of_an_answered_call(app, db, twilio):
    maria = add_consultant(app, db, "Maria", languages=["tr"], topics=["education"])
    call = route(twilio, "tr", "education")
    answer_and_press(call, "1")
    call.dial_ends("completed", duration=120, bridged=True)
    hang_up(call, duration=150)
    assert journal(db, call) == [
        ("incoming", "sofia", None), ("language", "tr", None), ("topic", "education", None),
        ("offered", None, maria.id), ("accepted", None, maria.id), ("ended", "answered", maria.id),
    ]
    record = record_of(db, call)
    assert (record.channel, record.office_code, record.language_code, record.topic_code, record.consultant_id,
            record.outcome) == ("phone", "sofia", "tr", "education", maria.id, "answered")
    stored = stored_call(db, call)
    assert record.duration_seconds == stored.talk_seconds and stored.duration_seconds == 150


def test_the_journal_of_a_call_that_needed_a_second_consultant_then_waited(app, db, twilio):
    first = add_consultant(app, db, "First", idle_minutes=20)
    second = add_consultant(app, db, "Second", idle_minutes=5)
    call = route(twilio)
    call.dial_ends("no-answer")
    answer_and_press(call, "2")
    call.dial_ends("completed")  # nobody else: the caller is queued
    hang_up(call)
    assert [event for event in journal(db, call) if event[0] not in ("incoming", "language", "topic")] == [
        ("offered", None, first.id), ("not_accepted", "no-answer", first.id),
        ("offered", None, second.id), ("declined", None, second.id), ("not_accepted", "completed", second.id),
        ("queued", "en-health", None), ("abandoned", "queued", None), ("ended", "abandoned", None),
    ]
    assert record_of(db, call).outcome == "abandoned"
