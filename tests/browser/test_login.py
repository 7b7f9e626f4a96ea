"""Logging in and out in a real browser: each role's own page, the error for a wrong password, the
keyboard alone, a phone-sized screen, and the language switch."""
from __future__ import annotations

import pytest

from tests.browser.site import HOMES, add_person, log_in, log_out, path_of

PHONE = {"width": 375, "height": 667}


@pytest.mark.parametrize("role", ["consultant", "supervisor", "admin"])
def test_each_role_logs_in_through_the_form_and_lands_on_its_page(app, db, page, role):
    add_person(app, db, "Elena", role)
    log_in(page, "Elena")
    assert path_of(page) == HOMES[role]
    assert page.get_by_text(f"Elena ({role})").is_visible()


def test_a_wrong_password_shows_the_error(app, db, page):
    add_person(app, db, "Elena", "supervisor")
    log_in(page, "Elena", "not the password")
    assert path_of(page) == "/login"
    assert page.get_by_role("alert").inner_text() == "Wrong name or password."


def test_logout_ends_the_session(app, db, page):
    add_person(app, db, "Elena", "supervisor")
    log_in(page, "Elena")
    log_out(page)
    assert path_of(page) == "/login"
    page.goto("/board")
    assert path_of(page) == "/login"


def test_logging_in_with_the_keyboard_alone(app, db, page):
    add_person(app, db, "Elena", "consultant")
    page.goto("/login")
    assert page.evaluate("document.activeElement.id") == "name"  # autofocus
    page.keyboard.type("Elena")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "password"
    page.keyboard.type("correct horse battery")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Log in"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert path_of(page) == "/desk"


def _scrolls_sideways(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth")


def test_the_login_page_and_the_nav_fit_a_phone(app, db, page):
    page.set_viewport_size(PHONE)
    page.goto("/login")
    assert not _scrolls_sideways(page)
    add_person(app, db, "Elena Dimitrova-Petrova", "admin")  # the longest nav, a long name
    log_in(page, "Elena Dimitrova-Petrova")
    for path in ("/board", "/desk", "/staff", "/reports"):
        page.goto(path)
        assert not _scrolls_sideways(page), path
        for link in page.get_by_role("navigation").get_by_role("link").all():
            box = link.bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], path


def test_the_language_switch_in_the_browser(app, db, page):
    page.goto("/login")
    page.get_by_role("button", name="Български").click()
    page.wait_for_load_state()
    assert page.evaluate("document.documentElement.lang") == "bg"
    assert page.get_by_role("heading", level=1).inner_text() == "Вход"
    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == "Log in"


def test_a_bulgarian_browser_gets_bulgarian_pages(app, db, browser, base_url):
    add_person(app, db, "Elena", "consultant")
    context = browser.new_context(base_url=base_url, locale="bg-BG")
    try:
        page = context.new_page()
        page.goto("/login")
        page.get_by_label("Име").fill("Elena")
        page.get_by_label("Парола").fill("correct horse battery")
        page.get_by_role("button", name="Вход").click()
        page.wait_for_load_state()
        assert path_of(page) == "/desk" and page.get_by_role("button", name="Изход").is_visible()
    finally:
        context.close()
