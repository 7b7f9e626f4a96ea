"""The expected wait a queued caller hears: nothing rather than something wrong (issue 17: a caller
at number 1 was told "about 30 minutes", with 8 consultants free, from one answer in 30 minutes).
It needs [queue] estimate_min_answers answers of the queue in the last 30 minutes (3 by default),
and agrees with the consultants free who may take the caller now: with as many as the caller's
place, about a minute; with fewer, only the callers ahead that they leave count. Driven through
the signed webhooks."""
from __future__ import annotations

from datetime import timedelta

import pytest

import routing
from hotline.models import utcnow
from tests.conftest import config_with
from tests.support.helpers import add_consultant
from tests.support.journeys import BURGAS_NUMBER, prompt, route, texts
from tests.support.queueing import enqueued, entry_of, wait_turn


def _answered(db, twilio, count: int, **call) -> None:
    """`count` callers of en-health answered from the queue in the last 30 minutes."""
    now = utcnow()
    for n in range(count):
        answered = route(twilio, "en", "health", **call)
        assert routing.mark_bridged(db, entry_of(db, answered).id, now - timedelta(minutes=2 + 5 * n))


def _heard(twilio, **call) -> list[str]:
    """What a new caller of en-health hears on their first turn of the wait."""
    caller = route(twilio, "en", "health", **call)
    return texts(wait_turn(caller, enqueued(caller)))


def _free_now(db, consultants) -> None:
    """These consultants have just become free; the pairing jobs for them have not run yet."""
    for staff in consultants:
        staff.status = "available"
    db.commit()


def test_one_answer_in_half_an_hour_is_no_estimate(app, db, twilio, twilio_api):
    add_consultant(app, db, "On a call", languages=["en"], topics=["health"], status="busy")
    _answered(db, twilio, 1)
    assert _heard(twilio) == [prompt(app, "en", "queue_position", position=1)]


def test_free_consultants_who_may_take_the_caller_mean_about_a_minute(app, db, twilio, twilio_api):
    """Three answers in 30 minutes would say 10 minutes for number 1; eight consultants who may take
    the caller are free now."""
    eight = [add_consultant(app, db, f"Consultant {n}", languages=["en"], topics=["health"], status="busy")
             for n in range(8)]
    _answered(db, twilio, 3)
    caller = route(twilio, "en", "health")
    enqueue = enqueued(caller)
    _free_now(db, eight)
    assert texts(wait_turn(caller, enqueue)) == [prompt(app, "en", "queue_position", position=1),
                                                 prompt(app, "en", "queue_wait_short")]


def test_free_consultants_who_may_not_take_the_caller_change_nothing(app, db, twilio, twilio_api):
    """Eight free in Sofia, who may not take a Burgas caller before other_office_after_seconds:
    number 1 expects one answer's time, 10 minutes."""
    eight = [add_consultant(app, db, f"Sofia {n}", languages=["en"], topics=["health"], office="sofia",
                            status="busy") for n in range(8)]
    _answered(db, twilio, 3, called=BURGAS_NUMBER)
    caller = route(twilio, "en", "health", called=BURGAS_NUMBER)
    enqueue = enqueued(caller)
    _free_now(db, eight)
    assert texts(wait_turn(caller, enqueue))[1] == "Your expected wait is about 10 minutes."


def test_the_callers_ahead_that_free_consultants_leave_are_what_the_estimate_counts(app, db, twilio,
                                                                                   twilio_api):
    """Number 4 with two who may take them free: two callers' worth of the answer rate (one answer
    per 10 minutes), 20 minutes, not 40."""
    two = [add_consultant(app, db, f"Consultant {n}", languages=["en"], topics=["health"], status="busy")
           for n in range(2)]
    _answered(db, twilio, 3)
    ahead = [route(twilio, "en", "health") for _ in range(3)]
    assert all(enqueued(call) is not None for call in ahead)
    caller = route(twilio, "en", "health")
    enqueue = enqueued(caller)
    _free_now(db, two)
    assert texts(wait_turn(caller, enqueue)) == [prompt(app, "en", "queue_position", position=4),
                                                 "Your expected wait is about 20 minutes."]


class TestTheMinimumIsConfigured:
    @pytest.fixture
    def app_config(self, app_config, tmp_path):
        return {**app_config, "HOTLINE_CONFIG": config_with(tmp_path, "[queue]\nestimate_min_answers = 1")}

    def test_one_answer_is_enough_where_the_configuration_says_so(self, app, db, twilio, twilio_api):
        add_consultant(app, db, "On a call", languages=["en"], topics=["health"], status="busy")
        _answered(db, twilio, 1)
        assert _heard(twilio)[1] == "Your expected wait is about 30 minutes."
