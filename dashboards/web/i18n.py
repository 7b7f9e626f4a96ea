"""The staff web in Bulgarian and English (Flask-Babel). The language is the one chosen with the
switch in the page header (a cookie, so it outlives logging out), else the browser's
(Accept-Language), else English. Catalogues: dashboards/translations (see its README)."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, current_app, redirect, request, url_for
from flask_babel import Babel, get_locale, lazy_gettext

from hotline.models import Role

LANGUAGES = ("bg", "en")
DEFAULT_LANGUAGE = "en"
COOKIE = "hotline_language"
TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"
# The roles as people read them (the stored values are English identifiers).
ROLE_NAMES = {Role.consultant.value: lazy_gettext("consultant"),
              Role.supervisor.value: lazy_gettext("supervisor"), Role.admin.value: lazy_gettext("admin")}
# Stored values shown on the pages (English: the value with spaces for underscores), by kind.
VALUE_NAMES = {
    "channel": {"phone": lazy_gettext("phone"), "in_person": lazy_gettext("in person"),
                "online": lazy_gettext("online")},
    "callback_state": {"draft": lazy_gettext("draft"), "scheduled": lazy_gettext("scheduled"),
                       "due": lazy_gettext("due"), "in_progress": lazy_gettext("in progress"),
                       "completed": lazy_gettext("completed"), "unreachable": lazy_gettext("unreachable"),
                       "canceled": lazy_gettext("canceled")},
    "staff_status": {"available": lazy_gettext("available"), "offered": lazy_gettext("offered"),
                     "busy": lazy_gettext("busy"), "wrap_up": lazy_gettext("wrap up"),
                     "break": lazy_gettext("break"), "offline": lazy_gettext("offline")},
    "stage": {"greeting": lazy_gettext("greeting"), "language_menu": lazy_gettext("language menu"),
              "topic_menu": lazy_gettext("topic menu"), "queue": lazy_gettext("queue")},
}


def init_app(app: Flask) -> None:
    """Flask-Babel with our language choice; `page_language` and `role_name` for the templates;
    POST /language (CSRF-checked like every form) to switch."""
    Babel(app, locale_selector=chosen_language, default_locale=DEFAULT_LANGUAGE,
          default_translation_directories=str(TRANSLATIONS))
    app.add_url_rule("/language", "web.language", switch_language, methods=["POST"])

    @app.context_processor
    def _language_context() -> dict:
        language = str(get_locale() or DEFAULT_LANGUAGE)
        other = "en" if language == "bg" else "bg"
        return {"page_language": language, "other_language": other, "role_name": role_name}

    # A global, not a context variable: the macros imported without context use it too.
    app.jinja_env.globals["value_name"] = value_name


def chosen_language() -> str:
    """The language of this request: the switch's cookie, else the browser's best match."""
    chosen = request.cookies.get(COOKIE)
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES) or DEFAULT_LANGUAGE


def role_name(role: str) -> str:
    """A role, translated (an unknown one as it is stored)."""
    return str(ROLE_NAMES.get(role, role))


def value_name(kind: str, value: str | None) -> str:
    """A stored value of a kind in VALUE_NAMES, translated; an unknown one with spaces for underscores."""
    name = VALUE_NAMES[kind].get(value or "")
    return str(name) if name is not None else (value or "").replace("_", " ")


def page_language() -> str:
    """The language of this request's page ("bg" or "en")."""
    return str(get_locale() or DEFAULT_LANGUAGE)


def term(catalogue, table: str, code: str) -> str:
    """A language's or topic's name from the prompt catalogue in the page's language (English when
    the catalogue has no such word in it)."""
    try:
        return catalogue.term(page_language(), table, code)
    except KeyError:
        return catalogue.term("en", table, code)


def switch_language():
    """Remember the chosen language in a cookie for a year and go back to the page (only a path
    on this site: `next` is never followed elsewhere)."""
    language = request.form.get("language")
    back = request.form.get("next") or ""
    parts = urlsplit(back)
    # Browsers read a backslash as a slash ("/\host" is "//host"); none comes from our own pages.
    if parts.scheme or parts.netloc or not back.startswith("/") or back.startswith("//") or "\\" in back:
        back = url_for("web.home")
    response = redirect(back)
    if language in LANGUAGES:
        # Secure exactly when the session cookie is (an https public URL).
        response.set_cookie(COOKIE, language, max_age=365 * 24 * 3600, httponly=True, samesite="Lax",
                            secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")))
    return response
