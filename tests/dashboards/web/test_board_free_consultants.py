"""The board's "consultants free" beside a queue, and the live queues' available_consultants,
count only consultants who may take a caller of that queue now, by the rule routing's pick
follows (issue 17: "consultants free: 1" stood beside a caller for minutes while that consultant,
of the other office, could not yet be rung for them). A caller queued through the signed
webhooks; the clock set as the queue tests set it."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from hotline.models import utcnow
from tests.dashboards.web.test_board import live, row_of
from tests.routing.test_widening_on_time import _sweep
from tests.support.clock import set_clock
from tests.support.helpers import add_consultant, add_staff_with_token
from tests.support.journeys import BURGAS_NUMBER, route
from tests.support.queueing import enqueued, run_jobs, rung


@pytest.fixture(autouse=True)
def _languages_on_duty(languages_on_duty):
    return languages_on_duty


@pytest.fixture(autouse=True)
def _fragment_not_shared(monkeypatch):
    """Each poll renders afresh (as in tests/dashboards/web/test_board.py)."""
    from dashboards.web import board_views

    monkeypatch.setattr(board_views, "FRAGMENT_CACHE_SECONDS", 0)


@pytest.fixture
def supervisor(app, db, web):
    from tests.dashboards.web.conftest import add_person, log_in

    person = add_person(app, db, "Desislava", "supervisor")
    assert log_in(web, "Desislava").status_code == 302
    return person


def _at(monkeypatch, moment) -> None:
    """The hotline's clock (the queue's, the board's and the API's) at `moment`."""
    set_clock(monkeypatch, moment)


def _free_beside(web, office: str) -> int:
    """The "consultants free" cell of the queue row of `office` (the last cell of the row)."""
    return int(re.findall(r"<td>(\d+)</td>", row_of(live(web), office))[-1])


def _api_free(client, token: str) -> list[int]:
    queues = client.get("/api/queues", headers={"Authorization": f"Bearer {token}"}).get_json()["queues"]
    return [queue["available_consultants"] for queue in queues]


def test_free_beside_a_queue_counts_whom_routing_may_ring_for_its_callers_now(
        app, db, web, client, twilio, twilio_api, supervisor, monkeypatch):
    add_consultant(app, db, "Free in Sofia", languages=["en"], topics=["health"], office="sofia")
    add_consultant(app, db, "Social in Burgas", languages=["en"], topics=["social"], office="burgas")
    add_consultant(app, db, "Busy in Burgas", languages=["en"], topics=["health"], office="burgas",
                   status="busy")
    _, token = add_staff_with_token(app, db, "Supervisor")
    call = route(twilio, "en", "health", called=BURGAS_NUMBER)
    enqueued(call)
    run_jobs(app)
    start = utcnow()

    _at(monkeypatch, start + timedelta(seconds=10))
    assert _free_beside(web, "burgas") == 0  # Sofia's is not rung for a Burgas caller yet
    assert _api_free(client, token) == [0]

    _at(monkeypatch, start + timedelta(seconds=130))  # any topic in English, still Burgas only
    assert _free_beside(web, "burgas") == 1
    assert _api_free(client, token) == [1]

    _at(monkeypatch, start + timedelta(seconds=185))  # the other office too
    assert _free_beside(web, "burgas") == 2
    assert _api_free(client, token) == [2]
    _sweep(app)
    assert len(rung(twilio, twilio_api)) == 1  # and routing does ring one of them


def test_free_beside_a_queue_counts_a_consultant_of_an_agreed_language_on_another_topic(
        app, db, web, client, twilio, twilio_api, supervisor, languages_on_duty):
    """A Farsi caller, Farsi having nobody on duty, agreed to English or Bulgarian before the topic
    menu: routing rings an English consultant of any topic for them at once (issue 17: the board said
    0 beside them while such a consultant was free)."""
    from tests.routing.test_agreed_language_takers import _agreed_farsi_social, _unstaffed

    _unstaffed(db, languages_on_duty, "fa")
    maria = add_consultant(app, db, "Maria", languages=["en"], topics=["health"], status="busy")
    _, token = add_staff_with_token(app, db, "Supervisor")
    enqueued(_agreed_farsi_social(twilio))
    run_jobs(app)
    assert _free_beside(web, "sofia") == 0 and _api_free(client, token) == [0]
    maria.status = "available"  # her own pairing job lost
    db.commit()
    assert _free_beside(web, "sofia") == 1
    assert _api_free(client, token) == [1]
