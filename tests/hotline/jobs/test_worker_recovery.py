"""The scheduler and the periodic jobs come back by themselves: after Redis lost its data in an
outage, after a worker was killed (SIGKILL), and after a worker was restarted.

The in-process tests drive one scheduler round (`Upkeep.once`); the others start real `hotline
worker` processes against PostgreSQL and Redis (DB of HOTLINE_TEST_REDIS, or a private
redis-server for the outage), with periodic jobs every second so that each takes a few seconds.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from rq import Queue, Worker
from rq.registry import FinishedJobRegistry

from hotline.app import create_app
from hotline.dev.twilio_stand_in import FakeTwilioApi, Twilio
from hotline.jobs import periodic
from hotline.jobs.worker import Upkeep
from hotline.models import sync_reference
from hotline.runtime import QUEUE_NAME
from tests.conftest import (
    ALWAYS_OPEN,
    AUTH_TOKEN,
    PUBLIC_BASE_URL,
    REDIS_URL,
    REQUIRE_REAL,
    _truncate_all,
    services_of,
)
from tests.support.helpers import add_consultant, add_staff_with_token, new_call
from tests.support.journeys import LANGUAGE_KEYS, TOPIC_KEYS, status_of

pytestmark = pytest.mark.processes  # real `hotline worker` processes and redis-servers

HOTLINE = Path(sys.executable).parent / "hotline"
LOCK_KEY = f"rq:scheduler-lock:{QUEUE_NAME}"
LOCK_TTL = 3
FAST = "queue-sweep=1,callback-reconciliation=1,purge-personal-data=1"


# -- one round, in-process ------------------------------------------------------------------------

def test_a_round_after_redis_lost_its_data_takes_the_lock_and_arms_the_periodic_jobs(app):
    hotline = services_of(app)
    upkeep = Upkeep(app, "me", threading.Event(), lock_ttl=LOCK_TTL)
    assert upkeep.once(time.monotonic())
    hotline.redis.flushdb()  # what a Redis restarted without its data holds

    assert upkeep.once(time.monotonic())
    assert hotline.redis.get(LOCK_KEY) == b"me"
    armed = {job_id.rsplit("_", 1)[0] for job_id in hotline.queue().scheduled_job_registry.get_job_ids()}
    assert armed == {f"periodic_{name}" for name in periodic.PERIODIC}


def test_only_the_lock_holder_moves_due_jobs_and_another_takes_over_when_the_lock_expires(app):
    hotline = services_of(app)
    hotline.redis.set(LOCK_KEY, "someone-else", ex=LOCK_TTL)
    queue = hotline.queue()
    job = queue.enqueue_in(periodic.timedelta(seconds=0), "time.time")
    upkeep = Upkeep(app, "me", threading.Event(), lock_ttl=LOCK_TTL)

    assert not upkeep.once(time.monotonic())
    assert job.id in queue.scheduled_job_registry.get_job_ids()
    hotline.redis.delete(LOCK_KEY)  # its holder died LOCK_TTL seconds ago
    assert upkeep.once(time.monotonic())
    assert job.id in queue.get_job_ids()


def test_a_clean_stop_releases_the_lock(app):
    hotline = services_of(app)
    upkeep = Upkeep(app, "me", threading.Event(), lock_ttl=LOCK_TTL)
    upkeep.once(time.monotonic())
    upkeep.release()
    assert hotline.redis.get(LOCK_KEY) is None


# -- real worker processes ------------------------------------------------------------------------

def _skip_or_fail(message: str) -> None:
    if REQUIRE_REAL:
        pytest.fail(message)
    pytest.skip(message)


class WorkerProcess:
    """A `hotline worker` process; its output goes to a file in `folder`."""

    def __init__(self, env: dict[str, str], folder: Path, label: str):
        self.log = folder / f"worker-{label}.log"
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [str(HOTLINE), "worker", "--tick", "0.2", "--arm-every", "0.5", "--lock-ttl", str(LOCK_TTL)],
                env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            self.name = wait_for(self._name_printed, 60, f"worker {label} never printed its name")
        except AssertionError:
            # Never left running: it would take the next tests' jobs and scheduler lock.
            self.process.kill()
            self.process.wait(10)
            raise

    def _name_printed(self) -> str | None:
        """The worker's name from its banner (log lines, such as the Twilio stand-in's, may come first)."""
        lines = self.log.read_text(errors="replace").splitlines()
        banner = next((line for line in lines if line.startswith("hotline worker ")), None)
        return banner.split()[2].rstrip(":") if banner else None

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(20)


def wait_for(found: Callable[[], object], seconds: float, message: str):
    """Poll `found` every 0.1 s until it returns something true; fail after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = found()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(message)


