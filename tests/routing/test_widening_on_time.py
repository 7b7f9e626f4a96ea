"""Each widening happens when its time comes (issue 17: a caller waited about 265 s with a free
consultant of the other office who had their language and topic, other_office_after_seconds
being 180). The caller's wait URL is asked for again when the next step of their wait is due
(widen_after, the other office, the offer of other languages, the longest wait), not a whole
announce_seconds or hold-music track later; and the periodic sweep pairs every free consultant
who may take a waiting caller now, callers who agreed to other languages included. Driven through
the signed webhooks, the clock set as the queue tests set it."""
from __future__ import annotations

from datetime import timedelta

import pytest

from hotline.models import utcnow
from routing import jobs
from tests.conftest import config_with, services_of
from tests.support.clock import set_clock
from tests.support.helpers import add_consultant
from tests.support.journeys import BURGAS_NUMBER, journal, prompt, route, status_of, texts
from tests.support.queueing import enqueued, run_jobs, rung, wait_turn


def _pause(turn) -> int:
    """The seconds of silence that end this turn of the wait (after them Twilio asks again)."""
    pause = turn.find("Gather/Pause")
    assert pause is not None, "no <Pause> in this turn"
    return int(pause.attrib["length"])


def _sweep(app) -> None:
    """The periodic queue sweep runs (hotline.jobs.periodic), then the jobs it queued."""
    with app.app_context():
        jobs.sweep_job()
    run_jobs(app)


def test_the_wait_url_comes_back_when_each_step_of_the_wait_is_due(app, db, twilio, twilio_api, monkeypatch):
    """announce_seconds is 45; the steps are due at 120 (any topic), 180 (the other office), 240
    (the offer of English or Bulgarian) and 1200 s (the longest wait)."""
    sofia = add_consultant(app, db, "Free in Sofia", office="sofia")
    call = route(twilio, "en", "health", called=BURGAS_NUMBER)
    enqueue = enqueued(call)
    start = utcnow()
    assert _pause(wait_turn(call, enqueue)) == 45

    set_clock(monkeypatch, start + timedelta(seconds=100))
    assert _pause(wait_turn(call, enqueue)) == 20  # asked again at 120 s

    set_clock(monkeypatch, start + timedelta(seconds=150))
    turn = wait_turn(call, enqueue)
    assert texts(turn)[0] == prompt(app, "en", "queue_widened")
    assert _pause(turn) == 30  # asked again at 180 s, not at 195 s
    run_jobs(app)
    assert rung(twilio, twilio_api) == [] and status_of(db, sofia) == ("available", None)

    set_clock(monkeypatch, start + timedelta(seconds=180))
    assert texts(wait_turn(call, enqueue))[0] == prompt(app, "en", "queue_widened_office")
    assert ("widened", "other_office", None) in journal(db, call)
    run_jobs(app)
    [leg] = rung(twilio, twilio_api)
    assert leg.staff_id == sofia.id


def test_the_offer_of_other_languages_and_the_longest_wait_are_not_late(app, db, twilio, twilio_api,
                                                                        monkeypatch):
    call = route(twilio, "uk", "health")
    enqueue = enqueued(call)
    start = utcnow()
    set_clock(monkeypatch, start + timedelta(seconds=230))
    assert _pause(wait_turn(call, enqueue)) == 10  # the offer is due at 240 s
    set_clock(monkeypatch, start + timedelta(seconds=240))
    turn = wait_turn(call, enqueue)
    assert prompt(app, "uk", "queue_offer_languages", digit="3",
                  languages="англійською або болгарською") in texts(turn)
    set_clock(monkeypatch, start + timedelta(seconds=1190))
    assert _pause(wait_turn(call, enqueue)) == 10  # the longest wait ends at 1200 s
    set_clock(monkeypatch, start + timedelta(seconds=1200))
    assert wait_turn(call, enqueue).find("Leave") is not None


class TestHoldMusic:
    @pytest.fixture
    def app_config(self, app_config, tmp_path):
        return {**app_config, "HOTLINE_CONFIG": config_with(
            tmp_path, '[queue]\nhold_music_url = "https://music.example.org/hold.mp3"')}

    def test_a_step_due_before_the_next_announcement_is_waited_for_in_silence(
            self, app, db, twilio, twilio_api, monkeypatch):
        """A hold-music track lasts as long as it lasts: when a step is due sooner than
        announce_seconds, the turn waits for it instead (the music plays again from the next turn)."""
        call = route(twilio, "en", "health", called=BURGAS_NUMBER)
        enqueue = enqueued(call)
        start = utcnow()
        first = wait_turn(call, enqueue)
        assert first.find("Gather/Play").text == "https://music.example.org/hold.mp3"
        set_clock(monkeypatch, start + timedelta(seconds=150))
        turn = wait_turn(call, enqueue)
        assert turn.find("Gather/Play") is None and _pause(turn) == 30


def test_the_sweep_pairs_a_free_consultant_with_a_caller_who_agreed_to_their_language(
        app, db, twilio, twilio_api, monkeypatch):
    """The job the agreement asked for was lost (a worker died with it); the English consultant's
    wrap-up ran out with no job of theirs either. The sweep, a few seconds on, rings her."""
    english = add_consultant(app, db, "English", languages=["en"], topics=["health"], status="busy")
    call = route(twilio, "uk", "health")
    enqueue = enqueued(call)
    set_clock(monkeypatch, utcnow() + timedelta(seconds=241))
    wait_turn(call, enqueue)
    call.press("3")
    assert ("languages_accepted", "en,bg", None) in journal(db, call)
    services_of(app).queue().empty()  # the pairing job is lost
    english.status = "available"
    db.commit()
    _sweep(app)
    [leg] = rung(twilio, twilio_api)
    assert leg.staff_id == english.id
    assert status_of(db, english) == ("offered", call.call_sid)
