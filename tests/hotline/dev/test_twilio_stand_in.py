"""Without Twilio credentials the app reaches Twilio's REST API through the built-in stand-in
(hotline.dev.twilio_stand_in.FakeTwilioApi), whatever process builds it: nothing goes out to the network."""
from __future__ import annotations

import pytest

from hotline.app import create_app
from hotline.dev.twilio_stand_in import FakeTwilioApi
from hotline.telephony import rest_client
from tests.conftest import services_of

REAL_LOOKING = {"TWILIO_ACCOUNT_SID": "AC" + "1" * 32, "TWILIO_AUTH_TOKEN": "a-real-looking-token"}


@pytest.fixture
def bare_environment(monkeypatch, tmp_path):
    """No Twilio setting in the environment; the database and instance folder in tmp_path."""
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_API_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOTLINE_INSTANCE_PATH", str(tmp_path / "instance"))
    return {"DATABASE_URL": f"sqlite:///{tmp_path / 'hotline.sqlite3'}", "REDIS_URL": ""}


def built(config: dict[str, str]):
    app = create_app(config)
    services_of(app).db.dispose()
    return app


@pytest.mark.parametrize("given", [{}, {"TWILIO_ACCOUNT_SID": "AC" + "1" * 32},
                                   {"TWILIO_AUTH_TOKEN": "a-real-looking-token"}],
                         ids=["nothing", "sid-only", "token-only"])
def test_without_credentials_the_rest_api_is_the_stand_in(bare_environment, given):
    app = built({**bare_environment, **given})
    assert services_of(app).settings.twilio_stand_in
    assert isinstance(services_of(app).twilio_http, FakeTwilioApi)


def test_an_sms_sent_without_credentials_stays_in_the_stand_in(bare_environment):
    app = built(bare_environment)
    with app.app_context():
        message = rest_client().messages.create(to="+359888123456", from_="+35924916000", body="hello")
    assert message.status == "queued"
    [sent] = services_of(app).twilio_http.requests
    assert sent.path.endswith("/Messages.json") and sent.data["Body"] == "hello"


def test_with_credentials_the_rest_api_is_twilios(bare_environment):
    app = built({**bare_environment, **REAL_LOOKING})
    assert not services_of(app).settings.twilio_stand_in
    assert services_of(app).twilio_http is None


def test_an_api_base_url_of_its_own_is_used_even_without_credentials(bare_environment):
    """A mock of Twilio's API (Prism, in the contract tests) is asked, not the stand-in."""
    app = built({**bare_environment, "TWILIO_API_BASE_URL": "http://127.0.0.1:4010"})
    assert not services_of(app).settings.twilio_stand_in
    assert services_of(app).twilio_http is None


def test_the_app_says_it_uses_the_stand_in(bare_environment, caplog):
    with caplog.at_level("WARNING", logger="hotline.app"):
        built(bare_environment)
    assert any("stand-in" in record.getMessage() for record in caplog.records)
