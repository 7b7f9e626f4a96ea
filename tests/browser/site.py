"""What a person does in the staff web, for the browser tests: log in through the real form, log
out, and check a page with axe-core."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from tests.dashboards.web.conftest import PASSWORD, add_person

if TYPE_CHECKING:  # imported by the fixtures, which skip or fail where Playwright is missing
    from playwright.sync_api import Page

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.0, 2.1 and 2.2 at levels A and AA.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
HOMES = {"consultant": "/desk", "supervisor": "/board", "admin": "/board"}

__all__ = ["AXE", "HOMES", "PASSWORD", "add_person", "log_in", "log_out", "path_of", "serious_violations"]


def log_in(page: Page, name: str, password: str = PASSWORD) -> None:
    """Fill in and send the login form as a person would (labels, then the button)."""
    page.goto("/login")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()


def log_out(page: Page) -> None:
    page.get_by_role("button", name="Log out").click()
    page.wait_for_load_state()


def path_of(page: Page) -> str:
    """The path of the page the browser is on, e.g. "/board"."""
    return "/" + page.url.split("/", 3)[3].split("?")[0]


def serious_violations(page: Page, axe_source: str) -> list[str]:
    """axe-core's serious and critical WCAG A/AA violations on the page, one line each (rule, help,
    the first offending elements)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(content=axe_source)
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_TAGS)
    return [f"{v['id']} ({v['impact']}): {v['help']} at "
            + ", ".join(" ".join(node["target"]) for node in v["nodes"][:3])
            for v in result["violations"] if v["impact"] in ("serious", "critical")]
