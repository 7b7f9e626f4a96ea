"""Offices open 24/7 (the test configuration): all busy says "call again later", no closing time."""
from __future__ import annotations

import pytest

from tests.conftest import config_with
from tests.support.journeys import prompt, route, texts


@pytest.fixture
def app_config(app_config, tmp_path):
    return {**app_config, "HOTLINE_CONFIG": config_with(tmp_path, "[queue]\nmax_size = 0")}


def test_around_the_clock_all_busy_gives_no_closing_time(app, twilio):
    call = route(twilio, "en", "health")
    assert prompt(app, "en", "all_busy_later") in texts(call.last)
    assert not any("23:59" in text for text in texts(call.last))
