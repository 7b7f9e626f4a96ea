"""Typed text isolated as Chromium lays it out: on the live board after board.js has put a fresh
live part in place (innerHTML of the fragment it fetched), and on the desk after desk.js did, every
text node holding a seeded name or note is the whole text of an element that the browser isolates
(computed `unicode-bidi: isolate` or `plaintext`). The pages' HTML itself is checked for every page
and role in tests/dashboards/web/test_typed_text_isolated.py."""
from __future__ import annotations

from dashboards.web import board_views
from tests.browser.site import log_in, path_of
from tests.dashboards.web.test_typed_text_isolated import (
    CONSULTANT,
    NOTES,
    OTHER_CONSULTANT,
    REFERRAL,
    SEEDS,
    SUPERVISOR,
    seed,
)

ISOLATING = ("isolate", "plaintext", "isolate-override")
# Each text node holding a seeded value: its text, its element, and how the browser isolates it.
TYPED_NODES = """seeds => {
  const found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (const seed of seeds) {
      if (!node.data.includes(seed)) { continue; }
      const element = node.parentElement;
      found.push({seed: seed, text: node.data.trim(), element: element.tagName.toLowerCase(),
                  bidi: getComputedStyle(element).unicodeBidi});
    }
  }
  return found;
}"""


def _replaced(page, selector: str) -> None:
    """Wait until the page's script has replaced the element at `selector` with a fetched one (the
    desk's only when its key changed: the key shown is made stale at the same time)."""
    page.evaluate("selector => { const e = document.querySelector(selector); e.dataset.old = '1'; "
                  "if (e.dataset.key) { e.dataset.key = 'stale'; } }", selector)
    page.wait_for_function("selector => { const e = document.querySelector(selector); "
                           "return e && !e.dataset.old; }", arg=selector, timeout=5_000)


def _not_isolated(page) -> tuple[set[str], list[dict]]:
    nodes = page.evaluate(TYPED_NODES, list(SEEDS))
    return ({node["seed"] for node in nodes},
            [node for node in nodes if node["text"] != node["seed"] or node["bidi"] not in ISOLATING])


def test_the_live_board_and_desk_isolate_typed_text_after_their_scripts_refresh_them(
        app, db, context, base_url, monkeypatch):
    monkeypatch.setattr(board_views, "FRAGMENT_CACHE_SECONDS", 0)  # each poll renders the rows of now
    seed(app, db)
    board = context.new_page()
    log_in(board, SUPERVISOR)
    assert path_of(board) == "/board"
    _replaced(board, "#board-live .board")
    seen, wrong = _not_isolated(board)
    assert {SUPERVISOR, CONSULTANT, OTHER_CONSULTANT} <= seen, seen
    assert wrong == []

    desk = context.browser.new_context(base_url=base_url, locale="en-GB").new_page()
    log_in(desk, CONSULTANT)
    assert path_of(desk) == "/desk"
    _replaced(desk, "#desk-live")
    seen, wrong = _not_isolated(desk)
    assert {CONSULTANT, NOTES, REFERRAL} <= seen, seen
    assert wrong == []
