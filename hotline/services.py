"""What every area shares at run time: settings, catalogue, database and Redis, per app."""
from __future__ import annotations

from dataclasses import dataclass

import fakeredis
import redis
from flask import Flask, current_app, g
from rq import Queue
from sqlalchemy.orm import Session
from twilio.http import HttpClient

from hotline.catalogue import Catalogue
from hotline.db import Database
from hotline.settings import Settings

QUEUE_NAME = "hotline"


@dataclass
class Services:
    settings: Settings
    catalogue: Catalogue
    db: Database
    redis: redis.Redis
    # Twilio's REST API is reached through this client when set (a stand-in, in tests and the
    # demo); None for Twilio's real API at TWILIO_API_BASE_URL.
    twilio_http: HttpClient | None = None

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
