"""Every bench's hotline, and what stands in for the services outside it: the one place a bench
gets the environment its hotline runs with (issue 17, item 6).

A bench's hotline reaches nothing outside this machine. Its environment (hotline_env) is this
process's with every setting of the hotline's removed (a developer's shell may hold real Twilio
credentials, a production DATABASE_URL or REDIS_URL), then the bench's own: its database and
Redis, always-open offices, and Twilio's REST API at a server on this machine (TwilioStandIn, or
a mock such as Prism), never Twilio's. tests/bench/test_stand_ins.py checks that no bench builds
an environment, or an app, any other way.
"""
from __future__ import annotations

import ipaddress
import os
import re
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from hotline.dev.twilio_stand_in import ApiRequest, FakeTwilioApi

REPO = Path(__file__).resolve().parent.parent
ALWAYS_OPEN = REPO / "tests" / "config" / "always_open.toml"
AUTH_TOKEN = "bench-auth-token"  # what the benches sign their webhooks with
ACCOUNT_SID = "AC" + "0" * 32
# The environment variables the hotline reads (hotline.settings, hotline.app), and gunicorn's: none
# is taken from the shell that runs a bench.
SETTINGS = ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "PUBLIC_BASE_URL", "STAFF_IDLE_MINUTES",
            "LOGIN_RATE_LIMIT", "WEB_CONCURRENCY", "GUNICORN_CMD_ARGS", "PORT")
SETTING_PREFIXES = ("TWILIO_", "HOTLINE_")


# A top-level line of a bench's configuration: the silent-call check (routing.call_end) looks up
# a live call whose journal is older than this in Twilio's REST API; a day is longer than any run,
# so the calls a bench writes straight into the database as waiting are left alone.
NO_SILENT_CALL_CHECK = "stale_call_minutes = 1440\n"


def config_file(folder: Path, top: str = "", tables: str = "") -> Path:
    """A HOTLINE_CONFIG written in `folder`: the top-level keys of `top`, the always-open offices
    (tests/config/always_open.toml), then the TOML tables of `tables`."""
    path = Path(folder) / "bench-config.toml"
    path.write_text(top + ALWAYS_OPEN.read_text(encoding="utf-8") + "\n" + tables, encoding="utf-8")
    return path


