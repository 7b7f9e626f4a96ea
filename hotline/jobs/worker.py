"""Running RQ jobs: the app a job runs in, `hotline worker`, and the in-process worker of `hotline run`.

`hotline worker` builds the app once and runs every job in its own process (RQ's SimpleWorker: no
fork per job, so the database pool, Redis and Twilio's HTTP connection are reused; RQ still times
jobs out with SIGALRM in the main thread). A thread beside it, `Upkeep`, does what RQ's forked
scheduler process did, and what it did not: it takes or refreshes the scheduler lock every tick,
moves due scheduled jobs to the queue, and re-arms the periodic jobs every few seconds, so a Redis
that lost its data, or a worker killed or restarted, has them back within seconds.

Neither `hotline worker` nor the in-process worker ends because Redis or the database is away:
they wait for it with backoff, log each outage once and its end (hotline.jobs.outages), and go on with
a new RQ worker (hotline.jobs.rq_loop), registered again in a Redis that came back empty.
"""
from __future__ import annotations

import importlib
import logging
import os
import signal
import socket
import threading
import time
import uuid
from urllib.parse import urlsplit, urlunsplit

import redis
from flask import Flask
from rq.exceptions import StopRequested
from rq.scheduler import RQScheduler
from rq.scripts import acquire_or_refresh_lock, release_lock

from hotline.jobs.context import serve_app
from hotline.jobs.outages import DATABASE, REDIS, Backoff, Dependency, database_probe, redis_probe
from hotline.jobs.periodic import arm, intervals
from hotline.jobs.rq_loop import listening_connection, work_round

log = logging.getLogger(__name__)

# Every module that holds RQ jobs; `hotline worker` imports them before it takes any job.
JOB_MODULES = ("routing.jobs", "callbacks.jobs", "dashboards.jobs", "hotline.jobs.periodic",
               "hotline.retention")


def preload() -> list[str]:
    """Import every job module (JOB_MODULES); returns their names. Raises ImportError if one is missing."""
    for module in JOB_MODULES:
        importlib.import_module(module)
    return list(JOB_MODULES)


