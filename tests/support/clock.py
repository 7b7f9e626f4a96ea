"""The tests' hand on the hotline's one clock (hotline.clock): every module reads the moment set
here, so no module is left on the machine's time while the others are moved."""
from __future__ import annotations

from datetime import datetime

import pytest


def set_clock(monkeypatch: pytest.MonkeyPatch, moment: datetime) -> None:
    """Stop the hotline's clock at the aware datetime `moment` until the test (or the monkeypatch
    context) ends."""
    assert moment.tzinfo is not None, "an aware datetime, please"
    monkeypatch.setattr("hotline.clock._read", lambda: moment)
