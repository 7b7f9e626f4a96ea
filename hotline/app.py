"""The application factory: settings, then the shared services, then each area's blueprint."""
from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path

from flask import Flask
from twilio.http import HttpClient

from hotline import accounts, health, runtime
from hotline.catalogue import load_catalogue
from hotline.db import Database
from hotline.settings import Settings
from hotline.voice.speech import routes as speech_routes

log = logging.getLogger(__name__)


def create_app(test_config: Mapping[str, str] | None = None) -> Flask:
    """Build the app. `test_config` holds environment-style settings that win over os.environ."""
    app = Flask("hotline", instance_path=os.environ.get("HOTLINE_INSTANCE_PATH") or None,
                instance_relative_config=True)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    environ = {**os.environ, **(test_config or {})}
    settings = Settings.from_env(app.instance_path, environ)
    app.config.update(SECRET_KEY=settings.secret_key, JSON_SORT_KEYS=False)
    logging.basicConfig(level=logging.INFO)
    # Twilio's HTTP client logs every request's URL and headers at INFO: call sids, of no use here.
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)

    runtime.init_app(app, runtime.Runtime(
        settings=settings,
        catalogue=load_catalogue(settings.config_path),
        db=Database(settings.database_url),
        redis=runtime.connect_redis(settings),
        twilio_http=_twilio_stand_in(app, settings),
    ))

    # Imported here so that importing an area (say, a job module in a worker) never builds an app.
    import callbacks
    import routing
    from dashboards import api, web
    from ivr import views as ivr_views

    health.init_app(app)
    accounts.register_sign_off(app, routing.sign_off)  # a deactivated consultant goes offline
    speech_routes.init_app(app)
    app.register_blueprint(ivr_views.blueprint)
    callbacks.init_app(app)
    api.init_app(app)
    web.init_app(app)  # last: it exempts the other blueprints from CSRF
    return app


def _twilio_stand_in(app: Flask, settings: Settings) -> HttpClient | None:
    """The built-in stand-in for Twilio's REST API when settings.twilio_stand_in (no credentials),
    announced in the log, with its page of requests made (hotline.dev.stand_in_views) on `app`;
    else None (Twilio's API at TWILIO_API_BASE_URL). Decided here, so the web process, a separate
    worker and the CLI all agree."""
    if not settings.twilio_stand_in:
        return None
    # The development tools are loaded only here: a production process, with credentials, never
    # imports hotline.dev.
    from hotline.dev import stand_in_views
    from hotline.dev.twilio_stand_in import FakeTwilioApi

    stand_in_views.init_app(app)
    log.warning("no TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN: Twilio's REST API is the built-in "
                "stand-in; calls and SMS are recorded in memory, none is placed or sent")
    return FakeTwilioApi()
