"""Queue reports (GET /api/reports/queues): per queue figures and service level, the call funnel,
abandonment by stage, Sofia days, and the checks of the query parameters."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from itertools import count
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event

from dashboards import days, reports
from hotline import accounts
from hotline.models import Call, CallEvent, QueueEntry, utcnow
from tests.conftest import services_of
from tests.dashboards.api.test_api import assert_json_error, bearer
from tests.support.helpers import add_consultant, add_staff_with_token

SOFIA = ZoneInfo("Europe/Sofia")
DAY = date(2026, 3, 10)
NINE = datetime(2026, 3, 10, 9, 0, 0, 250000, tzinfo=SOFIA)  # with microseconds, as real times have
_sids = count(1)


def add_call(db, started_at: datetime, *, language: str | None = "en", topic: str | None = "health",
             events: tuple = (), answered: bool = False) -> Call:
    """A call with its journal: `events` are kinds, or (kind, detail) pairs."""
    call = Call(call_sid=f"CArep{next(_sids):05d}", caller_number="+359888777000", office_code="sofia",
                language_code=language, topic_code=topic, started_at=started_at,
                answered_at=started_at + timedelta(seconds=50) if answered else None)
    for offset, item in enumerate(events):
        kind, detail = item if isinstance(item, tuple) else (item, None)
        call.events.append(CallEvent(kind=kind, detail=detail, at=started_at + timedelta(seconds=offset)))
    db.add(call)
    db.commit()
    return call


def add_entry(db, language: str, topic: str, entered_at: datetime, state: str = "waiting",
              waited: float | None = None) -> QueueEntry:
    """A queue entry that entered at `entered_at` and, unless still waiting, ended `waited` s later.
    Its call starts at the same moment, so that calls and entries fall on the same days."""
    call = add_call(db, entered_at, language=language, topic=topic)
    entry = QueueEntry(call_id=call.id, call_sid=call.call_sid, language_code=language, topic_code=topic,
                       office_code="sofia", first_rang_at=call.started_at, entered_at=entered_at, state=state,
                       ended_at=None if waited is None else entered_at + timedelta(seconds=waited),
                       result={"bridged": "bridged", "abandoned": "hangup", "left": "leave"}.get(state))
    db.add(entry)
    db.commit()
    return entry


@pytest.fixture
def supervisor(app, db) -> str:
    return add_staff_with_token(app, db, "Desislava", role="supervisor")[1]


@pytest.fixture
def a_day_of_queues(db):
    """Callers of March 10th in two queues, and callers of the days around it."""
    add_entry(db, "en", "health", NINE, "bridged", 30)
    add_entry(db, "en", "health", NINE, "bridged", 60)  # exactly the target: within it
    add_entry(db, "en", "health", NINE, "bridged", 60.001)
    add_entry(db, "en", "health", NINE, "abandoned", 20)
    add_entry(db, "en", "health", NINE, "abandoned", 40)
    add_entry(db, "en", "health", NINE, "left", 100)
    add_entry(db, "en", "health", NINE)  # still waiting
    add_entry(db, "ar", "residence", NINE, "bridged", 5)
    late = datetime(2026, 3, 10, 23, 59, 50, tzinfo=SOFIA)
    add_entry(db, "ar", "residence", late, "abandoned", 600)  # entered on the 10th, ended on the 11th
    add_entry(db, "ar", "residence", datetime(2026, 3, 9, 23, 59, 59, tzinfo=SOFIA), "bridged", 1)
    add_entry(db, "ru", "social", datetime(2026, 3, 11, 0, 0, tzinfo=SOFIA), "bridged", 1)


def report_of(client, token: str, query: str) -> dict:
    response = client.get(f"/api/reports/queues?{query}", headers=bearer(token))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


# --- per queue ----------------------------------------------------------------------------------

def test_queue_figures_of_a_day(app, db, a_day_of_queues):
    period = days.local_days(services_of(app).catalogue, DAY, DAY)
    assert reports.queue_statistics(db, period, 60) == [
        {"language": "ar", "topic": "residence", "entered": 2, "bridged": 1, "abandoned": 1, "left": 0,
         "in_queue": 0, "bridged_within": 1, "service_level": 0.5, "average_wait_seconds": 302.5,
         "longest_wait_seconds": 600.0, "abandoned_after_seconds": 600.0},
        {"language": "en", "topic": "health", "entered": 7, "bridged": 3, "abandoned": 2, "left": 1,
         "in_queue": 1, "bridged_within": 2, "service_level": 0.2857,
         "average_wait_seconds": 51.7,  # (30 + 60 + 60.001 + 20 + 40 + 100) / 6; the waiting caller not
         "longest_wait_seconds": 100.0, "abandoned_after_seconds": 30.0},
    ]
    assert reports.queue_totals(db, period, 60) == {
        "entered": 9, "bridged": 4, "abandoned": 3, "left": 1, "in_queue": 1, "bridged_within": 3,
        "service_level": 0.3333, "average_wait_seconds": 114.4, "longest_wait_seconds": 600.0,
        "abandoned_after_seconds": 220.0}


def test_service_level_follows_the_target(app, db, a_day_of_queues):
    period = days.local_days(services_of(app).catalogue, DAY, DAY)

    def within(seconds: int) -> dict:
        return {q["language"]: q["bridged_within"] for q in reports.queue_statistics(db, period, seconds)}

    assert within(4) == {"ar": 0, "en": 0}
    assert within(5) == {"ar": 1, "en": 0}
    assert within(30) == {"ar": 1, "en": 1}
    assert within(59) == {"ar": 1, "en": 1}
    assert within(60) == {"ar": 1, "en": 2}
    assert within(61) == {"ar": 1, "en": 3}


def test_an_empty_period(app, db, a_day_of_queues):
    period = days.local_days(services_of(app).catalogue, date(2026, 5, 1), date(2026, 5, 31))
    assert reports.queue_statistics(db, period, 60) == []
    assert reports.queue_totals(db, period, 60) == {
        "entered": 0, "bridged": 0, "abandoned": 0, "left": 0, "in_queue": 0, "bridged_within": 0,
        "service_level": None, "average_wait_seconds": None, "longest_wait_seconds": None,
        "abandoned_after_seconds": None}
    assert reports.call_funnel(db, period) == {"calls": 0, "reached_topic_menu": 0, "chose_topic": 0,
                                                   "queued": 0, "offered": 0, "answered": 0}
    assert reports.abandoned_by_stage(db, period) == {}


def test_days_are_sofia_days_across_the_change_to_summer_time(client, db, supervisor):
    # Summer time began at 03:00 on 29 March 2026: that day has 23 hours.
    for at in (datetime(2026, 3, 28, 23, 59, 59, tzinfo=SOFIA), datetime(2026, 3, 29, 0, 0, tzinfo=SOFIA),
               datetime(2026, 3, 29, 23, 59, 59, tzinfo=SOFIA), datetime(2026, 3, 30, 0, 0, tzinfo=SOFIA)):
        add_entry(db, "en", "health", at, "bridged", 10)
    assert report_of(client, supervisor, "from=2026-03-29&to=2026-03-29")["totals"]["entered"] == 2
    assert report_of(client, supervisor, "from=2026-03-28&to=2026-03-29")["totals"]["entered"] == 3
    assert report_of(client, supervisor, "from=2026-03-29&to=2026-03-30")["totals"]["entered"] == 3


# --- the funnel and abandonment by stage ---------------------------------------------------------

@pytest.fixture
def a_day_of_calls(db):
    chosen = ("incoming", "language", "topic")
    queued = (*chosen, ("queued", "en-health"))
    add_call(db, NINE, language=None, topic=None, events=("incoming", ("abandoned", "language_menu")))
    add_call(db, NINE, topic=None, events=("incoming", "language", ("abandoned", "topic_menu")))
    # A retried status webhook journalled this hangup twice: the call still counts once.
    add_call(db, NINE, events=(*queued, ("abandoned", "queued"), ("abandoned", "queued")))
    add_call(db, NINE, events=(*queued, "offered", "declined", "offered", ("abandoned", "ringing")))
    add_call(db, NINE, events=(*chosen, "offered", "accepted", "ended"), answered=True)
    add_call(db, NINE, events=(*queued, "offered", "accepted", ("bridged", "42"), "ended"), answered=True)
    add_call(db, NINE, events=(*chosen, "closed", "ended"))
    add_call(db, NINE, events=("incoming", ("abandoned", None)))
    # The day before, ending after midnight: not a call of the 10th.
    add_call(db, datetime(2026, 3, 9, 23, 59, tzinfo=SOFIA),
             events=("incoming", "language", "topic", "queued", "offered", ("abandoned", "ringing")))


def test_funnel_of_a_day(app, db, a_day_of_calls):
    period = days.local_days(services_of(app).catalogue, DAY, DAY)
    assert reports.call_funnel(db, period) == {
        "calls": 8, "reached_topic_menu": 6, "chose_topic": 5, "queued": 3, "offered": 3, "answered": 2}
    assert reports.abandoned_by_stage(db, period) == {
        "language_menu": 1, "topic_menu": 1, "queued": 1, "ringing": 1, "unknown": 1}


def test_report_queries_do_not_grow_with_the_calls(app, db, a_day_of_queues, a_day_of_calls):
    statements = []

    def counted(conn, cursor, statement, *args):
        statements.append(statement)

    engine = services_of(app).db.engine
    period = days.local_days(services_of(app).catalogue, DAY, DAY)
    event.listen(engine, "before_cursor_execute", counted)
    try:
        reports.queue_report(db, period, 60)
        few = len(statements)
        for _ in range(5):
            add_entry(db, "fa", "employment", NINE, "bridged", 15)
            add_call(db, NINE, events=("incoming", "language", "topic", ("abandoned", "topic_menu")))
        statements.clear()
        report = reports.queue_report(db, period, 60)
    finally:
        event.remove(engine, "before_cursor_execute", counted)
    assert len(statements) == few == 4
    assert report["totals"]["entered"] == 14 and report["abandoned_by_stage"]["topic_menu"] == 6


# --- the endpoint -------------------------------------------------------------------------------

def test_report_endpoint(client, db, supervisor, a_day_of_queues, a_day_of_calls):
    data = report_of(client, supervisor, "from=2026-03-10&to=2026-03-10&within=30")
    assert (data["from"], data["to"], data["within_seconds"], data["time_zone"]) == \
        ("2026-03-10", "2026-03-10", 30, "Europe/Sofia")
    assert [(q["language"], q["topic"], q["entered"], q["bridged_within"]) for q in data["queues"]] == \
        [("ar", "residence", 2, 1), ("en", "health", 7, 1)]
    assert data["totals"]["entered"] == 9 and data["totals"]["service_level"] == 0.2222
    # The funnel counts every call that started that day, queued or not (the queue callers' too).
    assert data["funnel"]["calls"] == 8 + 9 and data["funnel"]["answered"] == 2
    assert data["abandoned_by_stage"]["ringing"] == 1
    assert "777000" not in client.get("/api/reports/queues?from=2026-03-10", headers=bearer(supervisor)) \
        .get_data(as_text=True)


def test_the_period_defaults_to_today_and_within_to_a_minute(client, db, supervisor):
    now = utcnow()
    add_entry(db, "en", "health", now - timedelta(seconds=1), "bridged", 0.5)
    add_entry(db, "en", "health", now - timedelta(days=2), "bridged", 1)
    today = now.astimezone(SOFIA).date().isoformat()
    data = report_of(client, supervisor, "")
    assert (data["from"], data["to"], data["within_seconds"]) == (today, today, 60)
    assert data["totals"]["entered"] == 1
    two_days = (now.astimezone(SOFIA).date() - timedelta(days=2)).isoformat()
    assert report_of(client, supervisor, f"from={two_days}")["totals"]["entered"] == 2
    assert report_of(client, supervisor, f"to={two_days}")["from"] == two_days


def test_the_longest_period_is_366_days(client, supervisor):
    assert report_of(client, supervisor, "from=2028-01-01&to=2028-12-31")["totals"]["entered"] == 0
    assert report_of(client, supervisor, "from=2027-01-01&to=2028-01-01")["to"] == "2028-01-01"
    assert_json_error(client.get("/api/reports/queues?from=2027-01-01&to=2028-01-02",
                                 headers=bearer(supervisor)), 400)


@pytest.mark.parametrize("query", [
    "from=2026-13-01", "to=yesterday", "from=10.03.2026", "to=2026-02-30",
    "from=2026-03-11&to=2026-03-10", "from=2025-01-01&to=2026-12-31",
    "from=0001-01-01&to=0001-01-01", "from=9999-12-31&to=9999-12-31",
    "within=0", "within=-5", "within=1.5", "within=abc", "within=", "within=²", "within=86401",
    "within=" + "9" * 5000,
])
def test_bad_parameters_are_400_json(client, supervisor, query):
    assert_json_error(client.get(f"/api/reports/queues?{query}", headers=bearer(supervisor)), 400)


def test_the_shared_number_and_date_checks_also_guard_consultations(client, supervisor):
    # Before, int() raised on these and the API answered 500.
    for query in ("limit=²", "offset=²", "to=9999-12-31", "from=0001-01-01"):
        assert_json_error(client.get(f"/api/consultations?{query}", headers=bearer(supervisor)), 400)
    huge = "9" * 5000  # beyond what int() reads: taken as more than the maximum
    response = client.get(f"/api/consultations?limit={huge}&offset={huge}", headers=bearer(supervisor))
    assert response.status_code == 200 and response.get_json() == {"consultations": []}


def test_reports_are_for_supervisors_and_admins(app, client, db):
    consultant = accounts.issue_token(db, add_consultant(app, db, "Maria"))
    assert_json_error(client.get("/api/reports/queues", headers=bearer(consultant)), 403)
    _, admin = add_staff_with_token(app, db, "Admin", role="admin")
    assert client.get("/api/reports/queues", headers=bearer(admin)).status_code == 200
    assert_json_error(client.get("/api/reports/queues"), 401)
