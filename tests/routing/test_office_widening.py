"""The other office, the last step of widening: a caller is served by their own office's
consultants (the office of the number they dialled) until other_office_after_seconds, then by
either office, and told so. A caller whose office is closed is served by the open one at once."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from hotline.models import utcnow
from tests.conftest import config_with
from tests.support.clock import set_clock
from tests.support.helpers import add_consultant
from tests.support.journeys import BURGAS_NUMBER, dialled, journal, prompt, route, status_of, texts
from tests.support.queueing import enqueued, entry_of, run_jobs, rung, wait_turn

SOFIA = ZoneInfo("Europe/Sofia")


def test_after_the_office_wait_the_other_office_is_rung_and_the_caller_told(app, db, twilio, twilio_api,
                                                                             monkeypatch):
    sofia = add_consultant(app, db, "Free in Sofia", office="sofia")
    call = route(twilio, "en", "health", called=BURGAS_NUMBER)
    enqueue = enqueued(call)
    run_jobs(app)
    assert rung(twilio, twilio_api) == [] and status_of(db, sofia) == ("available", None)

    set_clock(monkeypatch, utcnow() + timedelta(seconds=150))  # past the topic widening only
    heard = texts(wait_turn(call, enqueue))
    assert prompt(app, "en", "queue_widened") in heard
    assert prompt(app, "en", "queue_widened_office") not in heard
    run_jobs(app)
    assert rung(twilio, twilio_api) == []

    set_clock(monkeypatch, utcnow() + timedelta(seconds=181))
    assert texts(wait_turn(call, enqueue))[0] == prompt(app, "en", "queue_widened_office")
    run_jobs(app)
    [leg] = rung(twilio, twilio_api)
    assert leg.staff_id == sofia.id
    assert entry_of(db, call).widen_level == 2
    assert ("widened", "other_office", None) in journal(db, call)


def test_a_free_consultant_of_the_other_office_takes_a_caller_past_the_office_wait(
        app, db, client, twilio, twilio_api, monkeypatch):
    """The consultant's side: becoming free, they get the other office's caller only once that
    caller has waited long enough."""
    from tests.support.helpers import add_staff_with_token

    sofia = add_consultant(app, db, "Sofia", office="sofia", status="busy")
    _, token = add_staff_with_token(app, db, "Supervisor")
    call = route(twilio, "en", "health", called=BURGAS_NUMBER)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.put(f"/api/consultants/{sofia.id}/status", json={"status": "available"},
                      headers=headers).status_code == 200
    run_jobs(app)
    assert rung(twilio, twilio_api) == []
    set_clock(monkeypatch, utcnow() + timedelta(seconds=181))
    from routing import offers

    with app.app_context():
        from hotline import runtime

        assert offers.offer_next_caller(runtime.session(), sofia.id).call_sid == call.call_sid


@pytest.fixture
def packaged_hours(app_config, tmp_path):
    return {**app_config, "HOTLINE_CONFIG": config_with(tmp_path, "", base=None)}


class TestOfficeClosed:
    @pytest.fixture
    def app_config(self, packaged_hours):
        """The packaged hours: Burgas closes at 13:00 on Fridays, Sofia at 17:30."""
        return packaged_hours

    def test_a_caller_of_a_closed_office_is_rung_through_to_the_open_one_at_once(
            self, app, db, twilio, twilio_api, monkeypatch):
        sofia = add_consultant(app, db, "Free in Sofia", office="sofia")
        set_clock(monkeypatch, datetime(2026, 11, 20, 14, 0, tzinfo=SOFIA))  # a Friday afternoon
        call = route(twilio, "en", "health", called=BURGAS_NUMBER)
        assert dialled(call) == sofia.phone