def sweep_ran_since(connection: redis.Redis, since: float) -> Callable[[], bool]:
    """True once a queue sweep of a slot at or after `since` (epoch seconds) has finished."""
    registry = FinishedJobRegistry(queue=Queue(QUEUE_NAME, connection=connection))

    def ran() -> bool:
        try:
            ids = registry.get_job_ids()
        except redis.ConnectionError:
            return False
        return any(i.startswith("periodic_queue-sweep_") and int(i.rsplit("_", 1)[1]) >= since for i in ids)

    return ran


def lock_of(connection: redis.Redis, name: str) -> Callable[[], bool]:
    def held() -> bool:
        try:
            return connection.get(LOCK_KEY) == name.encode()
        except redis.ConnectionError:
            return False

    return held


@pytest.fixture
def worker_env(real_database_url, tmp_path) -> Iterator[dict[str, str]]:
    if not HOTLINE.exists():
        _skip_or_fail(f"no hotline command at {HOTLINE}")
    repo = str(Path(__file__).resolve().parents[3])
    env = {**os.environ, "DATABASE_URL": real_database_url, "REDIS_URL": REDIS_URL,
           "HOTLINE_CONFIG": ALWAYS_OPEN, "HOTLINE_INSTANCE_PATH": str(tmp_path / "instance"),
           "HOTLINE_PERIODIC_SECONDS": FAST, "SECRET_KEY": "test",
           # the repository, after what the run has (tests/shifted_clock moves a shifted run's clock)
           "PYTHONPATH": os.pathsep.join(filter(None, [os.environ.get("PYTHONPATH"), repo]))}
    connection = redis.Redis.from_url(REDIS_URL)
    connection.flushdb()
    yield env
    connection.flushdb()


@pytest.fixture
def workers(worker_env, tmp_path) -> Iterator[Callable[[str], WorkerProcess]]:
    started: list[WorkerProcess] = []

    def start(label: str, env: dict[str, str] | None = None) -> WorkerProcess:
        started.append(WorkerProcess(env or worker_env, tmp_path, label))
        return started[-1]

    yield start
    for worker in started:
        if worker.process.poll() is None:
            worker.process.kill()
            worker.process.wait(10)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """A private redis-server without persistence: killed and started again, it is empty."""

    def __init__(self, folder: Path):
        self.port, self.folder, self.process = _free_port(), folder, None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: self._answers(), 10, "redis-server did not start")

    def _answers(self) -> bool:
        try:
            return redis.Redis.from_url(self.url, socket_connect_timeout=0.5).ping()
        except redis.ConnectionError:
            return False

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(10)


@pytest.fixture
def private_redis(tmp_path) -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        _skip_or_fail("redis-server is not installed (apt-get install redis-server)")
    server = RedisServer(tmp_path)
    server.start()
    yield server
    if server.process.poll() is None:
        server.kill()


def test_after_a_redis_outage_that_lost_all_data_the_same_worker_sweeps_again(worker_env, workers,
                                                                             private_redis):
    connection = redis.Redis.from_url(private_redis.url)
    worker = workers("a", {**worker_env, "REDIS_URL": private_redis.url})
    wait_for(sweep_ran_since(connection, time.time()), 15, "no sweep before the outage")

    private_redis.kill()
    time.sleep(2)
    private_redis.start()  # empty: no lock, no scheduled jobs, no worker registered
    back = time.time()

    wait_for(sweep_ran_since(connection, back), 20, "no sweep within 20 s of Redis coming back empty")
    assert time.time() - back < 20
    assert lock_of(connection, worker.name)()
    assert worker.process.poll() is None  # the same process: nothing restarted it


def test_a_worker_restarted_after_sigkill_takes_the_scheduler_back(worker_env, workers):
    connection = redis.Redis.from_url(REDIS_URL)
    first = workers("first")
    wait_for(lock_of(connection, first.name), 15, "the first worker never held the scheduler lock")
    wait_for(sweep_ran_since(connection, time.time()), 15, "no sweep before the kill")

    first.stop(signal.SIGKILL)
    killed = time.time()
    second = workers("restarted")

    wait_for(lock_of(connection, second.name), LOCK_TTL + 10, "the restarted worker never took the lock")
    wait_for(sweep_ran_since(connection, time.time()), 10, "no sweep after the restart")
    assert time.time() - killed < LOCK_TTL + 20


