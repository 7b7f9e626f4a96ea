"""Staff management at /staff: admins list, add and edit staff, deactivate and reactivate them,
set or generate passwords and revoke API tokens, each change audited; supervisors and consultants
are refused every staff route and form."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from hotline import accounts
from hotline.dev import demo
from hotline.models import AuditEvent, Staff
from routing.candidates import candidates
from tests.conftest import services_of
from tests.dashboards.web.conftest import PASSWORD, add_person, csrf_token, https_client, log_in
from tests.support.helpers import add_consultant

PROFILE = {"name": "Nadia Popova", "role": "consultant", "office": "burgas", "phone": "0888 123 456",
           "languages": ["uk", "ru"], "topics": ["health", "social"], "whisper_language": "en"}


@pytest.fixture
def admin(app, db, web):
    """Ada, an admin, logged in on `web`."""
    ada = add_person(app, db, "Ada Admin", "admin")
    log_in(web, "Ada Admin")
    return ada


def post(web, path: str, data: dict | None = None):
    """POST a form to `path` with the CSRF token of the admin's session."""
    token = csrf_token(web.get("/staff").get_data(as_text=True))
    return web.post(path, data={**(data or {}), "csrf_token": token})


def audit_kinds(db, staff_id: int) -> list[tuple[str, int | None]]:
    """The changes audited about `staff_id`, oldest first: (kind, actor id); logins left out."""
    db.expire_all()
    events = db.scalars(select(AuditEvent).where(AuditEvent.staff_id == staff_id,
                                                 AuditEvent.kind.not_in(("login", "login_failed", "logout")))
                        .order_by(AuditEvent.id))
    return [(e.kind, e.actor_id) for e in events]


def named(db, name: str) -> Staff:
    db.expire_all()
    return db.scalar(select(Staff).where(Staff.name == name))


def test_the_list_shows_everyone_with_their_profile_and_status(app, db, web, admin):
    add_consultant(app, db, "Maria", languages=("bg", "en"), topics=("health",), phone="+359888000222")
    page = web.get("/staff").get_data(as_text=True)
    row = re.search(r"<tr>\s*<th scope=\"row\"><a [^>]*>Maria</a>.*?</tr>", page, re.S).group(0)
    for shown in ("consultant", "sofia", "+359888000222", "bg, en", "health", "default", "yes", "available"):
        assert shown in row, shown
    assert "Ada Admin" in page


def test_an_admin_adds_a_person_with_their_skills(app, db, web, admin):
    response = post(web, "/staff/new", PROFILE)
    assert response.status_code == 302
    nadia = named(db, "Nadia Popova")
    assert response.headers["Location"].endswith(f"/staff/{nadia.id}")
    assert (nadia.role, nadia.office_code, nadia.phone, nadia.whisper_language) == \
        ("consultant", "burgas", "+359888123456", "en")
    assert sorted((s.language_code, s.topic_code) for s in nadia.skills) == \
        [("ru", "health"), ("ru", "social"), ("uk", "health"), ("uk", "social")]
    assert audit_kinds(db, nadia.id) == [("staff_added", admin.id)]
    assert "Nadia Popova" in web.get(response.headers["Location"]).get_data(as_text=True)


@pytest.mark.parametrize("change, message", [
    ({"name": "ada admin"}, "exists already"),
    ({"name": "  "}, "a name needs"),
    ({"phone": "12345"}, "phone is not a valid number"),
    ({"languages": ["xx"]}, "unknown languages: xx"),
    ({"topics": []}, "give both languages and topics"),
    ({"office": "varna"}, "unknown office"),
    ({"role": "boss"}, "role must be one of"),
    ({"whisper_language": "xx"}, "unknown whisper language"),
])
def test_a_bad_form_is_refused_with_its_message(app, db, web, admin, change, message):
    response = post(web, "/staff/new", {**PROFILE, **change})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert named(db, "Nadia Popova") is None


def test_an_admin_edits_a_person(app, db, web, admin):
    maria = add_consultant(app, db, "Maria", languages=("bg",), topics=("health",))
    response = post(web, f"/staff/{maria.id}", {**PROFILE, "name": "Maria Ivanova", "role": "supervisor"})
    assert response.status_code == 302
    maria = named(db, "Maria Ivanova")
    assert (maria.role, maria.office_code, maria.languages, maria.topics) == \
        ("supervisor", "burgas", ["ru", "uk"], ["health", "social"])
    changed = db.scalar(select(AuditEvent).where(AuditEvent.kind == "staff_changed"))
    assert (changed.staff_id, changed.actor_id) == (maria.id, admin.id)
    assert changed.detail == "changed: name, role, phone, office, languages, topics, whisper_language"
    assert "+359" not in changed.detail  # names of fields, never their values
    # The same form again changes nothing and audits nothing.
    post(web, f"/staff/{maria.id}", {**PROFILE, "name": "Maria Ivanova", "role": "supervisor"})
    assert [kind for kind, _ in audit_kinds(db, maria.id)].count("staff_changed") == 1


