"""The desk's counters (time in status, wrap-up left) count in the hotline's time, not in the time of
the computer the desk is open on: a staff computer's clock may be minutes, or years, off."""
from __future__ import annotations

import re
from datetime import timedelta

from hotline.models import utcnow
from tests.browser.site import add_person, log_in
from tests.support.clock import set_clock


def _minutes_seconds(text: str) -> int:
    match = re.fullmatch(r"(\d+):(\d\d)", text.strip())
    assert match, text
    return int(match.group(1)) * 60 + int(match.group(2))


def test_the_desk_counts_in_the_hotlines_time_whatever_the_browsers_clock(app, db, context, monkeypatch):
    # The hotline's clock is three years ahead of the browser's (a test clock; in life, a
    # staff computer whose clock is wrong), and stands still.
    moment = utcnow() + timedelta(days=3 * 365, hours=5)
    set_clock(monkeypatch, moment)
    maria = add_person(app, db, "Maria", "consultant")
    maria.status, maria.status_since = "wrap_up", moment - timedelta(seconds=30)
    maria.wrap_up_until = moment + timedelta(seconds=90)
    db.commit()
    desk = context.new_page()
    log_in(desk, "Maria")
    desk.wait_for_timeout(2_500)  # the counters tick every second, the live part every two
    elapsed = _minutes_seconds(desk.locator("#desk-live .elapsed").inner_text())
    left = _minutes_seconds(desk.locator("#desk-live .countdown").inner_text())
    # The browser's time flows while the test's stands still: a few seconds either way.
    assert 30 <= elapsed <= 45, elapsed
    assert 75 <= left <= 90, left