def test_when_the_lock_holder_is_killed_another_running_worker_takes_over(worker_env, workers):
    connection = redis.Redis.from_url(REDIS_URL)
    holder = workers("holder")
    wait_for(lock_of(connection, holder.name), 15, "the first worker never held the scheduler lock")
    other = workers("other")

    holder.stop(signal.SIGKILL)
    killed = time.time()
    wait_for(lock_of(connection, other.name), LOCK_TTL + 5, "the other worker never took the lock over")
    wait_for(sweep_ran_since(connection, time.time()), 10, "no sweep after the takeover")
    assert time.time() - killed < LOCK_TTL + 15


def test_a_worker_stopped_with_sigterm_releases_the_lock_and_the_next_takes_it_at_once(worker_env, workers):
    connection = redis.Redis.from_url(REDIS_URL)
    first = workers("first")
    wait_for(lock_of(connection, first.name), 15, "the first worker never held the scheduler lock")

    assert first.stop(signal.SIGTERM) == 0
    assert connection.get(LOCK_KEY) is None
    stopped = time.time()
    second = workers("second")
    wait_for(lock_of(connection, second.name), 5, "the new worker did not take the lock")
    wait_for(sweep_ran_since(connection, time.time()), 10, "no sweep after the restart")
    assert time.time() - stopped < 15


def test_an_idle_worker_waits_for_its_next_job_without_redis_errors(worker_env, workers):
    """RQ's worker waits for a job in one blocking BLPOP of minutes; on a connection that gives up
    after REDIS_TIMEOUT (as the jobs' own must) it timed out every second, logged an error and
    slept up to 5 s before listening again, leaving jobs queued meanwhile."""
    env = {key: value for key, value in worker_env.items() if key != "HOTLINE_PERIODIC_SECONDS"}
    worker = workers("idle", env)  # periodic jobs every 15 s or more: idle in between
    time.sleep(4)
    assert worker.process.poll() is None
    log = worker.log.read_text(errors="replace")
    assert "could not connect to Redis" not in log, log


# -- a long outage: the processes wait for Redis, say so, and carry on when it comes back empty -----

OUTAGE_SECONDS = 30


def _log_of(path: Path) -> str:
    return path.read_text(errors="replace")


