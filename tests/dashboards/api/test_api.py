"""The staff JSON API: bearer tokens, consultants' status, calls, consultation records, personal data."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from hotline import accounts
from hotline.dev.twilio_stand_in import ConsultantLeg
from hotline.models import Call, ConsultationRecord, Staff, utcnow
from tests.support.helpers import STATUS_URL, add_consultant, add_staff_with_token, to_topic_menu

SOFIA_TZ = ZoneInfo("Europe/Sofia")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_json_error(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json, response.content_type
    body = response.get_json()
    assert isinstance(body.get("error"), str) and body["error"]
    return body


@pytest.fixture
def supervisor(app, db) -> tuple[Staff, str]:
    return add_staff_with_token(app, db, "Desislava", role="supervisor")


@pytest.fixture
def maria(app, db) -> tuple[Staff, str]:
    """A consultant with a phone (so calls reach her) and a token."""
    staff = add_consultant(app, db, "Maria", languages=["en", "bg"], topics=["health"], phone="+359888111222")
    return staff, accounts.issue_token(db, staff)


@pytest.fixture
def ivan(app, db) -> tuple[Staff, str]:
    """Another consultant, who handles none of Maria's calls."""
    staff = add_consultant(app, db, "Ivan", languages=["ru"], topics=["social"], office="burgas",
                           status="break", phone="+359888333444")
    return staff, accounts.issue_token(db, staff)


def answered_call(twilio, caller: str = "0888 123 456"):
    """A caller chooses English and health, the consultant accepts, talks, and the call ends."""
    call = to_topic_menu(twilio, caller=caller)
    call.press("3")
    leg = ConsultantLeg.from_dial(call)
    leg.answer()
    leg.press("1")
    call.dial_ends("completed", duration=240, bridged=True)
    assert call.hang_up(STATUS_URL, duration=260)[0] == 200
    return call


def add_record(db, started_at: datetime, *, call_sid: str | None = None, language: str = "en",
               topic: str = "health", office: str = "sofia", consultant: Staff | None = None,
               notes: str | None = None) -> ConsultationRecord:
    call_id = None
    if call_sid:
        call = Call(call_sid=call_sid, caller_number="+359888999000", office_code=office,
                    started_at=started_at, consultant_id=consultant and consultant.id)
        db.add(call)
        db.flush()
        call_id = call.id
    record = ConsultationRecord(call_id=call_id, language_code=language, topic_code=topic, office_code=office,
                                consultant_id=consultant and consultant.id, outcome="answered", notes=notes,
                                started_at=started_at)
    db.add(record)
    db.commit()
    return record


# --- authentication and errors ----------------------------------------------------------------

ENDPOINTS = [
    ("get", "/api/consultants"),
    ("put", "/api/consultants/1/status"),
    ("get", "/api/calls/CA123"),
    ("get", "/api/consultations"),
    ("patch", "/api/consultations/1"),
]


def test_missing_or_bad_token_gets_401_json(app, db, client):
    staff, token = add_staff_with_token(app, db, "Revoked")
    accounts.revoke_tokens(db, staff)
    for method, path in ENDPOINTS:
        for headers in ({}, bearer("not-a-token"), {"Authorization": "Bearer "}, bearer(token),
                        {"Authorization": f"Basic {token}"}):
            response = getattr(client, method)(path, headers=headers, json={"status": "available"})
            assert_json_error(response, 401)


def test_token_of_a_deactivated_staff_member_gets_401(app, db, client):
    staff, token = add_staff_with_token(app, db, "Leaver")
    assert client.get("/api/consultants", headers=bearer(token)).status_code == 200
    staff.active = False
    db.commit()
    assert_json_error(client.get("/api/consultants", headers=bearer(token)), 401)


def test_unknown_api_route_and_wrong_method_answer_json(client, supervisor):
    _, token = supervisor
    assert_json_error(client.get("/api/nothing-here", headers=bearer(token)), 404)
    assert_json_error(client.get("/api/nothing-here"), 404)
    assert_json_error(client.get("/api/consultants/abc/status", headers=bearer(token)), 404)
    wrong = client.delete("/api/consultants", headers=bearer(token))
    assert_json_error(wrong, 405)
    assert "GET" in wrong.headers["Allow"]
    assert_json_error(client.get("/api/consultants/1/status", headers=bearer(token)), 405)


