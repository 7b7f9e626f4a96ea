"""Logging in to the staff web: passwords, sessions, CSRF, the rate limit on failed logins, the
audit trail, and `/` sending each person to their own page."""
from __future__ import annotations

from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from hotline.cli import main
from hotline.models import AuditEvent, Staff, utcnow
from tests.dashboards.web.conftest import PASSWORD, add_person, csrf_token, https_client, log_in
from tests.support.clock import set_clock


@pytest.mark.parametrize("role, home", [("consultant", "/desk"), ("supervisor", "/board"),
                                        ("admin", "/board")])
def test_each_role_lands_on_its_own_page(app, db, web, role, home):
    add_person(app, db, "Elena", role)
    response = log_in(web, "Elena")
    assert response.status_code == 302 and response.headers["Location"].endswith("/")
    assert web.get("/").headers["Location"].endswith(home)
    assert web.get(home).status_code == 200


def test_every_page_without_a_session_goes_to_the_login(web):
    for path in ("/", "/desk", "/board", "/staff", "/reports"):
        response = web.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path


def test_the_session_cookie_is_secure_httponly_and_samesite(app, db, web):
    add_person(app, db, "Elena", "supervisor")
    cookie = log_in(web, "Elena").headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_a_wrong_password_is_refused_and_audited(app, db, web):
    elena = add_person(app, db, "Elena", "supervisor")
    response = log_in(web, "Elena", "not the password")
    assert response.status_code == 401
    assert web.get("/board").status_code == 302
    log_in(web, "Elena")
    db.expire_all()
    kinds = [e.kind for e in db.scalars(select(AuditEvent).where(AuditEvent.staff_id == elena.id)
                                        .order_by(AuditEvent.id))]
    assert kinds == ["staff_added", "password_set", "login_failed", "login"]
    details = " ".join(e.detail or "" for e in db.scalars(select(AuditEvent)))
    assert "127.0.0.1" not in details  # the address only as a keyed hash


def test_a_form_without_its_csrf_token_is_refused(app, db, web):
    add_person(app, db, "Elena", "supervisor")
    response = web.post("/login", data={"name": "Elena", "password": PASSWORD})
    assert response.status_code == 400
    assert web.get("/board").status_code == 302


def test_failed_logins_are_limited_per_name_and_per_address(app, db, web):
    add_person(app, db, "Elena", "supervisor")
    codes = [log_in(web, "Elena", f"guess {i}").status_code for i in range(6)]
    assert codes == [401] * 5 + [429]
    # Per name: from another address, the same name is still limited.
    other = https_client(app)
    page = other.get("/login", environ_base={"REMOTE_ADDR": "10.0.0.9"})
    response = other.post("/login", data={"name": "Elena", "password": "guess",
                                          "csrf_token": csrf_token(page.get_data(as_text=True))},
                          environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert response.status_code == 429


def test_a_successful_login_does_not_count_against_the_limit(app, db, web):
    add_person(app, db, "Elena", "supervisor")
    for _ in range(8):  # each from a fresh browser (a logged-in one is not shown the form)
        assert log_in(https_client(app), "Elena").status_code == 302


def test_logout_ends_the_session(app, db, web):
    add_person(app, db, "Elena", "supervisor")
    log_in(web, "Elena")
    board = web.get("/board").get_data(as_text=True)
    assert web.post("/logout", data={"csrf_token": csrf_token(board)}).status_code == 302
    assert web.get("/board").status_code == 302


def test_an_idle_session_ends(app, db, web, monkeypatch):
    add_person(app, db, "Elena", "supervisor")
    log_in(web, "Elena")
    set_clock(monkeypatch, utcnow() + timedelta(minutes=31))
    assert web.get("/board").status_code == 302


def test_a_deactivated_person_is_logged_out(app, db, web):
    elena = add_person(app, db, "Elena", "supervisor")
    log_in(web, "Elena")
    db.get(Staff, elena.id).active = False
    db.commit()
    assert web.get("/board").status_code == 302


def test_the_cli_sets_a_password_from_standard_input(app, db, app_config, monkeypatch):
    add_person(app, db, "Elena", "supervisor")
    for name, value in app_config.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(main, ["staff", "password", "Elena"], input="a new long password\n")
    assert result.exit_code == 0, result.output
    short = CliRunner().invoke(main, ["staff", "password", "Elena"], input="short\n")
    assert short.exit_code != 0 and "at least" in short.output
    from hotline import accounts

    db.expire_all()
    assert accounts.check_login(db, "Elena", "a new long password") is not None
