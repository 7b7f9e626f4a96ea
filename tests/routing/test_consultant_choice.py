"""Who is rung for a call, driven through whole calls: the language x topic skill, the called
number's office first, then the longest idle; anyone not free right now is skipped."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from hotline.models import StaffSkill, utcnow
from tests.support.helpers import add_consultant
from tests.support.journeys import BURGAS_NUMBER, SOFIA_NUMBER, dialled, journal, offered_to, route, status_of


def _skills(app, db, name: str, pairs: list[tuple[str, str]], **kwargs):
    """A consultant with exactly these (language, topic) skills, not their cross product."""
    (first_lang, first_topic), *rest = pairs
    staff = add_consultant(app, db, name, languages=[first_lang], topics=[first_topic], **kwargs)
    staff.skills.extend(StaffSkill(language_code=lang, topic_code=topic) for lang, topic in rest)
    db.commit()
    return staff


def _expect_offered(db, call, staff) -> None:
    assert dialled(call) == staff.phone
    assert status_of(db, staff) == ("offered", call.call_sid)
    assert offered_to(db, call) == [staff.id]


def _expect_nobody(db, call) -> None:
    """Nobody is rung: the caller waits in the queue of their language and topic."""
    assert dialled(call) is None
    assert call.last.find("Enqueue") is not None
    assert [kind for kind, _, _ in journal(db, call)][-1] == "queued"


def test_a_consultant_with_the_language_and_topic_is_rung(app, db, twilio):
    maria = add_consultant(app, db, "Maria", languages=["bg", "ru"], topics=["health", "social"])
    _expect_offered(db, route(twilio, "ru", "social"), maria)


def test_the_dial_names_the_whisper_and_the_hotline_number(app, db, twilio):
    maria = add_consultant(app, db, "Maria", languages=["en"], topics=["health"], office="burgas")
    call = route(twilio, "en", "health", called=BURGAS_NUMBER)
    dial = call.last.find("Dial")
    assert dial.attrib["callerId"] == BURGAS_NUMBER
    assert dial.attrib["action"] == "https://hotline.example.org/ivr/dial-result"
    whisper = dial.find("Number").attrib["url"]
    assert whisper.startswith("https://hotline.example.org/ivr/whisper?")
    assert f"call={call.call_sid}" in whisper and f"staff={maria.id}" in whisper


@pytest.mark.parametrize("languages, topics", [(["bg"], ["health"]), (["en"], ["education"]),
                                               (["ar"], ["other"])])
def test_a_consultant_lacking_the_language_or_the_topic_is_never_rung(app, db, twilio, languages, topics):
    other = add_consultant(app, db, "Petar", languages=languages, topics=topics)
    call = route(twilio, "en", "health")
    _expect_nobody(db, call)
    assert status_of(db, other) == ("available", None)


def test_language_and_topic_must_be_one_skill(app, db, twilio):
    # Bulgarian health and English education, but not English health.
    split = _skills(app, db, "Split", [("bg", "health"), ("en", "education")], idle_minutes=60)
    fitting = add_consultant(app, db, "Fitting", languages=["en"], topics=["health"])
    call = route(twilio, "en", "health")
    _expect_offered(db, call, fitting)
    assert status_of(db, split) == ("available", None)


def test_the_longest_idle_consultant_is_rung_first(app, db, twilio):
    add_consultant(app, db, "Recent", idle_minutes=5)
    longest = add_consultant(app, db, "Longest", idle_minutes=45)
    add_consultant(app, db, "Middle", idle_minutes=20)
    _expect_offered(db, route(twilio), longest)


@pytest.mark.parametrize("called, office", [(BURGAS_NUMBER, "burgas"), (SOFIA_NUMBER, "sofia")])
def test_the_called_numbers_office_comes_before_a_longer_idle_one(app, db, twilio, called, office):
    other = "sofia" if office == "burgas" else "burgas"
    add_consultant(app, db, f"Far {other}", office=other, idle_minutes=120)
    local = add_consultant(app, db, f"Local {office}", office=office, idle_minutes=1)
    _expect_offered(db, route(twilio, called=called), local)


def test_nobody_local_free_queues_the_caller_for_their_office_first(app, db, twilio):
    """Other offices' consultants come in after queue.other_office_after_seconds (test_queue_widening.py)."""
    add_consultant(app, db, "Busy in Burgas", office="burgas", status="busy", idle_minutes=60)
    sofia = add_consultant(app, db, "Free in Sofia", office="sofia")
    call = route(twilio, called=BURGAS_NUMBER)
    _expect_nobody(db, call)
    assert status_of(db, sofia) == ("available", None)