def without_password(url: str) -> str:
    """`url` with any password left out (for printing)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = f"{parts.username}@" if parts.username else ""
    netloc = user + (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def describe(app: Flask, redis_url: str, name: str) -> list[str]:
    """The lines `hotline worker` prints at start: its name, queue, Redis, database, job modules."""
    hotline = app.extensions["hotline"]
    every = ", ".join(f"{job} every {int(interval.total_seconds())} s"
                      for job, interval in intervals(hotline.settings).items())
    return [
        f"hotline worker {name}: queue {hotline.queue().name} on {without_password(redis_url)}",
        f"database: {hotline.db.engine.url.render_as_string(hide_password=True)}",
        f"job modules: {', '.join(JOB_MODULES)}",
        f"scheduler and periodic jobs: {every}",
    ]


class Upkeep(threading.Thread):
    """The scheduler of one worker process, as a thread: every `tick` seconds it holds RQ's
    scheduler lock of the queue (takes it when free, refreshes it while its own; it expires
    `lock_ttl` seconds after its holder stops) and, while holding it, moves due scheduled jobs to
    the queue; every `arm_every` seconds, and whenever it takes the lock, it arms the periodic
    jobs (harmless when armed already).
    A Redis error is reported to `redis_state` (logged once an outage) and the work tried again
    after a backoff (hotline.jobs.outages); the first round that Redis answers arms the periodic jobs."""

    def __init__(self, app: Flask, name: str, stop: threading.Event, tick: float = 1.0,
                 arm_every: float = 5.0, lock_ttl: int = 15, redis_state: Dependency | None = None):
        super().__init__(name="hotline-upkeep", daemon=True)
        hotline = app.extensions["hotline"]
        self.app, self.owner, self.stop = app, name, stop
        self.tick, self.arm_every, self.lock_ttl = tick, arm_every, max(1, int(lock_ttl))
        self.queue = hotline.queue()
        self.redis = hotline.redis
        self.redis_state = redis_state or Dependency(REDIS, redis_probe(self.redis))
        self.lock_key = RQScheduler.get_locking_key(self.queue.name)
        self.failed = False
        self.failing = False  # the last round met a Redis error
        self._scheduler = RQScheduler([self.queue], connection=self.redis, name=name, logging_level="WARNING")
        self._next_arm = 0.0
        self._backoff = Backoff()

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                self.once(time.monotonic())
                self.stop.wait(self._backoff.next() if self.failing else self.tick)
            self.release()
        except Exception:
            # A worker without a scheduler would look healthy and never sweep again: end the
            # process (warm shutdown) so that its supervisor starts a new one.
            log.exception("the scheduler thread failed; stopping this worker")
            self.failed = True
            os.kill(os.getpid(), signal.SIGTERM)

    def once(self, now: float) -> bool:
        """One tick at monotonic time `now` (seconds). Returns True if this process holds the lock."""
        try:
            outcome = acquire_or_refresh_lock(self.redis, self.lock_key, self.owner, self.lock_ttl)
            held = outcome != "taken"
            if held:
                self._scheduler.prepare_registries([self.queue.name])
                self._scheduler.enqueue_scheduled_jobs()
            # A lock newly taken (at start, or its holder or Redis's data gone), or Redis back: arm at once.
            if outcome == "acquired" or now >= self._next_arm:
                arm(self.queue, every=intervals(self.app.extensions["hotline"].settings))
                self._next_arm = now + self.arm_every
        except redis.RedisError as error:
            self.redis_state.failed(error)
            self.failing, self._next_arm = True, 0.0
            return False
        self.redis_state.answered()
        self.failing = False
        self._backoff.reset()
        return held

    def release(self) -> None:
        """Give up the scheduler lock if this process holds it (at a clean stop)."""
        try:
            release_lock(self.redis, self.lock_key, self.owner)
        except redis.RedisError as error:
            log.warning("could not release the scheduler lock (%s); it expires in %s s", error, self.lock_ttl)


def process_name() -> str:
    """A name for this worker process, unique across machines and restarts."""
    return f"{socket.gethostname()}.{os.getpid()}.{uuid.uuid4().hex[:6]}"


def _stop_on_signals(stop: threading.Event) -> None:
    # Until RQ installs its own handlers in work(), SIGTERM or SIGINT only asks for a stop (the
    # default SIGTERM would end the process without releasing the scheduler lock).
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())


def serve(app: Flask, name: str, tick: float = 1.0, arm_every: float = 5.0, lock_ttl: int = 15) -> None:
    """Run the queue's jobs in this process, with the scheduler and periodic jobs (`Upkeep`),
    until SIGTERM or SIGINT (a warm shutdown: the job running ends first). Must run in the main
    thread. Redis or the database away never ends it: it waits for them with backoff, logs each
    outage once and its end (hotline.jobs.outages), and goes on (a new RQ worker, registered again).
    Raises RuntimeError if the scheduler thread failed (the process should exit non-zero)."""
    serve_app(app)
    preload()
    hotline = app.extensions["hotline"]
    stop = threading.Event()
    listening = listening_connection(hotline.redis)
    states = {REDIS: Dependency(REDIS, redis_probe(listening)),
              DATABASE: Dependency(DATABASE, database_probe(hotline.db.engine))}
    upkeep = Upkeep(app, name, stop, tick=tick, arm_every=arm_every, lock_ttl=lock_ttl,
                    redis_state=states[REDIS])
    _stop_on_signals(stop)
    upkeep.start()
    backoff = Backoff()
    try:
        while not stop.is_set():
            away = work_round(listening, stop, states[DATABASE].probe, burst=False)
            _stop_on_signals(stop)  # RQ's handlers of the round would raise StopRequested while we wait
            if stop.is_set():
                break
            if away is None:  # RQ's loop ended on an error it logged
                log.warning("the RQ worker loop ended; starting it again")
                stop.wait(backoff.next())
                continue
            states[away.dependency].failed(away.error)
            states[away.dependency].wait(stop, backoff)
    finally:
        stop.set()
        upkeep.join()
    if upkeep.failed:
        raise RuntimeError("the scheduler thread failed (see the log above)")


def run_in_process(app: Flask, stop: threading.Event, poll_seconds: float = 1.0) -> None:
    """Work the queue and its scheduled and periodic jobs (`Upkeep`, a round at a time) until
    `stop` is set. Must run in the main thread: RQ installs signal handlers and times jobs out
    with SIGALRM. Redis or the database away never ends it (as `serve`)."""
    hotline = app.extensions["hotline"]
    states = {REDIS: Dependency(REDIS, redis_probe(hotline.redis)),
              DATABASE: Dependency(DATABASE, database_probe(hotline.db.engine))}
    upkeep = Upkeep(app, process_name(), stop, redis_state=states[REDIS])
    backoff = Backoff()
    with app.app_context():
        try:
            while not stop.is_set():
                upkeep.once(time.monotonic())  # due jobs moved, periodic jobs armed (Redis back empty)
                if upkeep.failing:
                    states[REDIS].wait(stop, backoff)
                    continue
                away = work_round(hotline.redis, stop, states[DATABASE].probe, burst=True)
                if away is not None:
                    states[away.dependency].failed(away.error)
                    states[away.dependency].wait(stop, backoff)
                    continue
                stop.wait(poll_seconds)
        except (KeyboardInterrupt, StopRequested):
            # RQ's SIGINT/SIGTERM handlers stay installed between bursts and raise this.
            stop.set()
        upkeep.release()
    log.info("in-process worker stopped")
