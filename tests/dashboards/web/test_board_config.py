"""The board's thresholds come from the [board] table of the configuration."""
from __future__ import annotations

import pytest

from tests.conftest import config_with
from tests.dashboards.api.test_queues_api import queued
from tests.dashboards.web.conftest import add_person, log_in


@pytest.fixture
def app_config(app_config, tmp_path):
    app_config["HOTLINE_CONFIG"] = config_with(
        tmp_path, "[board]\nservice_level_seconds = 45\nlongest_wait_alert_seconds = 30\n")
    return app_config


def test_the_thresholds_come_from_the_configuration(app, db, web):
    add_person(app, db, "Desislava", "supervisor")
    log_in(web, "Desislava")
    queued(db, "en", "health", minutes_ago=1)
    html = web.get("/board/live").get_data(as_text=True)
    assert "Service level (45 s)" in html and "longer than 0:30" in html
