"""Reporting days follow each office's own time zone: here Burgas is moved to New York (UTC-4 in
March) while Sofia keeps Europe/Sofia (UTC+2), so one calendar day covers different instants."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from dashboards import callback_queries, days, reports
from hotline.models import QueueEntry
from tests.conftest import config_with, services_of
from tests.dashboards.api.test_api import add_record, bearer
from tests.dashboards.api.test_callbacks_api import booked
from tests.support.helpers import add_staff_with_token

SOFIA, NEW_YORK = ZoneInfo("Europe/Sofia"), ZoneInfo("America/New_York")
DAY = date(2026, 3, 10)
# Each office's day, and instants just outside it that fall on DAY in the other office's zone.
ON_THE_DAY = {"sofia": datetime(2026, 3, 10, 23, 30, tzinfo=SOFIA),  # 17:30 in New York
              "burgas": datetime(2026, 3, 10, 23, 30, tzinfo=NEW_YORK)}  # 05:30 on the 11th in Sofia
OFF_THE_DAY = {"sofia": datetime(2026, 3, 11, 0, 30, tzinfo=SOFIA),  # 18:30 on the 10th in New York
               "burgas": datetime(2026, 3, 9, 23, 30, tzinfo=NEW_YORK)}  # 05:30 on the 10th in Sofia


@pytest.fixture
def app_config(app_config, tmp_path):
    return {**app_config, "HOTLINE_CONFIG": config_with(
        tmp_path, '[offices.burgas]\ntimezone = "America/New_York"\n', base=None)}


@pytest.fixture
def supervisor(app, db) -> str:
    return add_staff_with_token(app, db, "Desislava", role="supervisor")[1]


def test_consultations_of_a_day_are_each_offices_day(client, db, supervisor):
    for n, (office, at) in enumerate([*ON_THE_DAY.items(), *OFF_THE_DAY.items()]):
        add_record(db, at, call_sid=f"CAtz{n:03d}", office=office)
    response = client.get(f"/api/consultations?from={DAY}&to={DAY}", headers=bearer(supervisor))
    listed = {(record["office"], datetime.fromisoformat(record["started_at"]))
              for record in response.get_json()["consultations"]}
    assert listed == set(ON_THE_DAY.items())


def test_callbacks_due_on_a_day_are_each_offices_day(client, db, supervisor):
    for office, at in [*ON_THE_DAY.items(), *OFF_THE_DAY.items()]:
        booked(db, office=office, due_at=at)
    response = client.get(f"/api/callbacks?from={DAY}&to={DAY}", headers=bearer(supervisor))
    listed = {(c["office"], datetime.fromisoformat(c["due_at"])) for c in response.get_json()["callbacks"]}
    assert listed == set(ON_THE_DAY.items())


def test_callbacks_closed_today_are_each_offices_today(app, db):
    now = datetime(2026, 3, 11, 2, 0, tzinfo=NEW_YORK)  # the 11th in New York, 08:00 on the 11th in Sofia
    booked(db, office="burgas", state="completed", closed_at=datetime(2026, 3, 10, 23, 0, tzinfo=NEW_YORK))
    booked(db, office="burgas", state="completed", closed_at=datetime(2026, 3, 11, 0, 30, tzinfo=NEW_YORK))
    booked(db, office="sofia", state="completed", closed_at=datetime(2026, 3, 11, 0, 30, tzinfo=SOFIA))
    catalogue = services_of(app).catalogue
    assert callback_queries.summary(db, catalogue, now)["completed_today"] == 2
    burgas = callback_queries.summary(db, catalogue, now, office="burgas")
    assert (burgas["completed_today"], burgas["day"], burgas["time_zone"]) == \
        (1, "2026-03-11", "America/New_York")


def test_queue_reports_count_each_offices_day(app, db):
    from tests.dashboards.api.test_queue_reports import add_call

    for office, at in [*ON_THE_DAY.items(), *OFF_THE_DAY.items()]:
        call = add_call(db, at)
        call.office_code = office
        db.add(QueueEntry(call_id=call.id, call_sid=call.call_sid, language_code="en", topic_code="health",
                          office_code=office, first_rang_at=at, entered_at=at, state="bridged",
                          ended_at=at + timedelta(seconds=30), result="bridged"))
        db.commit()
    period = days.local_days(services_of(app).catalogue, DAY, DAY)
    assert reports.queue_totals(db, period, 60)["entered"] == 2
    assert reports.call_funnel(db, period)["calls"] == 2
