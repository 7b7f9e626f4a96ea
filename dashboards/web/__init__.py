"""The staff web: server-rendered pages (Flask + Jinja, a little plain JavaScript for the live
parts) over the same query and service functions as the JSON API.

Pages: /login, /logout, /desk (consultants), /board (supervisors), /staff (admins), /reports; `/`
sends each person to their own page. Sessions are Flask-Login's, in a signed cookie (Secure when the
public URL is https, HttpOnly, SameSite=Lax) that ends after `staff_idle_minutes` without a request;
every form carries Flask-WTF's CSRF token; failed logins are rate-limited by Flask-Limiter. Pages are
in Bulgarian and English (Flask-Babel, dashboards/web/i18n.py). What people typed is shown isolated
from the page around it (dashboards/web/typed.py).
"""
from __future__ import annotations

from datetime import timedelta

from flask import Flask

# board_views, desk_views and staff_admin add their views to pages.blueprint when imported.
from dashboards.web import access, auth, board_views, desk_views, i18n, pages, staff_admin, typed  # noqa: F401


def init_app(app: Flask) -> None:
    """Configure sessions, CSRF and rate limits for the staff web, and serve its pages. The webhooks
    (signed by Twilio) are exempt from CSRF; so is the JSON API, which checks the CSRF token itself
    when a session rather than a bearer token makes a change (dashboards.api.access)."""
    settings = app.extensions["hotline"].settings
    app.config.update(
        SESSION_COOKIE_SECURE=(settings.public_base_url or "").startswith("https://"),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_HTTPONLY=True,
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=settings.staff_idle_minutes),
        SESSION_REFRESH_EACH_REQUEST=True,
        WTF_CSRF_TIME_LIMIT=None,  # the session's own idle limit bounds a token's life
    )
    i18n.init_app(app)
    typed.init_app(app)
    auth.init_app(app)
    access.init_app(app)
    app.register_blueprint(pages.blueprint)
    for name in ("ivr", "callbacks", "callback_booking", "api", "health", "stand_in"):
        if name in app.blueprints:
            auth.csrf.exempt(app.blueprints[name])
