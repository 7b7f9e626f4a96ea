"""Request bodies of the JSON API: whatever a client sends, the answer is a 4xx with a JSON error,
never a 500. A body must be JSON, sent as Content-Type: application/json (else 415), nested no
deeper than the parser can go, and its text valid Unicode without NUL (else 400)."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from tests.dashboards.api.test_api import add_record, assert_json_error, bearer
from tests.dashboards.api.test_callbacks_api import booked
from tests.dashboards.api.test_queues_api import queued
from tests.support.helpers import add_staff_with_token


@pytest.fixture
def supervisor(app, db):
    return add_staff_with_token(app, db, "Desislava", role="supervisor")


@pytest.fixture(params=["consultant_status", "consultation", "queue_entry", "callback"])
def endpoint(request, db, supervisor) -> tuple[str, str, str]:
    """(method, path, a valid JSON body) of each API call that reads a body, on a row that exists."""
    kind = request.param
    if kind == "consultant_status":
        return "put", f"/api/consultants/{supervisor[0].id}/status", '{"status": "break"}'
    if kind == "consultation":
        record = add_record(db, datetime(2026, 3, 10, 9, tzinfo=timezone.utc), call_sid="CAbodies")
        return "patch", f"/api/consultations/{record.id}", '{"notes": "fine"}'
    if kind == "queue_entry":
        return "patch", f"/api/queue-entries/{queued(db, minutes_ago=2).id}", '{"urgent": true}'
    return "patch", f"/api/callbacks/{booked(db).id}", '{"assigned_staff_id": null}'


def _send(client, token: str, endpoint, body: str, content_type: str | None = "application/json"):
    method, path, _ = endpoint
    headers = bearer(token) | ({"Content-Type": content_type} if content_type else {})
    return getattr(client, method)(path, data=body.encode("utf-8", "surrogatepass"), headers=headers)


def test_a_valid_body_is_taken(client, supervisor, endpoint):
    assert _send(client, supervisor[1], endpoint, endpoint[2]).status_code == 200


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x"])
def test_a_body_not_sent_as_json_is_415_saying_what_is_expected(client, supervisor, endpoint, content_type):
    error = assert_json_error(_send(client, supervisor[1], endpoint, endpoint[2], content_type), 415)
    assert "application/json" in error["error"]


@pytest.mark.parametrize("body", ["[" * 100_000 + "]" * 100_000, '{"a":' * 50_000 + "1" + "}" * 50_000])
def test_a_deeply_nested_body_is_400(client, supervisor, endpoint, body):
    assert_json_error(_send(client, supervisor[1], endpoint, body), 400)


@pytest.mark.parametrize("body", ['{"notes": "\\ud800"}', '{"notes": "a\\udfffb"}', '{"\\ud800": 1}',
                                  '{"status": "\\udc00"}', '{"notes": "a\\u0000b", "outcome": "x"}',
                                  '{"notes": ["\\ud800"]}', "not json", "", '"\\ud800"'])
def test_text_that_cannot_be_stored_or_read_is_400(client, db, supervisor, endpoint, body):
    assert_json_error(_send(client, supervisor[1], endpoint, body), 400)


def test_a_raw_lone_surrogate_in_the_body_is_400(client, supervisor, endpoint):
    # Not escaped: the bytes of a surrogate, which UTF-8 does not allow.
    assert_json_error(_send(client, supervisor[1], endpoint, '{"notes": "\ud800"}'), 400)
