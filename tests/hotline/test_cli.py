"""The `hotline` command as a newcomer meets it: `run` on another port, `run --demo` at any hour,
and no Alembic chatter unless asked for (-v)."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from hotline import cli, hours
from hotline.app import create_app
from hotline.telephony import external_url
from tests.conftest import services_of

HOTLINE = str(Path(sys.executable).with_name("hotline"))
A_SUNDAY_NIGHT = datetime(2026, 12, 27, 1, 30, tzinfo=timezone.utc)  # 03:30 in Sofia, a Sunday


@pytest.fixture
def bare_env(tmp_path) -> dict[str, str]:
    """An environment as on a newcomer's laptop: no Hotline or Twilio settings, files in tmp_path."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("TWILIO_", "HOTLINE_", "PUBLIC_BASE_URL", "DATABASE_URL", "REDIS_URL"))}
    env["HOTLINE_INSTANCE_PATH"] = str(tmp_path / "instance")
    return env


def built(overrides: dict[str, str], tmp_path, monkeypatch):
    monkeypatch.setenv("HOTLINE_INSTANCE_PATH", str(tmp_path / "instance"))
    for name in ("PUBLIC_BASE_URL", "HOTLINE_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}", "REDIS_URL": "", **overrides})
    services_of(app).db.dispose()
    return app


def test_run_on_another_port_builds_the_urls_of_jobs_on_that_port(tmp_path, monkeypatch):
    overrides = cli.run_settings("127.0.0.1", 5123, demo=False, environ={})
    app = built(overrides, tmp_path, monkeypatch)
    with app.app_context():  # a job's context: no request to take the host from
        assert external_url("ivr.voice") == "http://127.0.0.1:5123/ivr/voice"


def test_run_keeps_a_public_base_url_that_is_set():
    assert "PUBLIC_BASE_URL" not in cli.run_settings(
        "127.0.0.1", 5123, demo=False, environ={"PUBLIC_BASE_URL": "https://hotline.example.org"})


def test_run_on_every_interface_builds_urls_on_this_machines_loopback():
    assert cli.run_settings("0.0.0.0", 8080, demo=False, environ={})["PUBLIC_BASE_URL"] == \
        "http://127.0.0.1:8080"


def test_run_demo_opens_both_offices_around_the_clock(tmp_path, monkeypatch):
    app = built(cli.run_settings("127.0.0.1", 5000, demo=True, environ={}), tmp_path, monkeypatch)
    offices = services_of(app).catalogue.offices
    assert {office.code for office in offices} == {"sofia", "burgas"}
    assert all(hours.is_open(office, A_SUNDAY_NIGHT) for office in offices)


def test_run_demo_keeps_a_configuration_that_is_set():
    assert "HOTLINE_CONFIG" not in cli.run_settings("127.0.0.1", 5000, demo=True,
                                                    environ={"HOTLINE_CONFIG": "/etc/hotline.toml"})


@pytest.mark.processes  # runs the `hotline` command as a process
def test_db_upgrade_prints_no_alembic_lines_unless_verbose(bare_env):
    quiet = subprocess.run([HOTLINE, "db", "upgrade"], env=bare_env, capture_output=True, text=True,
                           timeout=60)
    assert quiet.returncode == 0, quiet.stderr
    assert "alembic" not in quiet.stderr and "is up to date" in quiet.stdout

    verbose = subprocess.run([HOTLINE, "-v", "db", "upgrade"], env=bare_env, capture_output=True, text=True,
                             timeout=60)
    assert verbose.returncode == 0, verbose.stderr
    assert "alembic" in verbose.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.processes  # runs the `hotline` command as a process
def test_run_demo_starts_quietly_with_the_twilio_stand_in_on_the_port_given(bare_env):
    port = _free_port()
    server = subprocess.Popen([HOTLINE, "run", "--demo", "--weeks", "0", "--port", str(port)], env=bare_env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        output = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = server.stdout.readline()
            if not line:
                break
            output.append(line)
            if "API token" in line:
                break
        text = "".join(output)
        assert f"http://127.0.0.1:{port}/ivr/voice" in text
        assert "stand-in" in text and "around the clock" in text
        assert "alembic" not in text and "Traceback" not in text
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        server.stdout.close()
