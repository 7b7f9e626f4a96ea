"""`GET /healthz` for load balancers: the database and Redis answer, or which one does not."""
from __future__ import annotations

import logging

import redis
from flask import Blueprint, Flask, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from hotline import runtime
from hotline.voice.speech.audio import engine_status

log = logging.getLogger(__name__)

blueprint = Blueprint("health", __name__)


def database_answers() -> bool:
    """True if the database runs `SELECT 1` (a connection from the pool, or a new one)."""
    try:
        with runtime.current().db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        log.warning("health check: database unreachable: %s", type(error).__name__)
        return False
    return True


def redis_answers() -> bool:
    """True if Redis answers PING."""
    try:
        runtime.current().redis.ping()
    except redis.RedisError as error:
        log.warning("health check: Redis unreachable: %s", type(error).__name__)
        return False
    return True


@blueprint.get("/healthz")
def healthz():
    """200 {"status": "ok", "database": "ok", "redis": "ok", "speech": {...}} when both answer; else
    503 with "unavailable" and "unreachable" for the one (or both) that did not. "speech" names the
    engine that speaks each language Twilio has no voice for, or "missing" (its callers hear the
    fallback language: worth an alert, not a reason to take the machine out of service)."""
    checks = {"database": database_answers(), "redis": redis_answers()}
    healthy = all(checks.values())
    body = {"status": "ok" if healthy else "unavailable"}
    body.update({name: "ok" if ok else "unreachable" for name, ok in checks.items()})
    body["speech"] = engine_status(runtime.catalogue())
    return jsonify(body), 200 if healthy else 503


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
