"""The staff web through Flask's test client, over https as in production (the session cookie is
Secure), with CSRF checked as in production."""
from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from hotline import accounts
from tests.conftest import PUBLIC_BASE_URL, services_of

PASSWORD = "correct horse battery"


class HttpsClient(FlaskClient):
    """Flask's test client, asking for https://hotline.example.org/... (so Secure cookies count)."""

    def open(self, *args, **kwargs):
        if not kwargs.get("base_url"):
            kwargs["base_url"] = PUBLIC_BASE_URL
        # Over https Flask-WTF checks that a form comes from our own pages, as a browser says.
        kwargs["headers"] = {"Referer": PUBLIC_BASE_URL + "/", **(kwargs.get("headers") or {})}
        return super().open(*args, **kwargs)


def https_client(app) -> HttpsClient:
    return HttpsClient(app, app.response_class, use_cookies=True)


@pytest.fixture
def web(app):
    """A browser-like client of the staff web (cookies kept, https)."""
    return https_client(app)


def add_person(app, db, name: str, role: str, languages=("en",), password: str = PASSWORD):
    """A staff member with a password, ready to log in."""
    person = accounts.create_staff(db, services_of(app).catalogue, name=name, role=role,
                                   phone="+359888000111" if role == "consultant" else None,
                                   languages=list(languages), topics=["health"], office="sofia")
    accounts.set_password(db, person, password)
    return person


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or \
        re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def log_in(web, name: str, password: str = PASSWORD):
    page = web.get("/login")
    return web.post("/login", data={"name": name, "password": password,
                                    "csrf_token": csrf_token(page.get_data(as_text=True))})
