"""The one clock every decision reads (opening hours, waits, due callbacks, idle staff sessions).

Business code calls `utcnow()` (also exported as hotline.models.utcnow) and nothing else for the
time: no datetime.now(), time.time() or date.today() (tests/hotline/test_one_clock.py checks the
source). Tests set the clock for the whole process in one place (tests/support/clock.py replaces `_read`),
so a test never depends on the date or hour it runs at, and no module is left on the machine's
time when the others are moved. In production `_read` is the machine's clock, unchanged.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone


def machine_utcnow() -> datetime:
    """The machine's clock, aware UTC. Only this module and tests/support/clock.py call it."""
    return datetime.now(timezone.utc)


# What utcnow() reads: the machine's clock, unless a test put its own here (tests/support/clock.py).
_read: Callable[[], datetime] = machine_utcnow


def utcnow() -> datetime:
    """Now as an aware datetime in UTC, from the hotline's one clock."""
    return _read()


def timestamp() -> float:
    """Now as seconds since the Unix epoch (float), from the same clock as utcnow(): for values
    kept as numbers (a session's last activity, a cache entry's age)."""
    return utcnow().timestamp()
