"""Browser tests: the staff web served on a free localhost port in a background thread, driven by
Playwright for Python in Debian's Chromium (/usr/bin/chromium; never a browser Playwright downloads).

One browser per session, a fresh context (cookies, storage) per test. The tests run on the embedded
backend only: what a browser sees does not depend on the database, and the real PostgreSQL and Redis
pass of the same pages is in tests/dashboards/web.

Without Playwright, Chromium or axe-core (`npm ci`) these tests are skipped, saying why; under
HOTLINE_REQUIRE_REAL=1 (.ci/run, which installs them) they fail instead.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.browser import site
from tests.conftest import REQUIRE_REAL

CHROMIUM = Path("/usr/bin/chromium")
# No GPU, no sandbox (root in CI), and nothing that reaches the network on its own.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def unavailable(reason: str) -> None:
    """Skip, or under HOTLINE_REQUIRE_REAL fail: the browser tests are part of CI."""
    if REQUIRE_REAL:
        pytest.fail(f"{reason} (HOTLINE_REQUIRE_REAL=1: .ci/run installs it)")
    pytest.skip(reason)


@pytest.fixture
def backend() -> str:
    """The embedded backend only (see the module's docstring)."""
    return "embedded"


class LiveServer:
    """A werkzeug server on 127.0.0.1 and a free port, bound before the app exists (the app needs
    its own URL in PUBLIC_BASE_URL), serving `app` once it is set."""

    def __init__(self) -> None:
        self.app = None
        self.server = make_server("127.0.0.1", 0, self._serve, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="live-server", daemon=True)

    def _serve(self, environ, start_response):
        return self.app(environ, start_response)

    def start(self, app) -> str:
        self.app = app
        self.thread.start()
        return self.url

    def stop(self) -> None:
        if self.thread.is_alive():
            self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def live_server() -> Iterator[LiveServer]:
    server = LiveServer()
    yield server
    server.stop()


@pytest.fixture
def app_config(app_config, live_server) -> dict[str, str]:
    """The app's public URL is the live server's (http: the session cookie is then not Secure, so
    the browser sends it back over plain http)."""
    return {**app_config, "PUBLIC_BASE_URL": live_server.url}


@pytest.fixture
def base_url(app, live_server) -> str:
    """The running staff web's URL, e.g. http://127.0.0.1:40123."""
    return live_server.start(app)


@pytest.fixture(scope="session")
def browser():
    """Debian's headless Chromium, driven by Playwright, for the whole session."""
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        unavailable("Playwright for Python is not installed (pip install -e '.[test]')")
    if not CHROMIUM.exists():
        unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
                                                 headless=True)
        except Error as error:
            pytest.fail(f"Chromium at {CHROMIUM} did not start: {error}")
        yield browser
        browser.close()


@pytest.fixture
def context(browser, base_url):
    """A fresh browser profile for each test, in English unless a test asks otherwise."""
    context = browser.new_context(base_url=base_url, locale="en-GB")
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def page(context):
    return context.new_page()


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core's script, from node_modules (package.json; `npm ci`)."""
    if not site.AXE.exists():
        unavailable(f"axe-core is not installed ({site.AXE} missing: run npm ci)")
    return site.AXE.read_text(encoding="utf-8")
