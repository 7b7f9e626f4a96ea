"""Every route of the staff web refuses the roles that may not use it: the URL map is walked, so a
page added later without a declared role is refused to everyone (and this test says so)."""
from __future__ import annotations

import re

import pytest

from dashboards.web.access import PUBLIC, allowed_roles
from tests.dashboards.web.conftest import add_person, log_in

ROLES = ("consultant", "supervisor", "admin")


def _web_routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("web.") and rule.endpoint not in PUBLIC and "GET" in rule.methods:
            yield rule


def test_every_web_route_declares_its_roles(app):
    undeclared = [rule.rule for rule in _web_routes(app) if not allowed_roles(app, rule.endpoint)]
    assert undeclared == []


@pytest.mark.parametrize("role", ROLES)
def test_every_web_route_refuses_the_roles_it_does_not_allow(app, db, web, role):
    add_person(app, db, "Someone", role)
    log_in(web, "Someone")
    checked = 0
    for rule in _web_routes(app):
        if rule.arguments:
            continue  # pages of one record are checked by their own tests
        response = web.get(rule.rule)
        if role in allowed_roles(app, rule.endpoint):
            assert response.status_code in (200, 302), (role, rule.rule, response.status_code)
        else:
            assert response.status_code == 403, (role, rule.rule, response.status_code)
        checked += 1
    assert checked >= 5


@pytest.mark.parametrize("role, links", [
    ("consultant", ["/desk"]),
    ("supervisor", ["/desk", "/board", "/reports"]),
    ("admin", ["/desk", "/board", "/reports", "/staff"]),
])
def test_the_page_links_are_those_of_the_pages_one_may_open(app, db, web, role, links):
    add_person(app, db, "Someone", role)
    log_in(web, "Someone")
    page = web.get("/desk").get_data(as_text=True)
    nav = page[page.index("<nav"):page.index("</nav>")]
    assert re.findall(r'href="([^"]+)"', nav) == links
