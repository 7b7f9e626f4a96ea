"""A callback's time: due at its window's start or the office's next opening; retried after the
configured delay, never outside office hours (weekends and Bulgarian holidays included); closed as
unreachable after the last attempt. Time-controlled, on the packaged opening hours."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from callbacks import schedule
from tests.conftest import config_with, services_of
from tests.support.catalogue import catalogue_app
from tests.support.placing import booked, reread, set_clock

SOFIA = ZoneInfo("Europe/Sofia")


@pytest.fixture
def app_config(app_config, tmp_path):
    """The packaged hours: Sofia 09:00-17:30 on weekdays, Bulgarian holidays closed."""
    return {**app_config, "HOTLINE_CONFIG": config_with(tmp_path, "", base=None)}


def _sofia(*args) -> datetime:
    return datetime(*args, tzinfo=SOFIA)


@pytest.mark.parametrize("at, expected", [
    (_sofia(2026, 11, 24, 10, 0), _sofia(2026, 11, 24, 10, 0)),   # open: as it is
    (_sofia(2026, 11, 24, 18, 0), _sofia(2026, 11, 25, 9, 0)),    # after closing: next morning
    (_sofia(2026, 11, 28, 11, 0), _sofia(2026, 11, 30, 9, 0)),    # Saturday: Monday
    # Christmas Eve to the 26th closed, the 26th a Saturday: Monday the 28th is the day off in lieu.
    (_sofia(2026, 12, 23, 17, 45), _sofia(2026, 12, 29, 9, 0)),
    (_sofia(2026, 12, 31, 18, 0), _sofia(2027, 1, 4, 9, 0)),      # New Year, then the weekend
])
def test_a_callback_is_only_ever_due_within_office_hours(at, expected):
    # The packaged hours, as the app_config above gives the app, without building one.
    with catalogue_app().app_context():
        assert schedule.next_allowed("sofia", at) == expected


def _failed_attempt(app, db, monkeypatch, now: datetime, attempts: int):
    callback = booked(db, now=now)
    callback.state, callback.attempts = "in_progress", attempts
    db.commit()
    set_clock(monkeypatch, now)
    with app.app_context(), services_of(app).db.session() as session:
        schedule.retry_or_close(session, session.get(type(callback), callback.id), now)
    return reread(db, callback)


def test_a_retry_comes_after_the_configured_delay(app, db, monkeypatch):
    again = _failed_attempt(app, db, monkeypatch, _sofia(2026, 11, 24, 10, 0), attempts=1)
    assert (again.state, again.due_at) == ("scheduled", _sofia(2026, 11, 24, 10, 15))
    later = _failed_attempt(app, db, monkeypatch, _sofia(2026, 11, 24, 10, 0), attempts=2)
    assert later.due_at == _sofia(2026, 11, 24, 11, 0)  # the second delay: 60 minutes


def test_a_retry_that_would_fall_after_closing_waits_for_the_next_working_day(app, db, monkeypatch):
    friday_evening = _failed_attempt(app, db, monkeypatch, _sofia(2026, 11, 27, 17, 20), attempts=1)
    assert friday_evening.due_at == _sofia(2026, 11, 30, 9, 0)


def test_after_the_last_attempt_the_callback_is_unreachable(app, db, monkeypatch):
    done = _failed_attempt(app, db, monkeypatch, _sofia(2026, 11, 24, 10, 0), attempts=3)
    assert done.state == "unreachable" and done.closed_at is not None


def test_waking_a_callback_when_the_office_has_closed_moves_it_to_the_next_opening(app, db, monkeypatch):
    evening = _sofia(2026, 11, 24, 18, 0)
    callback = booked(db, now=evening)
    set_clock(monkeypatch, evening)
    with app.app_context(), services_of(app).db.session() as session:
        assert schedule.wake(session, callback.id, evening) is None
    moved = reread(db, callback)
    assert (moved.state, moved.due_at) == ("scheduled", _sofia(2026, 11, 25, 9, 0))