@pytest.mark.parametrize("name", ["me", "\u202eMaria"])
def test_an_error_isolates_the_name_it_names_and_nothing_else(app, db, web, admin, name):
    """A name inside a word of the message ("me" in "member") or one the message would quote with
    escapes (an override character) is isolated once, where the message names it."""
    add_consultant(app, db, name)
    response = post(web, "/staff/new", {**PROFILE, "name": name})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'a staff member named <span dir="auto">{name}</span> exists already' in page


def test_editing_to_a_taken_name_or_a_bad_phone_is_a_400(app, db, web, admin):
    maria = add_consultant(app, db, "Maria")
    form = {**accounts.profile_of(maria), "name": "Ada Admin"}
    response = post(web, f"/staff/{maria.id}", form)
    assert response.status_code == 400 and "exists already" in response.get_data(as_text=True)
    response = post(web, f"/staff/{maria.id}", {**form, "name": "Maria", "phone": "not a phone"})
    assert response.status_code == 400 and "phone is not a valid number" in response.get_data(as_text=True)
    assert named(db, "Maria").phone == maria.phone


def test_the_last_admin_cannot_step_down_or_deactivate_themselves(app, db, web, admin):
    response = post(web, f"/staff/{admin.id}", {**accounts.profile_of(admin), "role": "supervisor"})
    assert response.status_code == 400 and "last active admin" in response.get_data(as_text=True)
    response = post(web, f"/staff/{admin.id}/deactivate")
    assert response.status_code == 400 and "cannot deactivate yourself" in response.get_data(as_text=True)
    assert named(db, "Ada Admin").active and named(db, "Ada Admin").role == "admin"


def test_a_deactivated_person_is_logged_out_cannot_log_in_and_is_not_rung(app, db, web, admin):
    maria = add_person(app, db, "Maria", "consultant")
    db.get(Staff, maria.id).status = "available"
    db.commit()
    token = accounts.issue_token(db, maria)
    theirs = https_client(app)
    log_in(theirs, "Maria")
    assert theirs.get("/desk").status_code == 200

    assert post(web, f"/staff/{maria.id}/deactivate").status_code == 302

    assert theirs.get("/desk").status_code == 302  # their session ended
    assert log_in(https_client(app), "Maria").status_code == 401
    db.expire_all()
    assert accounts.staff_for_token(db, token) is None
    maria = named(db, "Maria")
    assert not maria.active and maria.status == "offline"
    assert candidates(db, "en", "health", "sofia") == []
    assert "no (deactivated)" in web.get("/staff").get_data(as_text=True)
    assert audit_kinds(db, maria.id)[-1] == ("staff_deactivated", admin.id)

    assert post(web, f"/staff/{maria.id}/reactivate").status_code == 302
    assert log_in(https_client(app), "Maria").status_code == 302
    db.expire_all()
    assert accounts.staff_for_token(db, token).name == "Maria"
    assert audit_kinds(db, maria.id)[-1] == ("staff_reactivated", admin.id)


def test_an_admin_sets_a_password(app, db, web, admin):
    maria = add_consultant(app, db, "Maria")
    assert log_in(https_client(app), "Maria").status_code == 401  # no password yet
    short = post(web, f"/staff/{maria.id}/password", {"password": "short", "password_again": "short"})
    assert short.status_code == 400 and "at least" in short.get_data(as_text=True)
    differ = post(web, f"/staff/{maria.id}/password",
                  {"password": "a long password", "password_again": "other"})
    assert differ.status_code == 400 and "differ" in differ.get_data(as_text=True)
    done = post(web, f"/staff/{maria.id}/password",
                {"action": "set", "password": "a long password", "password_again": "a long password"})
    assert done.status_code == 302
    assert log_in(https_client(app), "Maria", "a long password").status_code == 302
    assert audit_kinds(db, maria.id)[-1] == ("password_set", admin.id)