def is_local(url: str) -> bool:
    """True when `url` is http(s) to this machine (a loopback address or "localhost")."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    if parts.hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return False


def hotline_env(database_url: str, twilio_api_url: str, *, redis_url: str | None = None,
                config: Path | str | None = ALWAYS_OPEN, instance: Path | str | None = None,
                public_base_url: str = "https://hotline.example.org", app_dir: Path | str | None = None,
                periodic_seconds: str | None = None) -> dict[str, str]:
    """The whole environment of a bench's hotline, for its processes (gunicorn, `hotline worker`:
    Popen(env=...)) and for an app in this process (in_process_app): this process's environment
    without any of the hotline's settings (SETTINGS, TWILIO_*, HOTLINE_*), then the database at
    `database_url`, Redis at `redis_url` (None: the in-process fakeredis), Twilio's REST API at
    `twilio_api_url` with the benches' account and token, the offices of `config` (None: the
    packaged configuration), `instance` as
    the instance folder, the URL Twilio is told to use, and `app_dir` (a checkout) first on
    PYTHONPATH. Raises ValueError when `twilio_api_url` is not on this machine (is_local)."""
    if not is_local(twilio_api_url):
        raise ValueError(f"a bench's Twilio REST API must be a stand-in on this machine, "
                         f"not {twilio_api_url!r}")
    env = {name: value for name, value in os.environ.items()
           if name not in SETTINGS and not name.startswith(SETTING_PREFIXES)}
    env.update({"DATABASE_URL": database_url, "REDIS_URL": redis_url or "",
                "HOTLINE_CONFIG": str(config or ""), "PUBLIC_BASE_URL": public_base_url,
                "SECRET_KEY": "bench",
                "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                "TWILIO_API_BASE_URL": twilio_api_url.rstrip("/")})
    if instance is not None:
        env["HOTLINE_INSTANCE_PATH"] = str(instance)
    if app_dir is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(app_dir), env.get("PYTHONPATH"))))
    if periodic_seconds:
        env["HOTLINE_PERIODIC_SECONDS"] = periodic_seconds
    return env


def adopt(env: dict[str, str]) -> None:
    """Make `env` (hotline_env's) this process's whole environment, for an app built or imported
    here (create_app reads os.environ under the settings it is given; bench/floor_app.py reads it at
    import). Raises ValueError when `env`'s Twilio REST API is not on this machine."""
    if not is_local(env.get("TWILIO_API_BASE_URL", "")):
        raise ValueError("an environment not built by hotline_env")
    os.environ.clear()
    os.environ.update(env)


def in_process_app(env: dict[str, str]):
    """The hotline's app in this process, built from `env` (hotline_env's) alone (adopt). Raises
    ValueError when `env`'s Twilio REST API is not on this machine."""
    from hotline.app import create_app

    adopt(env)
    return create_app(env)


class TwilioStandIn:
    """Twilio's REST API on a port of 127.0.0.1, answering as Twilio does as far as Hotline uses it
    (hotline.dev.twilio_stand_in.FakeTwilioApi: calls created, updated, fetched, SMS sent), each answer after
    `delay` seconds (Twilio's round trip; 0: at once). Keeps every request (`requests`), when each
    `Calls.json` POST arrived (`arrivals`, time.perf_counter() when its headers were read, before
    the delay) and every request answered with an error, with its reason (`failures`).
    Use as a context manager (`url` while it runs)."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.api = FakeTwilioApi()
        self.arrivals: list[float] = []
        self.failures: list[str] = []
        self.arrived = threading.Condition()
        self._server: ThreadingHTTPServer | None = None

    @property
    def requests(self) -> list[ApiRequest]:
        return list(self.api.requests)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> "TwilioStandIn":
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as Twilio's API

            def do_GET(self):  # noqa: N802 (http.server's names)
                stand_in._answer(self)

            do_POST = do_DELETE = do_GET  # noqa: N815

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        arrived = time.perf_counter()
        body = handler.rfile.read(int(handler.headers.get("Content-Length") or 0)).decode()
        data = dict(urllib.parse.parse_qsl(body, keep_blank_values=True))
        if handler.command == "POST" and handler.path.split("?")[0].endswith("/Calls.json"):
            with self.arrived:
                self.arrivals.append(arrived)
                self.arrived.notify_all()
        if self.delay:
            time.sleep(self.delay)
        answer = self.api.request(handler.command, self.url + handler.path, data=data)
        if answer.status_code >= 400:
            with self.arrived:
                self.failures.append(f"{handler.command} {handler.path}: {answer.status_code} "
                                     f"{answer.text[:200]}")
        payload = answer.text.encode()
        handler.send_response(answer.status_code)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)

    def wait_for_calls(self, count: int, timeout: float) -> float:
        """The arrival (perf_counter) of the `count`-th Calls.json POST. Raises TimeoutError."""
        with self.arrived:
            if not self.arrived.wait_for(lambda: len(self.arrivals) >= count, timeout):
                raise TimeoutError(f"{len(self.arrivals)} of {count} calls.create reached the stand-in "
                                   "in time")
            return self.arrivals[count - 1]

    def summary(self) -> list[str]:
        """What the hotline asked of Twilio's REST API, as lines for a bench's report: the requests
        by kind, then each failure (at most 10, and how many more)."""
        kinds: dict[str, int] = {}
        for request in self.api.requests:
            resource = request.path.split("/Accounts/", 1)[-1].partition("/")[2]
            resource = re.sub(r"CA[0-9a-f]{32}", "{sid}", resource)
            kinds[f"{request.method} {resource}"] = kinds.get(f"{request.method} {resource}", 0) + 1
        lines = [f"Twilio REST API (stand-in at {self.url}): {len(self.api.requests)} requests"
                 + (" (" + ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items())) + ")"
                    if kinds else "")
                 + f", {len(self.failures)} answered with an error"]
        lines += ["  stand-in error: " + failure for failure in self.failures[:10]]
        if len(self.failures) > 10:
            lines.append(f"  ... and {len(self.failures) - 10} more")
        return lines


def log_failures(path: Path) -> list[str]:
    """The failures a process's log shows, for a bench's report: each traceback as its exception's
    line ("ValueError: ..."), and each other line logged at ERROR or CRITICAL (Python's logging,
    gunicorn's "[ERROR]"), prefixed with the log's file name."""
    found, in_traceback = [], False
    for line in Path(path).read_text(errors="replace").splitlines():
        if line.startswith("Traceback"):
            in_traceback = True
        elif in_traceback and line and not line.startswith((" ", "\t")):
            # the exception's line; "During handling ..." chains another traceback after it
            in_traceback = False
            if not line.startswith(("During handling", "The above exception")):
                found.append(f"{Path(path).name}: {line}")
        elif line.startswith(("ERROR", "CRITICAL")) or "[ERROR]" in line or "[CRITICAL]" in line:
            found.append(f"{Path(path).name}: {line}")
    return found
