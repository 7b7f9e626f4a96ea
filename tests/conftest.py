"""Fixtures: app -> client -> twilio, on two backends.

Every test that uses `app` runs twice: on the embedded defaults (SQLite file + fakeredis) and on
the real PostgreSQL and Redis of the machine. Where those do not answer the real pass is skipped,
unless HOTLINE_REQUIRE_REAL=1 (as .ci/run sets), which turns the skip into a failure.
"""
from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import psycopg
import pytest
import redis
from sqlalchemy import text

from hotline.app import create_app
from hotline.dev.twilio_stand_in import FakeTwilioApi, Twilio
from hotline.migrate import upgrade
from hotline.models import Base, sync_reference

# PUBLIC_BASE_URL, AUTH_TOKEN and services_of are imported from here by the tests, too.
from tests.support.app import AUTH_TOKEN, PUBLIC_BASE_URL, services_of
from tests.support.catalogue import catalogue_app as catalogue_app_of
from tests.support.helpers import add_consultant

PG_ADMIN_URL = os.environ.get("HOTLINE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("HOTLINE_TEST_REDIS", "redis://127.0.0.1:6379/13")
REQUIRE_REAL = os.environ.get("HOTLINE_REQUIRE_REAL") == "1"
ALWAYS_OPEN = str(Path(__file__).parent / "config" / "always_open.toml")


def pytest_configure(config) -> None:
    """A shifted clock (HOTLINE_CLOCK_SHIFT_SECONDS) needs tests/shifted_clock on PYTHONPATH,
    which moves it: without, the run would pass at today's date while claiming another."""
    import sys

    moved = getattr(sys.modules.get("sitecustomize"), "HOTLINE_CLOCK_MOVED", False)
    if os.environ.get("HOTLINE_CLOCK_SHIFT_SECONDS") and not moved:
        raise pytest.UsageError("HOTLINE_CLOCK_SHIFT_SECONDS is set but the clock was not moved: run with "
                                "PYTHONPATH=\"$PWD/tests/shifted_clock\" (and the test extra installed)")


def pytest_report_header(config) -> str:
    from datetime import datetime, timezone

    shift = os.environ.get("HOTLINE_CLOCK_SHIFT_SECONDS")
    return (f"wall clock: {datetime.now(timezone.utc):%Y-%m-%d %H:%M:%S} UTC"
            + (f" (moved by {float(shift):+.0f} s)" if shift else ""))


# Fixtures that build an app (and with it a database and Redis): a test that uses none of them
# tests plain functions.
APP_FIXTURES = frozenset({"app", "app_config", "backend", "client", "db", "twilio"})


def pytest_collection_modifyitems(config, items) -> None:
    """The fast tier, `pytest -m fast`: tests of plain functions, with no app fixture and no
    process, server or browser started (those are marked `processes`)."""
    for item in items:
        if not (APP_FIXTURES & set(item.fixturenames)) and not item.get_closest_marker("processes"):
            item.add_marker(pytest.mark.fast)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """One migrated SQLite database, copied for each test (faster than migrating each time)."""
    path = tmp_path_factory.mktemp("db") / "template.sqlite3"
    upgrade(f"sqlite:///{path}")
    return path


def _real_servers_answer() -> str | None:
    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            pass
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except (psycopg.Error, redis.RedisError) as error:
        return str(error)
    return None


@pytest.fixture(scope="session")
def real_database_url():
    """A fresh, migrated PostgreSQL database for this test session, dropped at its end."""
    problem = _real_servers_answer()
    if problem:
        message = f"real PostgreSQL/Redis not reachable: {problem}"
        if REQUIRE_REAL:
            pytest.fail(message)
        pytest.skip(message)
    name = f"hotline_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}"
    upgrade(url)
    yield url
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _truncate_all(app) -> None:
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with services_of(app).db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["embedded", "real"])
def backend(request) -> str:
    return request.param


@pytest.fixture
def app_config(backend, tmp_path, request) -> dict[str, str]:
    config = {"PUBLIC_BASE_URL": PUBLIC_BASE_URL, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
              "HOTLINE_CONFIG": ALWAYS_OPEN, "REDIS_URL": "", "SECRET_KEY": "test"}
    # @pytest.mark.speech_engine("none"): a machine without a speech engine for Farsi.
    engine = request.node.get_closest_marker("speech_engine")
    if engine:
        config["HOTLINE_SPEECH_ENGINE"] = engine.args[0]
    if backend == "embedded":
        db_file = tmp_path / "hotline.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), db_file)
        config["DATABASE_URL"] = f"sqlite:///{db_file}"
    else:
        config["DATABASE_URL"] = request.getfixturevalue("real_database_url")
        config["REDIS_URL"] = REDIS_URL
    return config


@pytest.fixture
def app(app_config, backend, tmp_path, monkeypatch):
    monkeypatch.setenv("HOTLINE_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app(app_config)
    hotline = services_of(app)
    # Twilio's REST API is the in-process stand-in unless a test sets another (tests/contract):
    # no test reaches the network by accident.
    hotline.twilio_http = FakeTwilioApi()
    if backend == "real":
        _truncate_all(app)
        hotline.redis.flushdb()
    with hotline.db.session() as session:
        sync_reference(session, hotline.catalogue)
    yield app
    if backend == "real":
        hotline.redis.flushdb()
    hotline.db.dispose()


@pytest.fixture
def app_context(app):
    """The app's context, for a test that calls a service function outside a request which reads
    the app's plug-ins (hotline.runtime.Runtime: retention purgers, sign-offs)."""
    with app.app_context():
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def twilio(client) -> Twilio:
    """Twilio's side of the webhooks, through the test client, signed with the app's token."""

    def transport(url: str, params: dict[str, str], headers: dict[str, str]) -> tuple[int, str]:
        path = url.removeprefix(PUBLIC_BASE_URL)
        response = client.post(path, data=params, headers=headers)
        return response.status_code, response.get_data(as_text=True)

    return Twilio(transport, AUTH_TOKEN)


@pytest.fixture
def db(app):
    """A database session for arranging and checking a test (separate from the app's)."""
    with services_of(app).db.session() as session:
        yield session


@pytest.fixture
def languages_on_duty(app, db):
    """Someone on duty (on a break, so never rung) for every language: calls then reach the topic
    menu straight away, not the "nobody who speaks your language is on duty" choice. Tests of that
    choice set these consultants offline."""
    return [add_consultant(app, db, f"On duty in {code}", languages=[code], topics=["other"], status="break")
            for code in ("bg", "en", "ru", "uk", "ar", "fa", "tr")]


@pytest.fixture
def catalogue_app():
    """A bare Flask app holding only the test catalogue (ALWAYS_OPEN, as the `app` fixture's), for
    tests of functions that read the catalogue and nothing else: no database or Redis, one run
    instead of one per backend, and in the fast tier (tests.support.catalogue)."""
    return catalogue_app_of(ALWAYS_OPEN)


def config_with(tmp_path, extra: str, base: str | None = ALWAYS_OPEN) -> str:
    """A HOTLINE_CONFIG file: `base` (the always-open test offices; None for the packaged ones)
    with the TOML `extra` after it."""
    text = (Path(base).read_text(encoding="utf-8") if base else "") + "\n" + extra
    path = tmp_path / "hotline-config.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.fixture
def twilio_api(app):
    """The stand-in for Twilio's REST API the app uses (hotline.dev.twilio_stand_in.FakeTwilioApi)."""
    return services_of(app).twilio_http
