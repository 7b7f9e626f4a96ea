"""Running RQ jobs: the app a job runs in, `hotline worker`, and the in-process worker of `hotline run`.

`hotline worker` builds the app once and runs every job in its own process (RQ's SimpleWorker: no
fork per job, so the database pool, Redis and Twilio's HTTP connection are reused; RQ still times
jobs out with SIGALRM in the main thread). A thread beside it, `Upkeep`, does what RQ's forked
scheduler process did, and what it did not: it takes or refreshes the scheduler lock every tick,
moves due scheduled jobs to the queue, and re-arms the periodic jobs every few seconds, so a Redis
that lost its data, or a worker killed or restarted, has them back within seconds.
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
from contextlib import AbstractContextManager
from functools import lru_cache
from urllib.parse import urlsplit, urlunsplit

import redis
from flask import Flask, current_app, has_app_context
from rq import Queue, SimpleWorker
from rq.exceptions import StopRequested
from rq.scheduler import RQScheduler
from rq.scripts import acquire_or_refresh_lock, release_lock

from hotline.services import QUEUE_NAME

log = logging.getLogger(__name__)

# Every module that holds RQ jobs; `hotline worker` imports them before it takes any job.
JOB_MODULES = ("routing.jobs", "callbacks.jobs", "dashboards.jobs", "hotline.periodic", "hotline.retention")

# The app `hotline worker` built before taking jobs (None in any other process): a cache, not state.
_served: Flask | None = None


def serve_app(app: Flask | None) -> None:
    """Make `app` the one jobs of this process run in (None: build one from the environment)."""
    global _served
    _served = app


@lru_cache(maxsize=1)
def _worker_app() -> Flask:
    # A plain `rq worker` builds its app from the environment, once per process (per work horse).
    from hotline.app import create_app

    return create_app()


def job_context() -> AbstractContextManager:
    """A fresh app context for one job (its own database session, closed at the end): of the
    current app in-process, else of the app `hotline worker` built, else of one built here."""
    if has_app_context():
        return current_app.app_context()
    return (_served or _worker_app()).app_context()


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
    from hotline.periodic import intervals

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
    A Redis error is logged and the work tried again at the next tick."""

    def __init__(self, app: Flask, name: str, stop: threading.Event, tick: float = 1.0,
                 arm_every: float = 5.0, lock_ttl: int = 15):
        super().__init__(name="hotline-upkeep", daemon=True)
        hotline = app.extensions["hotline"]
        self.app, self.owner, self.stop = app, name, stop
        self.tick, self.arm_every, self.lock_ttl = tick, arm_every, max(1, int(lock_ttl))
        self.queue = hotline.queue()
        self.redis = hotline.redis
        self.lock_key = RQScheduler.get_locking_key(self.queue.name)
        self.failed = False
        self._scheduler = RQScheduler([self.queue], connection=self.redis, name=name, logging_level="WARNING")
        self._next_arm = 0.0
        self._redis_down = False

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                self.once(time.monotonic())
                self.stop.wait(self.tick)
            self.release()
        except Exception:
            # A worker without a scheduler would look healthy and never sweep again: end the
            # process (warm shutdown) so that its supervisor starts a new one.
            log.exception("the scheduler thread failed; stopping this worker")
            self.failed = True
            os.kill(os.getpid(), signal.SIGTERM)

    def once(self, now: float) -> bool:
        """One tick at monotonic time `now` (seconds). Returns True if this process holds the lock."""
        from hotline.periodic import arm, intervals

        try:
            outcome = acquire_or_refresh_lock(self.redis, self.lock_key, self.owner, self.lock_ttl)
            held = outcome != "taken"
            if held:
                self._scheduler.prepare_registries([self.queue.name])
                self._scheduler.enqueue_scheduled_jobs()
            # A lock newly taken: at start, or its holder (or Redis's data) gone. Arm at once.
            if outcome == "acquired" or now >= self._next_arm:
                arm(self.queue, every=intervals(self.app.extensions["hotline"].settings))
                self._next_arm = now + self.arm_every
        except redis.RedisError as error:
            if not self._redis_down:
                log.warning("Redis unreachable (%s); scheduler retrying every %s s", error, self.tick)
            self._redis_down = True
            return False
        if self._redis_down:
            log.info("Redis reachable again; periodic jobs re-armed")
            self._redis_down = False
        return held

    def release(self) -> None:
        """Give up the scheduler lock if this process holds it (at a clean stop)."""
        try:
            release_lock(self.redis, self.lock_key, self.owner)
        except redis.RedisError as error:
            log.warning("could not release the scheduler lock (%s); it expires in %s s", error, self.lock_ttl)


