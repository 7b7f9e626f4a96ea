"""A caller who agreed to English or Bulgarian may be taken by a consultant of that language on any
topic at once, whichever side makes the pick (README, "Queues": "the first free consultant will
take your call"). Issue 17: routing.takers.tiers asked for the caller's own topic in an agreed
language until widen_after, while routing.pick_next (a consultant becoming free) took any topic,
so a free consultant was left out of the board's count and the sweep yet rung at her next status
change. Driven through the signed webhooks; the clock set with tests.support.clock.set_clock."""
from __future__ import annotations

from datetime import timedelta

import pytest

import routing
from hotline.models import Call, utcnow
from routing import pick_next, queues
from routing.pick_next import OfficeRule
from routing.takers import PickRules, free_takers
from tests.conftest import services_of
from tests.routing.test_widening_on_time import _sweep
from tests.support.helpers import add_consultant, new_call
from tests.support.journeys import LANGUAGE_KEYS, TOPIC_KEYS, dialled, journal, status_of
from tests.support.queueing import enqueued, run_jobs, rung


def _unstaffed(db, languages_on_duty, code: str) -> None:
    """Nobody on duty speaks `code`: the caller is offered English or Bulgarian before the topics."""
    for staff in languages_on_duty:
        if staff.skills[0].language_code == code:
            staff.status = "offline"
    db.commit()


def _agreed_farsi_social(twilio):
    """A Farsi caller, Farsi unstaffed, who presses 3 for English or Bulgarian, then "social"."""
    call = new_call(twilio)
    call.ring()
    call.press(LANGUAGE_KEYS["fa"])
    call.press("3")
    call.press(TOPIC_KEYS["social"])
    return call


def test_a_free_consultant_of_an_agreed_language_and_another_topic_is_rung_straight_away(
        app, db, twilio, twilio_api, languages_on_duty):
    _unstaffed(db, languages_on_duty, "fa")
    maria = add_consultant(app, db, "Maria", languages=["en"], topics=["health"])
    call = _agreed_farsi_social(twilio)
    assert ("languages_accepted", "en,bg", None) in journal(db, call)
    assert dialled(call) == maria.phone


def test_the_sweep_rings_a_free_consultant_of_an_agreed_language_and_another_topic(
        app, db, twilio, twilio_api, languages_on_duty):
    """Maria was busy when the caller queued; her wrap-up ran out with no job of hers (lost). The
    sweep rings her, as the pick made at her next status change would."""
    _unstaffed(db, languages_on_duty, "fa")
    maria = add_consultant(app, db, "Maria", languages=["en"], topics=["health"], status="busy")
    call = _agreed_farsi_social(twilio)
    enqueued(call)
    run_jobs(app)
    assert rung(twilio, twilio_api) == []
    services_of(app).queue().empty()
    maria.status = "available"
    db.commit()
    _sweep(app)
    [leg] = rung(twilio, twilio_api)
    assert leg.staff_id == maria.id
    assert status_of(db, maria) == ("offered", call.call_sid)


# (caller language, topic, accepts, office, seconds in queue), consultant (languages, topics, office)
_CASES = [
    (("fa", "social", "en", "sofia", 0), (["en"], ["health"], "sofia")),
    (("fa", "social", "en,bg", "sofia", 0), (["bg"], ["social"], "sofia")),
    (("fa", "social", "bg", "sofia", 0), (["en"], ["health"], "sofia")),
    (("fa", "social", None, "sofia", 0), (["en"], ["social"], "sofia")),
    (("fa", "social", None, "sofia", 0), (["fa"], ["health"], "sofia")),
    (("fa", "social", None, "sofia", 150), (["fa"], ["health"], "sofia")),
    (("fa", "social", None, "sofia", 0), (["fa"], ["social"], "sofia")),
    (("en", "health", None, "sofia", 0), (["en"], ["health"], "burgas")),
    (("en", "health", None, "sofia", 200), (["en"], ["health"], "burgas")),
    (("fa", "social", "en", "sofia", 0), (["en"], ["health"], "burgas")),
    (("fa", "social", "en", "sofia", 200), (["en"], ["health"], "burgas")),
    (("fa", "social", "en", "sofia", 150), (["en"], ["social"], "sofia")),
]


@pytest.mark.parametrize(("caller", "consultant"), _CASES)
def test_both_sides_of_the_pick_give_the_same_answer(app, db, caller, consultant):
    """next_caller_for (the consultant's side) picks the caller exactly when free_takers (the
    board, the sweep, the caller's side) lists the consultant, for every kind of tier."""
    language, topic, accepts, office, waited = caller
    now = utcnow().replace(microsecond=0)
    rules = PickRules(widen_after=timedelta(seconds=120),
                      office_rule=OfficeRule(timedelta(seconds=180), frozenset({"sofia", "burgas"})))
    languages, topics, staff_office = consultant
    staff = add_consultant(app, db, "Taker", languages=languages, topics=topics, office=staff_office)
    record = Call(call_sid="CAtable000001", office_code=office, language_code=language, topic_code=topic,
                  stage="queue", started_at=now - timedelta(seconds=waited + 30))
    db.add(record)
    db.commit()
    entry = queues.enqueue(db, record, now=now - timedelta(seconds=waited))
    if accepts:
        routing.accept_languages(db, entry.id, accepts.split(","))
        db.refresh(entry)
    picked = pick_next.next_caller_for(db, staff, now, rules.widen_after, rules.office_rule)
    takers = free_takers(db, [entry], now, rules)[entry.id]
    assert (picked is not None and picked.id == entry.id) == (staff.id in takers)
