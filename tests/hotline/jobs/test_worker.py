"""`hotline worker`: jobs run in the app it built once, and it says what it serves."""
from __future__ import annotations

import logging
import threading

import redis
from sqlalchemy.exc import OperationalError

from hotline.jobs import worker
from hotline.jobs.outages import DATABASE, Backoff, Dependency, database_probe, reason
from tests.conftest import services_of


def test_the_banner_names_queue_redis_without_password_and_job_modules(app):
    lines = worker.describe(app, redis_url="redis://:s3cret@redis.internal:6380/2", name="w1")
    text = "\n".join(lines)
    assert "queue hotline" in text
    assert "redis://redis.internal:6380/2" in text and "s3cret" not in text
    for module in worker.JOB_MODULES:
        assert module in text
    assert "w1" in text


def test_every_job_module_imports():
    assert worker.preload() == list(worker.JOB_MODULES)


# -- dependencies away ----------------------------------------------------------------------------

def test_the_backoff_doubles_up_to_its_cap_and_starts_again_after_an_answer():
    backoff = Backoff(first=0.5, cap=5.0)
    assert [backoff.next() for _ in range(6)] == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0]
    backoff.reset()
    assert backoff.next() == 0.5


def test_an_outage_is_logged_once_when_it_begins_and_once_when_it_ends_whoever_meets_it(caplog):
    refused = redis.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
    answers = [refused, refused, refused, None]
    dependency = Dependency("Redis", lambda: answers.pop(0))
    caplog.set_level(logging.INFO, logger="hotline.jobs.outages")

    dependency.failed(refused)  # one thread meets it
    dependency.failed(refused)  # another, or the same again
    assert dependency.wait(threading.Event(), Backoff(first=0.001, cap=0.001))
    dependency.answered()  # the other thread is answered too

    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == 2, messages
    assert messages[0].startswith("Redis unreachable (ConnectionError: Error 111 connecting")
    assert messages[1].startswith("Redis reachable again after")
    assert not answers and not dependency.down


def test_a_database_error_is_logged_by_its_type_only():
    error = OperationalError("UPDATE calls SET caller=%(n)s", {"n": "+359888123456"}, Exception("gone"))
    assert reason(error) == "OperationalError"


def test_a_job_that_finds_the_database_away_stops_the_worker_until_it_answers(app, monkeypatch):
    """The jobs after it stay queued (each would fail, and be lost) and run once it answers."""
    hotline = services_of(app)
    queue = hotline.queue()
    first = queue.enqueue("hotline.jobs.periodic.run_periodic", "queue-sweep")
    second = queue.enqueue("hotline.jobs.periodic.run_periodic", "queue-sweep")
    engine = hotline.db.engine

    def refused(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    with monkeypatch.context() as away, app.app_context():
        away.setattr(engine, "connect", refused)
        ended = worker.work_round(hotline.redis, threading.Event(), database_probe(engine), burst=True)
    assert ended is not None and ended.dependency == DATABASE
    assert first.get_status(refresh=True) == "failed"
    assert second.id in queue.get_job_ids()

    with app.app_context():
        assert worker.work_round(hotline.redis, threading.Event(), database_probe(engine), burst=True) is None
    assert second.get_status(refresh=True) == "finished"