def test_errors_outside_the_api_keep_flasks_own_page(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404 and response.mimetype == "text/html"


def test_an_unexpected_failure_is_a_json_500(client, supervisor, monkeypatch):
    from dashboards import queries

    def broken(*_args, **_kwargs):
        raise RuntimeError("database fell over")

    monkeypatch.setattr(queries, "consultants", broken)
    body = assert_json_error(client.get("/api/consultants", headers=bearer(supervisor[1])), 500)
    assert "database fell over" not in body["error"]


def test_nul_characters_are_a_400_not_a_500(client, supervisor):
    # PostgreSQL refuses NUL in text parameters; SQLite would take it.
    for path in ("/api/calls/CA%00x", "/api/consultations?language=e%00n", "/api/consultations?call_sid=%00"):
        assert_json_error(client.get(path, headers=bearer(supervisor[1])), 400)


def test_ids_beyond_the_column_range_are_404_not_500(client, supervisor):
    huge = 10**20
    headers = bearer(supervisor[1])
    response = client.put(f"/api/consultants/{huge}/status", headers=headers, json={"status": "busy"})
    assert_json_error(response, 404)
    assert_json_error(client.patch(f"/api/consultations/{huge}", headers=headers, json={"notes": "x"}), 404)


# --- consultants and their status -------------------------------------------------------------

def test_list_consultants_with_skills_and_effective_status(client, db, supervisor, maria, ivan):
    staff, _ = maria
    staff.status = "wrap_up"
    staff.wrap_up_until = utcnow() - timedelta(seconds=5)  # wrap-up is over: available again
    db.commit()
    response = client.get("/api/consultants", headers=bearer(supervisor[1]))
    assert response.status_code == 200
    consultants = response.get_json()["consultants"]
    assert [c["name"] for c in consultants] == ["Ivan", "Maria"]  # not the supervisor
    by_name = {c["name"]: c for c in consultants}
    assert by_name["Maria"]["status"] == "available"
    assert (by_name["Maria"]["languages"], by_name["Maria"]["topics"], by_name["Maria"]["office"]) == \
        (["bg", "en"], ["health"], "sofia")
    assert by_name["Ivan"]["status"] == "break"


def test_a_running_wrap_up_is_shown_as_wrap_up(client, db, supervisor, maria):
    staff, _ = maria
    staff.status = "wrap_up"
    staff.wrap_up_until = utcnow() + timedelta(seconds=60)
    db.commit()
    consultants = client.get("/api/consultants", headers=bearer(supervisor[1])).get_json()["consultants"]
    assert consultants[0]["status"] == "wrap_up"


def test_list_consultants_of_one_office(client, supervisor, maria, ivan):
    response = client.get("/api/consultants?office=burgas", headers=bearer(supervisor[1]))
    assert [c["name"] for c in response.get_json()["consultants"]] == ["Ivan"]


def test_staff_phones_are_shown_to_supervisors_and_to_the_consultant_themselves(client, supervisor, maria,
                                                                                ivan):
    seen_by_supervisor = client.get("/api/consultants", headers=bearer(supervisor[1])).get_json()
    assert {c["name"]: c["phone"] for c in seen_by_supervisor["consultants"]} == \
        {"Maria": "+359888111222", "Ivan": "+359888333444"}

    seen_by_maria = client.get("/api/consultants", headers=bearer(maria[1]))
    by_name = {c["name"]: c for c in seen_by_maria.get_json()["consultants"]}
    assert by_name["Maria"]["phone"] == "+359888111222"
    assert "phone" not in by_name["Ivan"]
    assert "359888333444" not in seen_by_maria.get_data(as_text=True)


def test_consultant_sets_their_own_status(client, db, maria):
    staff, token = maria
    response = client.put(f"/api/consultants/{staff.id}/status", json={"status": "break"},
                          headers=bearer(token))
    assert response.status_code == 200
    assert response.get_json()["status"] == "break"
    db.expire_all()
    assert db.get(Staff, staff.id).status == "break"


def test_consultant_may_not_set_anothers_status(client, db, maria, ivan):
    response = client.put(f"/api/consultants/{ivan[0].id}/status", json={"status": "available"},
                          headers=bearer(maria[1]))
    assert_json_error(response, 403)
    db.expire_all()
    assert db.get(Staff, ivan[0].id).status == "break"


def test_supervisor_sets_a_consultants_status(client, db, supervisor, ivan):
    response = client.put(f"/api/consultants/{ivan[0].id}/status", json={"status": "available"},
                          headers=bearer(supervisor[1]))
    assert response.status_code == 200
    assert response.get_json()["status"] == "available"
    db.expire_all()
    assert db.get(Staff, ivan[0].id).status == "available"


def test_bad_status_is_400_json(client, db, maria):
    staff, token = maria
    path = f"/api/consultants/{staff.id}/status"
    for body in ({"status": "offered"}, {"status": "sleeping"}, {"status": None}, {},
                 {"status": ["available"]}, ["available"], "available"):
        error = assert_json_error(client.put(path, json=body, headers=bearer(token)), 400)
        assert "available, busy, wrap_up, break, offline" in error["error"]
    form = client.put(path, data="status=busy", headers=bearer(token),
                      content_type="application/x-www-form-urlencoded")
    assert_json_error(form, 415)
    db.expire_all()
    assert db.get(Staff, staff.id).status == "available"


def test_status_of_an_unknown_consultant_is_404_json(client, supervisor):
    response = client.put("/api/consultants/999999/status", json={"status": "available"},
                          headers=bearer(supervisor[1]))
    assert_json_error(response, 404)


# --- calls ------------------------------------------------------------------------------------

def test_look_up_a_call_with_its_events(client, twilio, supervisor, maria):
    call = answered_call(twilio)
    response = client.get(f"/api/calls/{call.call_sid}", headers=bearer(supervisor[1]))
    assert response.status_code == 200
    data = response.get_json()
    assert (data["call_sid"], data["office"], data["language"], data["topic"]) == \
        (call.call_sid, "sofia", "en", "health")
    assert (data["outcome"], data["consultant_id"], data["duration_seconds"]) == \
        ("answered", maria[0].id, 260)
    assert data["answered_at"] and data["ended_at"]
    kinds = [event["kind"] for event in data["events"]]
    assert kinds == ["incoming", "language", "topic", "offered", "accepted", "ended"]
    assert data["events"][1]["detail"] == "en" and data["events"][2]["detail"] == "health"
    assert data["events"][3]["consultant_id"] == maria[0].id
    assert data["caller_number"] == "+359888123456"


def test_caller_number_is_shown_to_the_consultant_who_took_the_call_only(client, twilio, maria, ivan):
    call = answered_call(twilio)
    mine = client.get(f"/api/calls/{call.call_sid}", headers=bearer(maria[1])).get_json()
    assert mine["caller_number"] == "+359888123456"
    theirs = client.get(f"/api/calls/{call.call_sid}", headers=bearer(ivan[1]))
    assert theirs.status_code == 200
    assert "caller_number" not in theirs.get_json()
    assert "888123456" not in theirs.get_data(as_text=True)
    assert [e["kind"] for e in theirs.get_json()["events"]][-1] == "ended"


def test_unknown_call_is_404_json(client, supervisor):
    assert_json_error(client.get("/api/calls/CAdoesnotexist", headers=bearer(supervisor[1])), 404)


# --- consultation records ---------------------------------------------------------------------

def test_records_by_call_sid_after_a_real_call(client, db, twilio, supervisor, maria):
    call = answered_call(twilio)
    db.expire_all()
    db.get(Staff, maria[0].id).status = "available"  # skip her wrap-up
    db.commit()
    other = answered_call(twilio, caller="0888 765 432")
    response = client.get(f"/api/consultations?call_sid={call.call_sid}", headers=bearer(supervisor[1]))
    records = response.get_json()["consultations"]
    assert len(records) == 1
    record = records[0]
    assert (record["call_sid"], record["language"], record["topic"], record["office"]) == \
        (call.call_sid, "en", "health", "sofia")
    assert (record["consultant_id"], record["outcome"], record["channel"]) == \
        (maria[0].id, "answered", "phone")
    assert record["completed_at"] is None
    everything = client.get("/api/consultations", headers=bearer(supervisor[1])).get_json()["consultations"]
    assert {r["call_sid"] for r in everything} == {call.call_sid, other.call_sid}


def test_records_filtered_by_language_topic_and_office(client, db, supervisor):
    day = datetime(2026, 11, 10, 10, 0, tzinfo=SOFIA_TZ)
    hour = timedelta(hours=1)
    add_record(db, day, call_sid="CAen", language="en", topic="health", office="sofia")
    add_record(db, day + hour, call_sid="CAar", language="ar", topic="residence", office="sofia")
    add_record(db, day + 2 * hour, call_sid="CAru", language="ru", topic="health", office="burgas")
    add_record(db, day + 3 * hour, language="en", topic="social", office="burgas")  # in person: no call

    def sids(query: str) -> list:
        response = client.get(f"/api/consultations?{query}", headers=bearer(supervisor[1]))
        assert response.status_code == 200
        return [r["call_sid"] for r in response.get_json()["consultations"]]

    assert sids("") == [None, "CAru", "CAar", "CAen"]  # newest first
    assert sids("language=en") == [None, "CAen"]
    assert sids("topic=health") == ["CAru", "CAen"]
    assert sids("office=burgas") == [None, "CAru"]
    assert sids("office=burgas&topic=health") == ["CAru"]
    assert sids("language=en&office=sofia&topic=health") == ["CAen"]
    assert sids("language=fa") == []
    assert sids("limit=2") == [None, "CAru"]
    assert sids("limit=2&offset=2") == ["CAar", "CAen"]


def test_date_filters_are_inclusive_days_in_sofia_time(client, db, supervisor):
    cases = {
        "before": datetime(2026, 2, 28, 23, 59, tzinfo=SOFIA_TZ),  # 21:59 UTC on Feb 28
        "first": datetime(2026, 3, 1, 0, 30, tzinfo=SOFIA_TZ),  # 22:30 UTC on Feb 28
        "last": datetime(2026, 3, 31, 23, 59, 59, tzinfo=SOFIA_TZ),  # after the change to summer time
        "after": datetime(2026, 4, 1, 0, 0, tzinfo=SOFIA_TZ),  # 21:00 UTC on Mar 31
    }
    for name, at in cases.items():
        add_record(db, at, call_sid=f"CA{name}")

    def sids(query: str) -> set:
        response = client.get(f"/api/consultations?{query}", headers=bearer(supervisor[1]))
        assert response.status_code == 200
        return {r["call_sid"] for r in response.get_json()["consultations"]}

    assert sids("from=2026-03-01&to=2026-03-31") == {"CAfirst", "CAlast"}
    assert sids("from=2026-03-01") == {"CAfirst", "CAlast", "CAafter"}
    assert sids("to=2026-02-28") == {"CAbefore"}
    assert sids("from=2026-03-31&to=2026-03-31") == {"CAlast"}
    assert sids("from=2026-04-01&to=2026-03-01") == set()
    record = client.get("/api/consultations?call_sid=CAfirst", headers=bearer(supervisor[1])).get_json()
    started = datetime.fromisoformat(record["consultations"][0]["started_at"])
    assert started == datetime(2026, 2, 28, 22, 30, tzinfo=timezone.utc)


def test_bad_filters_are_400_json(client, supervisor):
    for query in ("from=2026-13-01", "to=yesterday", "from=25.11.2026", "to=2026-02-30", "limit=-1",
                  "limit=ten", "offset=1.5"):
        assert_json_error(client.get(f"/api/consultations?{query}", headers=bearer(supervisor[1])), 400)


def test_notes_are_shown_to_the_handling_consultant_and_supervisors_only(client, db, supervisor, maria, ivan):
    # In Russian, so that Ivan (who speaks it) may list the record: but not read its notes.
    add_record(db, utcnow(), call_sid="CAnotes", language="ru", consultant=maria[0],
               notes="lives in Lyulin, two children")

    def first(token: str) -> dict:
        return client.get("/api/consultations", headers=bearer(token)).get_json()["consultations"][0]

    assert first(supervisor[1])["notes"] == "lives in Lyulin, two children"
    assert first(maria[1])["notes"] == "lives in Lyulin, two children"
    assert first(ivan[1])["call_sid"] == "CAnotes" and "notes" not in first(ivan[1])
    assert "Lyulin" not in client.get("/api/consultations", headers=bearer(ivan[1])).get_data(as_text=True)


# --- writing a consultation up ------------------------------------------------------------------

def test_consultant_writes_up_their_own_consultation(client, db, twilio, maria):
    call = answered_call(twilio)
    record = db.scalar(select(ConsultationRecord))
    response = client.patch(f"/api/consultations/{record.id}", headers=bearer(maria[1]),
                            json={"notes": "Asked about health insurance.", "outcome": "advised"})
    assert response.status_code == 200
    data = response.get_json()
    assert (data["notes"], data["outcome"], data["call_sid"]) == \
        ("Asked about health insurance.", "advised", call.call_sid)
    assert data["completed_at"]
    db.expire_all()
    stored = db.get(ConsultationRecord, record.id)
    assert (stored.notes, stored.outcome) == ("Asked about health insurance.", "advised")
    assert stored.completed_at is not None


def test_another_consultant_may_not_write_it_up(client, db, maria, ivan):
    record = add_record(db, utcnow(), call_sid="CAmaria", consultant=maria[0], notes="original")
    response = client.patch(f"/api/consultations/{record.id}", headers=bearer(ivan[1]),
                            json={"notes": "changed"})
    assert_json_error(response, 403)
    db.expire_all()
    assert db.get(ConsultationRecord, record.id).notes == "original"


def test_supervisor_may_write_it_up(client, db, supervisor, maria):
    record = add_record(db, utcnow(), call_sid="CAsup", consultant=maria[0])
    response = client.patch(f"/api/consultations/{record.id}", headers=bearer(supervisor[1]),
                            json={"notes": "Follow-up booked."})
    assert response.status_code == 200
    assert response.get_json()["notes"] == "Follow-up booked."
    assert response.get_json()["outcome"] == "answered"  # untouched
    db.expire_all()
    assert db.get(ConsultationRecord, record.id).notes == "Follow-up booked."


def test_bad_write_up_is_400_json(client, db, maria):
    record = add_record(db, utcnow(), call_sid="CAbad", consultant=maria[0], notes="original")
    # An outcome longer than its column and a NUL character would fail in PostgreSQL with a 500.
    for body in ([], {}, {"colour": "red"}, {"notes": 42}, {"notes": None}, {"notes": "x" * 20001},
                 {"outcome": "x" * 25}, {"notes": "a\x00b"}, {"notes": "fine", "outcome": "x" * 25}):
        response = client.patch(f"/api/consultations/{record.id}", headers=bearer(maria[1]), json=body)
        assert_json_error(response, 400)
    for data in ("null", ""):
        response = client.patch(f"/api/consultations/{record.id}", headers=bearer(maria[1]), data=data,
                                content_type="application/json")
        assert_json_error(response, 400)
    no_body = client.patch(f"/api/consultations/{record.id}", headers=bearer(maria[1]))
    assert_json_error(no_body, 415)
    db.expire_all()
    stored = db.get(ConsultationRecord, record.id)
    assert (stored.notes, stored.outcome, stored.completed_at) == ("original", "answered", None)


def test_write_up_of_an_unknown_consultation_is_404_json(client, supervisor):
    response = client.patch("/api/consultations/999999", headers=bearer(supervisor[1]), json={"notes": "x"})
    assert_json_error(response, 404)
