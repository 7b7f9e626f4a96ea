"""What every area shares at run time: settings, catalogue, database and Redis, per app."""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone

import fakeredis
import redis
from flask import Flask, current_app, g
from rq import Queue, Retry
from rq.exceptions import DuplicateJobError
from sqlalchemy.orm import Session
from twilio.http import HttpClient

from hotline.catalogue import Catalogue
from hotline.db import Database
from hotline.settings import Settings

QUEUE_NAME = "hotline"
log = logging.getLogger(__name__)


@dataclass
class Services:
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
    # Ways out of the queue other areas offer (ivr.queue_exits): name -> WayOut.
    ways_out: dict[str, object] = field(default_factory=dict)

    def queue(self) -> Queue:
        return Queue(QUEUE_NAME, connection=self.redis)


def connect_redis(settings: Settings) -> redis.Redis:
    """The real Redis at REDIS_URL, or a fakeredis server private to this process."""
    if settings.redis_url:
        return redis.Redis.from_url(settings.redis_url)
    return fakeredis.FakeRedis(server=fakeredis.FakeServer())


def init_app(app: Flask, services: Services) -> None:
    app.extensions["hotline"] = services

    @app.teardown_appcontext
    def _close_session(_exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.close()


def current() -> Services:
    return current_app.extensions["hotline"]


def session() -> Session:
    """The database session of the current request or job (closed at the end of its context)."""
    if "db_session" not in g:
        g.db_session = current().db.sessions()
    return g.db_session


def catalogue() -> Catalogue:
    return current().catalogue


def settings() -> Settings:
    return current().settings


def enqueue_hint(function: str, *args, at: datetime | None = None, job_id: str | None = None,
                 retry: Retry | None = None) -> bool:
    """Enqueue RQ job `function` (a dotted path) with `args` now, or at `at` (UTC) if that is in
    the future; with `job_id`, at most one job of that id is queued at once; `retry`: RQ's retries
    of a job that fails.

    A job is a hint to act sooner, never the only record of work to do: the database holds that,
    and a periodic sweep or reconciliation finds what a lost job leaves. So this is called after
    the commit, and a Redis that does not answer is logged, not raised: what was committed stands
    and the caller's answer does not change. Returns whether the job was queued (or already was).
    """
    try:
        queue = current().queue()
        if at is not None and at > datetime.now(timezone.utc):
            queue.enqueue_at(at, function, *args, job_id=job_id, unique=job_id is not None, retry=retry)
        else:
            queue.enqueue(function, *args, job_id=job_id, unique=job_id is not None, retry=retry)
    except DuplicateJobError:
        return True
    except redis.RedisError as error:
        log.warning("could not enqueue %s (%s): the sweep will do it", function, type(error).__name__)
        return False
    return True
