"""What the tests' apps share (tests/conftest.py builds them): the public URL Twilio is given, the
Twilio auth token webhooks are signed with, and an app's hotline services."""
from __future__ import annotations

from flask import Flask

from hotline import runtime

PUBLIC_BASE_URL = "https://hotline.example.org"
AUTH_TOKEN = "test-auth-token"


def services_of(app: Flask) -> runtime.Runtime:
    """The hotline's services (settings, catalogue, database, Redis) of `app`, as create_app set
    them in app.extensions["hotline"]; KeyError for an app without them."""
    return app.extensions["hotline"]
