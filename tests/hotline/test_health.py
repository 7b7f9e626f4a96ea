"""`/healthz` for load balancers, and `/` pointing people somewhere useful."""
from __future__ import annotations

import redis
from sqlalchemy.exc import OperationalError

from tests.conftest import services_of


def _checks(response) -> dict:
    """The answer without "speech" (the speech engines, tests/hotline/voice/test_prompt_audio.py)."""
    return {name: value for name, value in response.get_json().items() if name != "speech"}


def test_healthz_is_200_when_database_and_redis_answer(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert _checks(response) == {"status": "ok", "database": "ok", "redis": "ok"}


def test_healthz_is_503_naming_redis_when_redis_does_not_answer(app, client, monkeypatch):
    def down():
        raise redis.ConnectionError("connection refused")

    monkeypatch.setattr(services_of(app).redis, "ping", down)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert _checks(response) == {"status": "unavailable", "database": "ok", "redis": "unreachable"}


def test_healthz_is_503_naming_the_database_when_it_does_not_answer(app, client, monkeypatch):
    def down(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(services_of(app).db.engine, "connect", down)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert _checks(response) == {"status": "unavailable", "database": "unreachable", "redis": "ok"}
