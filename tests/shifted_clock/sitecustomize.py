"""Moves the wall clock of every Python process of a test run (pytest and the `hotline` processes
the tests start) by HOTLINE_CLOCK_SHIFT_SECONDS, so the suite can run at another date and hour
(a night, a weekend, a daylight-saving change, a holiday, years ahead): .ci/run's second pass, and
the README's command for any moment. Python imports this module at start-up when this folder is
on PYTHONPATH. The clock then runs on from the shifted moment at its real pace; time.monotonic
is left alone. Every process computes the same shifted time, as they all add the same offset to
the machine's clock. Other programs (PostgreSQL, Redis, Chromium) keep the machine's clock, as
other machines would.

Debian's faketime was tried first: its libfaketime 0.9.10 makes Python 3.11's time.sleep fail
(EINVAL) when the monotonic clock is left real, and timed lock waits hang when it is moved.
"""
import os

_shift = os.environ.get("HOTLINE_CLOCK_SHIFT_SECONDS")
if _shift:
    import time

    import time_machine

    time_machine.travel(time.time() + float(_shift), tick=True).start()
    HOTLINE_CLOCK_MOVED = True  # tests/conftest.py checks it
