"""How many SQL statements GET /api/consultations costs: the same for 5 records as for 50 (each
record's call is loaded with the records, not one query per record)."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

from sqlalchemy import event

from tests.conftest import services_of
from tests.dashboards.api.test_api import add_record, bearer
from tests.support.helpers import add_staff_with_token


@contextmanager
def counting_statements(app):
    """Count every statement the app's engine sends while the block runs: yields a list that
    holds one SQL string per statement."""
    engine = services_of(app).db.engine
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def statements_to_list(app, client, token: str, records: int) -> int:
    with counting_statements(app) as statements:
        response = client.get(f"/api/consultations?limit={records}", headers=bearer(token))
    assert response.status_code == 200, response.get_data(as_text=True)
    listed = response.get_json()["consultations"]
    assert len(listed) == records and all(item["call_sid"] for item in listed)
    return len(statements)


def test_listing_consultations_costs_the_same_statements_for_5_or_50_records(app, db, client):
    _, token = add_staff_with_token(app, db, "Desislava", role="supervisor")
    start = datetime(2026, 3, 10, 8, 0, tzinfo=timezone.utc)
    for n in range(50):
        add_record(db, start + timedelta(minutes=n), call_sid=f"CAstmt{n:05d}")
    few = statements_to_list(app, client, token, 5)
    many = statements_to_list(app, client, token, 50)
    assert many == few, f"{few} statements for 5 records, {many} for 50"
