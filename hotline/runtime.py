"""What every area shares at run time: settings, catalogue, database and Redis, per app."""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import fakeredis
import redis
from flask import Flask, current_app, g
from redis.backoff import NoBackoff
from redis.retry import Retry as RedisRetry
from rq import Queue, Retry
from rq.exceptions import DuplicateJobError
from sqlalchemy.orm import Session
from twilio.http import HttpClient

from hotline.catalogue import Catalogue
from hotline.clock import utcnow
from hotline.db import Database
from hotline.settings import Settings

QUEUE_NAME = "hotline"
# Seconds a Redis command may take to connect, and then to be answered. Jobs are hints (see
# enqueue_hint): a webhook that meets a hung Redis gives up on one after this long, well within
# Twilio's 15 s for the whole answer, rather than after redis-py's default of 5 s per command.
REDIS_TIMEOUT = 1.0
# enqueue_hint(coalesce=...): the Redis key that says a job of that key is queued, not started yet.
# It lives at most this long (a job lost with its worker frees the key by then; the sweeps, every
# 15 s, do the work meanwhile), so a backlog longer than this may queue a second job: harmless.
HINT_GUARD_PREFIX = "hotline:hint:"
HINT_GUARD_SECONDS = 30
log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    catalogue: Catalogue
    db: Database
    redis: redis.Redis
    # Twilio's REST API is reached through this client when set (a stand-in, in tests and the
    # demo); None for Twilio's real API at TWILIO_API_BASE_URL.
    twilio_http: HttpClient | None = None
    # Plug-in points an area fills in for another, per app (never per process): entry kind ->
    # the function that rings a consultant for a queue entry of that kind (routing.offers).
    ringers: dict[str, Callable] = field(default_factory=dict)
    # Call direction -> the function that closes a call of that direction which ended without its
    # status callback reaching us (routing.call_end; inbound calls are routing's own).
    leg_closers: dict[str, Callable] = field(default_factory=dict)
    # Ways out of the queue other areas offer (ivr.way_out): name -> WayOut.
    ways_out: dict[str, object] = field(default_factory=dict)
    # What else outlives the retention period (hotline.retention): name -> the function that
    # erases an area's personal data older than a cutoff and says how many rows it changed.
    retention_purgers: dict[str, Callable] = field(default_factory=dict)
    # What is done, in the same transaction, when a staff member is deactivated
    # (hotline.accounts.deactivate): (session, staff id, now) -> None; routing takes an idle
    # consultant offline (its reservation code owns their status).
    sign_offs: list[Callable] = field(default_factory=list)

    def queue(self) -> Queue:
        return Queue(QUEUE_NAME, connection=self.redis)


def connect_redis(settings: Settings) -> redis.Redis:
    """The real Redis at REDIS_URL, or a fakeredis server private to this process.

    A command to the real one fails with a RedisError after REDIS_TIMEOUT seconds without an
    answer, and is not retried (a connection dropped by a restarted Redis is replaced when taken
    from the pool, before the command is sent)."""
    if settings.redis_url:
        return redis.Redis.from_url(settings.redis_url, socket_connect_timeout=REDIS_TIMEOUT,
                                    socket_timeout=REDIS_TIMEOUT, retry=RedisRetry(NoBackoff(), 0))
    return fakeredis.FakeRedis(server=fakeredis.FakeServer())


def init_app(app: Flask, services: Runtime) -> None:
    app.extensions["hotline"] = services

    @app.teardown_appcontext
    def _close_session(_exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.close()


def current() -> Runtime:
    """The Runtime of the current app (raises RuntimeError outside an app context)."""
    # Through the proxy once: each read through it is a few Python calls, and a webhook reads it often.
    return current_app._get_current_object().extensions["hotline"]


def session() -> Session:
    """The database session of the current request or job (closed at the end of its context)."""
    app_globals = g._get_current_object()
    db_session = getattr(app_globals, "db_session", None)
    if db_session is None:
        db_session = app_globals.db_session = current().db.sessions()
    return db_session


def catalogue() -> Catalogue:
    return current().catalogue


def settings() -> Settings:
    return current().settings


def enqueue_hint(function: str, *args, at: datetime | None = None, job_id: str | None = None,
                 retry: Retry | None = None, coalesce: str | None = None) -> bool:
    """Enqueue RQ job `function` (a dotted path) with `args` now, or at `at` (UTC) if that is in
    the future (rounded up to the whole second: whole_second_after); with `job_id`, at most one job
    of that id is queued at once; `retry`: RQ's retries of a job that fails.

    `coalesce` (a key saying what the job is about, e.g. "find_consultant:12"; only for a job
    queued now): while a job given the same key is queued and not started yet, no other is queued,
    since that one reads the database after this commit. The job calls hint_taken(key) first,
    before it reads anything. A Redis key (SET NX, HINT_GUARD_SECONDS) marks the job queued;
    RQ's own `unique` cannot say it, as it refuses a job id while the last job's result is kept.

    A job is a hint to act sooner, never the only record of work to do: the database holds that,
    and a periodic sweep or reconciliation finds what a lost job leaves. So this is called after
    the commit, and a Redis that does not answer is logged, not raised: what was committed stands
    and the caller's answer does not change. Returns whether the job was queued (or already was).
    """
    guard = None
    try:
        queue = current().queue()
        if at is not None and at > utcnow():
            queue.enqueue_at(whole_second_after(at), function, *args, job_id=job_id,
                             unique=job_id is not None, retry=retry)
            return True
        if coalesce is not None:
            guard = HINT_GUARD_PREFIX + coalesce
            if not current().redis.set(guard, b"1", nx=True, ex=HINT_GUARD_SECONDS):
                return True  # queued already, not started: it will read what was just committed
        queue.enqueue(function, *args, job_id=job_id, unique=job_id is not None, retry=retry)
    except DuplicateJobError:
        return True
    except redis.RedisError as error:
        log.warning("could not enqueue %s (%s): the sweep will do it", function, type(error).__name__)
        if guard is not None:
            hint_taken(coalesce)
        return False
    return True


def whole_second_after(moment: datetime) -> datetime:
    """`moment` (aware) rounded up to the whole second, the same if it is one. RQ's scheduled-job
    registry keeps a job's time as whole seconds rounded down (rq.registry.ScheduledJobRegistry
    .schedule: calendar.timegm), so a job armed for 09:00:07.6 would run from 09:00:07, before
    what it waits for (the end of a wrap-up, a callback due): rounded up, it is never early."""
    whole = moment.replace(microsecond=0)
    return whole if whole == moment else whole + timedelta(seconds=1)


def hint_taken(coalesce: str) -> None:
    """A job queued by enqueue_hint(coalesce=...) starts: the next hint of the same key is queued
    again. Called before the job reads the database. Best effort: a guard left behind expires."""
    try:
        current().redis.delete(HINT_GUARD_PREFIX + coalesce)
    except redis.RedisError as error:
        log.warning("could not clear the hint guard %s (%s)", coalesce, type(error).__name__)