def test_with_no_office_rule_the_other_office_takes_the_call_when_nobody_local_is_free(
        app, db, twilio, monkeypatch):
    monkeypatch.setattr(app.extensions["hotline"].catalogue, "queue", replace(
        app.extensions["hotline"].catalogue.queue, other_office_after=timedelta(0)))
    add_consultant(app, db, "Busy in Burgas", office="burgas", status="busy", idle_minutes=60)
    sofia = add_consultant(app, db, "Free in Sofia", office="sofia")
    _expect_offered(db, route(twilio, called=BURGAS_NUMBER), sofia)


@pytest.mark.parametrize("status", ["break", "offline", "busy", "offered"])
def test_consultants_not_available_are_skipped(app, db, twilio, status):
    skipped = add_consultant(app, db, "Skipped", status=status, idle_minutes=90)
    free = add_consultant(app, db, "Free", idle_minutes=1)
    _expect_offered(db, route(twilio), free)
    assert status_of(db, skipped)[0] == status


def _wrapping_up(app, db, name: str, seconds_left: int):
    staff = add_consultant(app, db, name, status="wrap_up", idle_minutes=90)
    staff.wrap_up_until = utcnow() + timedelta(seconds=seconds_left)
    db.commit()
    return staff


def test_a_consultant_in_wrap_up_is_skipped_until_it_runs_out(app, db, twilio):
    _wrapping_up(app, db, "Writing", seconds_left=45)
    free = add_consultant(app, db, "Free", idle_minutes=1)
    _expect_offered(db, route(twilio), free)


def test_an_expired_wrap_up_counts_as_available(app, db, twilio):
    done = _wrapping_up(app, db, "Done writing", seconds_left=-5)
    add_consultant(app, db, "Free", idle_minutes=1)
    _expect_offered(db, route(twilio), done)


def test_an_inactive_consultant_or_one_without_a_phone_is_skipped(app, db, twilio):
    gone = add_consultant(app, db, "Gone", idle_minutes=90)
    gone.active = False
    phoneless = add_consultant(app, db, "Phoneless", idle_minutes=80)
    phoneless.phone = None
    db.commit()
    free = add_consultant(app, db, "Free", idle_minutes=1)
    _expect_offered(db, route(twilio), free)


def test_two_calls_get_two_consultants(app, db, twilio):
    first = add_consultant(app, db, "First", idle_minutes=30)
    second = add_consultant(app, db, "Second", idle_minutes=10)
    call_a, call_b = route(twilio), route(twilio)
    assert (dialled(call_a), dialled(call_b)) == (first.phone, second.phone)
    assert status_of(db, first) == ("offered", call_a.call_sid)
    assert status_of(db, second) == ("offered", call_b.call_sid)


def test_an_offer_left_ringing_for_minutes_is_given_up(app, db, twilio):
    stuck = add_consultant(app, db, "Stuck", status="offered", idle_minutes=90)
    stuck.status_since = utcnow() - timedelta(minutes=10)  # its Dial result was never received
    stuck.current_call_sid = "CA-lost"
    db.commit()
    _expect_offered(db, route(twilio), stuck)
