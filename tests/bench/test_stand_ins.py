"""Every bench's hotline reaches outside services only through local stand-ins (issue 17, item 6):
its environment comes from bench/stand_ins.py, never from the shell that runs the bench nor from a
dictionary of the bench's own, and Twilio's REST API is a server on this machine."""
from __future__ import annotations

import ast
import time
import urllib.parse
from pathlib import Path

import pytest
from twilio.base.exceptions import TwilioException
from twilio.rest import Client

from bench import stand_ins
from hotline.settings import Settings

BENCH = Path(stand_ins.__file__).resolve().parent
HELPER = Path(stand_ins.__file__).name
# Settings whose value in a bench's dictionary would decide where the hotline's requests go.
SETTINGS = {"DATABASE_URL", "REDIS_URL", "PUBLIC_BASE_URL", "SECRET_KEY"}


def _benches() -> list[Path]:
    return sorted(path for path in BENCH.glob("*.py") if path.name != HELPER)


def _is_os_environ(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "environ" and \
        isinstance(node.value, ast.Name) and node.value.id == "os"


def _is_setting(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str) and (
        node.value.startswith(("TWILIO_", "HOTLINE_")) or node.value in SETTINGS)


def _dict_entries(node: ast.Dict) -> list[str]:
    """{**os.environ, ...}, or a dictionary that sets one of the hotline's settings."""
    return ["{**os.environ, ...}" if key is None and _is_os_environ(value)
            else f"a dictionary sets {key.value}" for key, value in zip(node.keys, node.values, strict=True)
            if (key is None and _is_os_environ(value)) or _is_setting(key)]


def _calls(node: ast.Call) -> list[str]:
    """os.environ changed, or an app built from this process's environment (create_app)."""
    name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
    if isinstance(node.func, ast.Attribute) and _is_os_environ(node.func.value) and \
            name in ("update", "setdefault", "pop", "clear"):
        return [f"os.environ.{name}()"]
    return ["create_app() with the shell's environment"] if name == "create_app" else []


def _assignments(node: ast.Assign | ast.AugAssign) -> list[str]:
    """os.environ[...] = ..., or env["TWILIO_..."] = ..."""
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    return ["an environment variable set" for target in targets if isinstance(target, ast.Subscript)
            and (_is_os_environ(target.value) or _is_setting(target.slice))]


def _own_environments(tree: ast.AST) -> list[tuple[int, str]]:
    """Where a bench builds a hotline's environment itself: (line, what)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            what = _dict_entries(node)
        elif isinstance(node, ast.Call):
            what = _calls(node)
        elif isinstance(node, (ast.Assign, ast.AugAssign)):
            what = _assignments(node)
        elif isinstance(node, ast.ImportFrom) and node.module == "hotline.wsgi":
            what = ["hotline.wsgi imported: an app built from the shell's environment"]
        else:
            what = []
        found += [(node.lineno, text) for text in what]
    return found


def test_no_bench_builds_a_hotlines_environment_of_its_own():
    """A Twilio credential set without TWILIO_API_BASE_URL sent a bench's worker to Twilio's real API
    (bench/board_load.py, 51 failed requests in one run): only the shared helper builds one."""
    found = [f"{path.name}:{line}: {what}" for path in _benches()
             for line, what in _own_environments(ast.parse(path.read_text(encoding="utf-8")))]
    assert found == []


# The helper, and bench/seeding.py, whose bench_env and fresh_app are the helper's with a bench's defaults.
HELPERS = ("stand_ins", "seeding")


def _imports_helper(tree: ast.AST) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            names = [node.module or ""] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        if any(name.rsplit(".", 1)[-1] in HELPERS for name in names):
            return True
    return False


# What a bench that runs a hotline mentions: its app (in this process or served), its worker.
RUNS_A_HOTLINE = ("hotline.wsgi", "bench.floor_app:app", "create_app", "fresh_app", '"worker"',
                  "make_database")


def test_every_bench_that_runs_a_hotline_takes_its_environment_from_the_shared_helper():
    runs = [path for path in _benches() if any(mark in path.read_text(encoding="utf-8")
                                               for mark in RUNS_A_HOTLINE)]
    assert {"board_load.py", "ivr_throughput.py", "ivr_in_process.py", "wait_ramp.py",
            "callbacks_at_opening.py", "available_to_ring.py"} <= {path.name for path in runs}
    assert [path.name for path in runs if not _imports_helper(ast.parse(path.read_text(encoding="utf-8")))] \
        == []


@pytest.fixture
def a_production_shell(monkeypatch):
    """The shell of a developer who also runs the hotline for real: every setting points elsewhere."""
    for name, value in {"TWILIO_ACCOUNT_SID": "AC" + "1" * 32, "TWILIO_AUTH_TOKEN": "a real token",
                        "TWILIO_API_BASE_URL": "https://api.twilio.com", "REDIS_URL": "redis://prod:6379/0",
                        "DATABASE_URL": "postgresql://prod/hotline", "HOTLINE_CONFIG": "/etc/hotline.toml",
                        "PUBLIC_BASE_URL": "https://hotline.example.net", "WEB_CONCURRENCY": "9",
                        "GUNICORN_CMD_ARGS": "--workers 9"}.items():
        monkeypatch.setenv(name, value)


def test_the_environment_keeps_nothing_of_the_shell_and_points_at_the_local_stand_in(a_production_shell,
                                                                                      tmp_path):
    env = stand_ins.hotline_env("sqlite:///bench.sqlite3", "http://127.0.0.1:4010", instance=tmp_path)
    settings = Settings.from_env(str(tmp_path), env)
    assert settings.twilio_api_base_url == "http://127.0.0.1:4010"
    assert not settings.twilio_stand_in
    assert (settings.database_url, settings.redis_url) == ("sqlite:///bench.sqlite3", None)
    assert settings.twilio_auth_token == stand_ins.AUTH_TOKEN
    assert settings.config_path == str(stand_ins.ALWAYS_OPEN)
    assert "WEB_CONCURRENCY" not in env and "GUNICORN_CMD_ARGS" not in env
    assert env["PATH"]  # the rest of the shell's environment is kept


@pytest.mark.parametrize("url", ["https://api.twilio.com", "http://api.twilio.com:80", "http://10.0.0.7:4010",
                                 "", "http://127.0.0.1.example.org"])
def test_a_twilio_api_that_is_not_on_this_machine_is_refused(url):
    with pytest.raises(ValueError):
        stand_ins.hotline_env("sqlite:///bench.sqlite3", url)


def test_the_stand_in_answers_as_twilio_and_notes_a_request_when_it_arrives_not_after_its_delay():
    """bench/callbacks_at_opening.py noted each ring after the stand-in's delay (its --twilio-ms)."""
    with stand_ins.TwilioStandIn(delay=0.3) as api:
        client = Client(stand_ins.ACCOUNT_SID, stand_ins.AUTH_TOKEN)
        client.api.base_url = api.url
        sent = time.perf_counter()
        call = client.calls.create(to="+35988000001", from_="+35924916000", url="https://x.example/w")
        answered = time.perf_counter()
        fetched = client.calls(call.sid).fetch()
    assert call.sid.startswith("CA") and fetched.status == "in-progress"
    [arrived] = api.arrivals
    assert sent <= arrived < answered - 0.25
    assert [(r.method, r.path.rsplit("/", 1)[-1]) for r in api.requests] == \
        [("POST", "Calls.json"), ("GET", f"{call.sid}.json")]
    assert api.failures == []


def test_the_stand_in_keeps_each_failed_request_with_its_reason():
    with stand_ins.TwilioStandIn() as api:
        client = Client(stand_ins.ACCOUNT_SID, stand_ins.AUTH_TOKEN)
        client.api.base_url = api.url
        with pytest.raises(TwilioException):
            client.api.v2010.accounts(stand_ins.ACCOUNT_SID).queues.list()
    [failure] = api.failures
    assert "GET" in failure and "Queues.json" in urllib.parse.unquote(failure) and "404" in failure
