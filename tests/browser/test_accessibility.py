"""axe-core in the browser finds no serious or critical WCAG 2 A/AA problem on the login page (in
both languages, and showing its error) nor on any page each role can open."""
from __future__ import annotations

import pytest

from tests.browser.site import add_person, log_in, serious_violations

PAGES = {"consultant": ["/desk"], "supervisor": ["/board", "/desk", "/reports"],
         "admin": ["/board", "/desk", "/reports", "/staff"]}


@pytest.mark.parametrize("language", ["English", "Български"])
def test_the_login_page(app, db, page, axe_source, language):
    page.goto("/login")
    if language != "English":
        page.get_by_role("button", name=language).click()
        page.wait_for_load_state()
    assert serious_violations(page, axe_source) == []


def test_the_login_page_with_its_error(app, db, page, axe_source):
    add_person(app, db, "Elena", "supervisor")
    log_in(page, "Elena", "not the password")
    assert page.get_by_role("alert").is_visible()
    assert serious_violations(page, axe_source) == []


@pytest.mark.parametrize("role", sorted(PAGES))
def test_every_page_of_each_role(app, db, page, axe_source, role):
    add_person(app, db, "Elena", role)
    log_in(page, "Elena")
    found = {}
    for path in PAGES[role]:
        page.goto(path)
        found[path] = serious_violations(page, axe_source)
    assert found == {path: [] for path in PAGES[role]}