class HotlineWorker(SimpleWorker):
    """RQ's SimpleWorker that tells `serve` when SIGTERM or SIGINT asked it to stop."""

    # RQ waits up to 60 s between attempts to reach Redis; after an outage, jobs would wait that long.
    max_connection_wait_time = 5.0
    stopping: threading.Event

    def request_stop(self, signum, frame):
        self.stopping.set()
        super().request_stop(signum, frame)

    def _install_signal_handlers(self):
        super()._install_signal_handlers()
        if self.stopping.is_set():  # the signal came before RQ's handlers were in place
            self._stop_requested = True


def listening_connection(client: redis.Redis) -> redis.Redis:
    """A client of the same Redis as `client`, with a pool of its own, for RQ's worker loop. RQ
    waits for the next job in one blocking BLPOP of minutes and raises its pool's socket timeout
    to match; `client` (the app's, which jobs use) must keep its REDIS_TIMEOUT, and with it the
    wait timed out every second, was logged as a Redis error and slept up to
    HotlineWorker.max_connection_wait_time seconds before listening again."""
    pool = client.connection_pool
    kwargs = {key: value for key, value in pool.connection_kwargs.items() if key != "socket_timeout"}
    return redis.Redis(connection_pool=type(pool)(connection_class=pool.connection_class, **kwargs))


def process_name() -> str:
    """A name for this worker process, unique across machines and restarts."""
    return f"{socket.gethostname()}.{os.getpid()}.{uuid.uuid4().hex[:6]}"


def _stop_on_signals(stop: threading.Event) -> None:
    # Until RQ installs its own handlers in work(), SIGTERM or SIGINT only asks for a stop (the
    # default SIGTERM would end the process without releasing the scheduler lock).
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())


def serve(app: Flask, name: str, tick: float = 1.0, arm_every: float = 5.0, lock_ttl: int = 15,
          retry_seconds: float = 2.0) -> None:
    """Run the queue's jobs in this process, with the scheduler and periodic jobs (`Upkeep`),
    until SIGTERM or SIGINT (a warm shutdown: the job running ends first). Must run in the main
    thread. Raises RuntimeError if the scheduler thread failed (the process should exit non-zero)."""
    serve_app(app)
    preload()
    hotline = app.extensions["hotline"]
    stop = threading.Event()
    upkeep = Upkeep(app, name, stop, tick=tick, arm_every=arm_every, lock_ttl=lock_ttl)
    _stop_on_signals(stop)
    upkeep.start()
    listening = listening_connection(hotline.redis)
    try:
        while not stop.is_set():
            _stop_on_signals(stop)  # RQ's handlers of the last round would raise StopRequested here
            worker = HotlineWorker([Queue(QUEUE_NAME, connection=listening)], connection=listening)
            worker.stopping = stop
            try:
                worker.work(logging_level="INFO")
            except redis.RedisError as error:  # registering the worker, before RQ's own retries
                log.warning("Redis unreachable (%s); worker retrying in %s s", error, retry_seconds)
            if not stop.is_set():
                log.warning("the RQ worker loop ended; starting it again in %s s", retry_seconds)
                stop.wait(retry_seconds)
    finally:
        stop.set()
        upkeep.join()
    if upkeep.failed:
        raise RuntimeError("the scheduler thread failed (see the log above)")


def run_in_process(app: Flask, stop: threading.Event, poll_seconds: float = 1.0) -> None:
    """Work the queue and its scheduled jobs until `stop` is set. Must run in the main thread:
    RQ installs signal handlers and times jobs out with SIGALRM."""
    hotline = app.extensions["hotline"]
    worker = SimpleWorker([hotline.queue()], connection=hotline.redis)
    with app.app_context():
        try:
            while not stop.is_set():
                worker.work(burst=True, with_scheduler=True, logging_level="WARNING")
                stop.wait(poll_seconds)
        except (KeyboardInterrupt, StopRequested):
            # RQ's SIGINT/SIGTERM handlers stay installed between bursts and raise this.
            stop.set()
    log.info("in-process worker stopped")