def test_a_generated_password_is_shown_once_and_works(app, db, web, admin):
    maria = add_person(app, db, "Maria", "consultant")
    response = post(web, f"/staff/{maria.id}/password", {"action": "generate"})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    password = re.search(r'<code id="new-password">([^<]+)</code>', response.get_data(as_text=True)).group(1)
    assert len(password) >= accounts.MIN_PASSWORD_LENGTH
    assert password not in web.get(f"/staff/{maria.id}").get_data(as_text=True)
    assert log_in(https_client(app), "Maria").status_code == 401  # the old one no longer works
    assert log_in(https_client(app), "Maria", password).status_code == 302
    assert audit_kinds(db, maria.id)[-1] == ("password_set", admin.id)


def test_an_admin_lists_and_revokes_api_tokens(app, db, web, admin):
    maria = add_consultant(app, db, "Maria")
    first, second = accounts.issue_token(db, maria), accounts.issue_token(db, maria)
    ids = [t.id for t in accounts.tokens_of(db, maria)]
    page = web.get(f"/staff/{maria.id}").get_data(as_text=True)
    assert first not in page and second not in page
    assert all(f"#{token_id}" in page for token_id in ids)

    assert post(web, f"/staff/{maria.id}/tokens/{ids[-1]}/revoke").status_code == 302

    db.expire_all()
    assert accounts.staff_for_token(db, first) is None
    assert accounts.staff_for_token(db, second).name == "Maria"
    revoked = db.scalar(select(AuditEvent).where(AuditEvent.kind == "token_revoked"))
    assert (revoked.staff_id, revoked.actor_id, revoked.detail) == (maria.id, admin.id, f"token #{ids[-1]}")
    assert "Revoke token #" + str(ids[-1]) not in web.get(f"/staff/{maria.id}").get_data(as_text=True)
    # Another person's token, or none at all: 404, nothing revoked.
    other = add_consultant(app, db, "Ivan")
    assert post(web, f"/staff/{other.id}/tokens/{ids[0]}/revoke").status_code == 404
    assert post(web, f"/staff/{maria.id}/tokens/999999/revoke").status_code == 404
    assert accounts.staff_for_token(db, second) is not None


def test_an_unknown_person_is_a_404(app, db, web, admin):
    assert web.get("/staff/999999").status_code == 404
    assert web.get("/staff/99999999999").status_code == 404
    assert post(web, "/staff/999999/deactivate").status_code == 404


def test_a_form_without_its_csrf_token_is_refused(app, db, web, admin):
    maria = add_consultant(app, db, "Maria")
    assert web.post(f"/staff/{maria.id}/deactivate").status_code == 400
    assert named(db, "Maria").active


def _staff_routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("web.staff"):
            yield rule


@pytest.mark.parametrize("role", ["consultant", "supervisor"])
def test_every_staff_route_and_form_refuses_supervisors_and_consultants(app, db, web, role):
    add_person(app, db, "Someone", role)
    maria = add_person(app, db, "Maria", "consultant")
    token_id = (accounts.issue_token(db, maria), accounts.tokens_of(db, maria)[0].id)[1]
    log_in(web, "Someone")
    token = csrf_token(web.get("/desk").get_data(as_text=True))
    checked = []
    for rule in _staff_routes(app):
        path = rule.build({"staff_id": maria.id, "token_id": token_id})[1]
        for method in sorted(rule.methods & {"GET", "POST"}):
            form = {**PROFILE, "csrf_token": token, "action": "generate"}
            response = web.open(path, method=method, data=form if method == "POST" else None)
            assert response.status_code == 403, (role, method, path, response.status_code)
            checked.append((method, rule.endpoint))
    assert len(checked) >= 9
    maria = named(db, "Maria")
    assert maria.active and maria.role == "consultant" and named(db, "Nadia Popova") is None
    assert accounts.check_login(db, "Maria", PASSWORD) is not None
    assert [kind for kind, _ in audit_kinds(db, maria.id)] == ["staff_added", "password_set"]


def test_the_demo_staff_log_in_with_the_demo_password(app, db):
    summary = demo.fill(db, services_of(app).catalogue, weeks=0)
    for person, home in [(summary.consultants[0], "/desk"), (summary.supervisor, "/board"),
                         (summary.admin, "/board")]:
        browser = https_client(app)
        assert log_in(browser, person.name, demo.DEMO_PASSWORD).status_code == 302, person.name
        assert browser.get("/").headers["Location"].endswith(home)
    admin = https_client(app)
    log_in(admin, summary.admin.name, demo.DEMO_PASSWORD)
    assert admin.get("/staff").status_code == 200
