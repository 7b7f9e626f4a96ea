"""A status set by hand (the staff API) is a compare-and-set on the status and call it replaces: a
reservation that lands between the API's read and its write is kept, the API answers 409 with the
status that won, and the consultant cannot be reserved a second time (two calls ringing one phone)."""
from __future__ import annotations

import routing
from hotline.models import Staff
from routing import reservation
from tests.conftest import services_of
from tests.support.helpers import add_consultant, add_staff_with_token
from tests.support.journeys import status_of


def _put(client, token: str, staff_id: int, status: str):
    return client.put(f"/api/consultants/{staff_id}/status", json={"status": status},
                      headers={"Authorization": f"Bearer {token}"})


def test_a_reservation_between_the_apis_read_and_write_is_kept_and_answered_409(app, db, client, monkeypatch):
    maria = add_consultant(app, db, "Maria", languages=["en"], topics=["health"], status="available")
    _, token = add_staff_with_token(app, db, "Supervisor")
    real_set_status = routing.set_status

    def reserved_meanwhile(session, staff, status):
        with services_of(app).db.session() as other:  # a job reserving Maria for a caller, right now
            assert reservation.reserve(other, staff.id, "CAfirst")
        return real_set_status(session, staff, status)

    monkeypatch.setattr(routing, "set_status", reserved_meanwhile)
    response = _put(client, token, maria.id, "break")
    assert response.status_code == 409 and response.mimetype == "application/json"
    assert response.get_json()["status"] == "offered" and "error" in response.get_json()
    assert status_of(db, maria) == ("offered", "CAfirst")
    with services_of(app).db.session() as other:  # the next caller's job: Maria is taken
        assert not reservation.reserve(other, maria.id, "CAsecond")
    assert status_of(db, maria) == ("offered", "CAfirst")


def test_a_stale_snapshot_does_not_overwrite_a_newer_status(app, db):
    maria = add_consultant(app, db, "Maria", languages=["en"], topics=["health"], status="available")
    with services_of(app).db.session() as api, services_of(app).db.session() as job:
        stale = api.get(Staff, maria.id)
        assert stale.status == "available"
        assert reservation.reserve(job, maria.id, "CAfirst")
        assert reservation.set_status(api, stale, "offline") is False
        assert (stale.status, stale.current_call_sid) == ("offered", "CAfirst")  # re-read: what won
        assert reservation.set_status(api, stale, "offline") is True  # decided on what it now sees
    assert status_of(db, maria) == ("offline", None)


def test_an_uncontested_status_change_still_answers_200(app, db, client):
    maria = add_consultant(app, db, "Maria", languages=["en"], topics=["health"], status="busy")
    _, token = add_staff_with_token(app, db, "Supervisor")
    response = _put(client, token, maria.id, "available")
    assert response.status_code == 200 and response.get_json()["status"] == "available"
    assert status_of(db, maria) == ("available", None)
