"""The JSON API read from the staff web's session: what the person's role allows, as with a
bearer token; a change (unsafe method) needs the session's CSRF token, a bearer token none."""
from __future__ import annotations

from hotline import accounts
from hotline.models import Staff
from tests.dashboards.api.test_api import assert_json_error, bearer
from tests.dashboards.web.conftest import add_person, csrf_token, log_in


def test_a_logged_in_supervisor_reads_the_api(app, db, web):
    add_person(app, db, "Desislava", "supervisor")
    log_in(web, "Desislava")
    for path in ("/api/consultants", "/api/queues", "/api/queue-entries", "/api/consultations",
                 "/api/callbacks", "/api/callbacks/summary", "/api/reports/queues"):
        assert web.get(path).status_code == 200, path


def test_a_logged_in_consultant_reads_what_consultants_may(app, db, web):
    add_person(app, db, "Maria", "consultant")
    log_in(web, "Maria")
    assert web.get("/api/consultations").status_code == 200
    assert_json_error(web.get("/api/queue-entries"), 403)
    assert_json_error(web.get("/api/reports/queues"), 403)


def test_without_a_session_or_token_the_api_is_401(app, db, web):
    add_person(app, db, "Desislava", "supervisor")
    log_in(web, "Desislava")
    web.post("/logout", data={"csrf_token": csrf_token(web.get("/board").get_data(as_text=True))})
    assert_json_error(web.get("/api/consultants"), 401)


def test_a_bad_token_is_401_even_beside_a_session(app, db, web):
    add_person(app, db, "Desislava", "supervisor")
    log_in(web, "Desislava")
    assert_json_error(web.get("/api/consultants", headers=bearer("nonsense")), 401)


def test_a_change_by_session_needs_the_csrf_token(app, db, web):
    maria = add_person(app, db, "Maria", "consultant")
    log_in(web, "Maria")
    path = f"/api/consultants/{maria.id}/status"
    assert_json_error(web.put(path, json={"status": "break"}), 400)
    db.expire_all()
    assert db.get(Staff, maria.id).status != "break"
    token = csrf_token(web.get("/desk").get_data(as_text=True))
    response = web.put(path, json={"status": "break"}, headers={"X-CSRFToken": token})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["status"] == "break"


def test_a_change_by_bearer_token_needs_no_csrf_token_even_with_a_session(app, db, web):
    maria = add_person(app, db, "Maria", "consultant")
    log_in(web, "Maria")
    token = accounts.issue_token(db, maria)
    response = web.put(f"/api/consultants/{maria.id}/status", json={"status": "break"}, headers=bearer(token))
    assert response.status_code == 200, response.get_data(as_text=True)
