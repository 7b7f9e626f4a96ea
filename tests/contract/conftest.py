"""Contract tests: Hotline's real code paths call Twilio's REST API, served by Prism from Twilio's
own OpenAPI spec (see tests/contract/prism.py), with no stand-in in between.

Without Node.js or an installed Prism (`npm ci`) these tests are skipped, saying why; under
HOTLINE_REQUIRE_REAL=1 (.ci/run, which runs `npm ci` first where npm exists) a machine with Node
but no Prism fails them instead.
"""
from __future__ import annotations

import shutil

import pytest

from tests.conftest import REQUIRE_REAL, services_of
from tests.contract import prism as prism_mock
from tests.contract.recording import RecordingHttpClient


@pytest.fixture(scope="session")
def prism(tmp_path_factory):
    """Prism's mock of Twilio's REST API on a free port, for the whole session."""
    try:
        mock = prism_mock.start(tmp_path_factory.mktemp("prism") / "prism.log")
    except prism_mock.Unavailable as reason:
        if REQUIRE_REAL and shutil.which("node") is not None:
            pytest.fail(f"{reason} (HOTLINE_REQUIRE_REAL=1: .ci/run installs it with npm ci)")
        pytest.skip(str(reason))
    except prism_mock.StartFailed as error:
        pytest.fail(str(error))
    yield mock
    mock.stop()


@pytest.fixture
def backend() -> str:
    """The contract is the HTTP exchange with Twilio, the same on either database: the embedded
    backend only (the real PostgreSQL and Redis pass of everything else is in the other tests)."""
    return "embedded"


@pytest.fixture
def app_config(app_config, prism) -> dict[str, str]:
    return {**app_config, "TWILIO_API_BASE_URL": prism.url}


@pytest.fixture
def twilio_rest(app) -> RecordingHttpClient:
    """Hotline's REST client goes to the mock through a recording TwilioHttpClient."""
    client = RecordingHttpClient()
    services_of(app).twilio_http = client
    yield client
    client.session.close()