def _healthz(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


class RunProcess:
    """`hotline run` (web and in-process worker in one process) on a free port, on its own SQLite
    file and the Redis at `redis_url`; its output goes to a file in `folder`."""

    def __init__(self, env: dict[str, str], folder: Path, redis_url: str):
        self.port = _free_port()
        self.log = folder / "run.log"
        self.healthz = f"http://127.0.0.1:{self.port}/healthz"
        env = {**env, "REDIS_URL": redis_url, "DATABASE_URL": f"sqlite:///{folder / 'run.sqlite3'}",
               "HOTLINE_INSTANCE_PATH": str(folder / "run-instance")}
        with self.log.open("wb") as out:
            self.process = subprocess.Popen([str(HOTLINE), "run", "--port", str(self.port)],
                                            env=env, stdout=out, stderr=subprocess.STDOUT)
        wait_for(self._serving, 60, "hotline run never answered /healthz")

    def _serving(self) -> bool:
        try:
            return _healthz(self.healthz)[0] == 200
        except (OSError, ValueError):
            assert self.process.poll() is None, _log_of(self.log)
            return False

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


@pytest.fixture
def run_process(worker_env, tmp_path) -> Iterator[Callable[[str], RunProcess]]:
    started: list[RunProcess] = []

    def start(redis_url: str) -> RunProcess:
        started.append(RunProcess(worker_env, tmp_path, redis_url))
        return started[-1]

    yield start
    for process in started:
        process.kill()


@pytest.fixture
def second_redis(private_redis, tmp_path) -> Iterator[RedisServer]:
    folder = tmp_path / "second-redis"
    folder.mkdir()
    server = RedisServer(folder)
    server.start()
    yield server
    if server.process.poll() is None:
        server.kill()


def _queue_a_caller_while_redis_is_away(app, maria_id: int, token: str) -> str:
    """A caller queues for English x health while Maria is busy; then Maria becomes available (the
    API, as a supervisor). Both land in the database; the jobs that would pair them cannot be
    queued. Returns the caller's call sid."""
    client = app.test_client()

    def transport(url: str, params: dict[str, str], headers: dict[str, str]) -> tuple[int, str]:
        response = client.post(url.removeprefix(PUBLIC_BASE_URL), data=params, headers=headers)
        return response.status_code, response.get_data(as_text=True)

    call = new_call(Twilio(transport, AUTH_TOKEN))
    call.ring()
    call.press(LANGUAGE_KEYS["en"])
    call.press(TOPIC_KEYS["health"])
    assert call.last.find("Enqueue") is not None, "the caller was not queued"
    response = client.put(f"/api/consultants/{maria_id}/status", json={"status": "available"},
                          headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return call.call_sid


def _alive_through(deadline: float, processes: dict[str, tuple[subprocess.Popen, Path]]) -> None:
    """Until monotonic `deadline`, every process keeps running (fails at once, with its log, if not)."""
    while time.monotonic() < deadline:
        for label, (process, log) in processes.items():
            assert process.poll() is None, f"{label} exited ({process.returncode}):\n{_log_of(log)[-3000:]}"
        time.sleep(0.5)


def _outage_lines(log: str) -> tuple[list[str], list[str]]:
    """The lines of a process's log that say Redis went away (its own, and RQ's at each retry), and
    those that say it came back (not /healthz's, which logs each request it answers)."""
    lines = log.splitlines()
    return ([line for line in lines if "Redis unreachable (" in line or "could not connect to Redis" in line],
            [line for line in lines if "Redis reachable again" in line])


def test_a_worker_and_hotline_run_outlive_a_30_s_redis_outage_and_work_when_it_comes_back_empty(
        worker_env, workers, private_redis, second_redis, run_process, real_database_url):
    """Redis stopped for 30 s (the worker with a job in hand): `hotline worker` and `hotline run`
    keep running, log the outage once and its end, /healthz says Redis is unreachable; Redis comes
    back empty (no scheduled jobs, no hint guards, no registered workers) and the work recorded in
    the database meanwhile is done: the sweep rings the consultant for the caller who queued
    during the outage, and the worker is registered again (`rq info` counts it)."""
    app = create_app({"DATABASE_URL": real_database_url, "REDIS_URL": private_redis.url,
                      "PUBLIC_BASE_URL": PUBLIC_BASE_URL, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                      "HOTLINE_CONFIG": ALWAYS_OPEN, "SECRET_KEY": "test"})
    services_of(app).twilio_http = FakeTwilioApi()
    _truncate_all(app)
    with services_of(app).db.session() as db:
        sync_reference(db, services_of(app).catalogue)
        maria = add_consultant(app, db, "Maria", languages=["en"], topics=["health"], status="busy")
        _, token = add_staff_with_token(app, db, "Supervisor")
    connection = redis.Redis.from_url(private_redis.url)
    worker = workers("outage", {**worker_env, "REDIS_URL": private_redis.url})
    run = run_process(second_redis.url)
    wait_for(sweep_ran_since(connection, time.time()), 15, "the worker swept nothing before the outage")
    wait_for(sweep_ran_since(redis.Redis.from_url(second_redis.url), time.time()), 15,
             "hotline run swept nothing before the outage")
    processes = {"hotline worker": (worker.process, worker.log), "hotline run": (run.process, run.log)}

    # Redis goes while a job is in hand: RQ's bookkeeping at its end meets the dead connection.
    in_hand = Queue(QUEUE_NAME, connection=connection).enqueue("time.sleep", 2)
    wait_for(lambda: in_hand.get_status(refresh=True) == "started", 15, "the worker never took the job")
    private_redis.kill()
    second_redis.kill()
    back_at = time.monotonic() + OUTAGE_SECONDS
    call_sid = _queue_a_caller_while_redis_is_away(app, maria.id, token)
    for label, (_, log) in processes.items():
        wait_for(lambda log=log: _outage_lines(_log_of(log))[0], 15, f"{label} never logged Redis away")
    status, body = _healthz(run.healthz)
    assert status == 503
    assert (body["status"], body["database"], body["redis"]) == ("unavailable", "ok", "unreachable")
    _alive_through(back_at, processes)
    with services_of(app).db.session() as db:
        assert status_of(db, maria) == ("available", None)  # nothing paired them while Redis was away

    private_redis.start()  # empty
    second_redis.start()
    returned = time.time()
    with services_of(app).db.session() as db:
        wait_for(lambda: status_of(db, maria) == ("offered", call_sid), 20,
                 "the worker never rang the consultant for the caller who queued during the outage")
    wait_for(sweep_ran_since(redis.Redis.from_url(second_redis.url), returned), 20,
             "hotline run never swept after Redis came back")
    wait_for(lambda: _healthz(run.healthz)[0] == 200, 10, "/healthz of hotline run never said ok again")
    wait_for(lambda: Worker.all(connection=connection), 10, "the worker never registered again (rq info)")
    _alive_through(time.monotonic() + 1, processes)
    for label, (_, log) in processes.items():
        away, back = _outage_lines(_log_of(log))
        assert len(away) == 1 and len(back) == 1, (label, away, back)
    services_of(app).db.dispose()
