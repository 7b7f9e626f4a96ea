"""Logging staff in and out: Flask-Login sessions that end after an idle time, passwords hashed
with Werkzeug's scrypt, CSRF on every form, failed logins limited per name and per address, and
an audit entry for each login, failed login and logout."""
from __future__ import annotations

import hashlib
import hmac

from flask import Flask, Request, current_app, flash, redirect, render_template, request, session, url_for
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_babel import gettext
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, UserMixin, current_user, login_required, login_user, logout_user
from flask_wtf import CSRFProtect, FlaskForm
from sqlalchemy import select
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from dashboards.web.access import allow
from hotline import accounts, clock, permissions, runtime
from hotline.models import Staff

csrf = CSRFProtect()


class LoginForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


def init_app(app: Flask) -> None:
    """Flask-Login, CSRF and the login rate limit for `app`; the login and logout views."""
    manager = LoginManager(app)
    manager.login_view = "web.login"
    manager.session_protection = "strong"
    manager.user_loader(_load_staff)
    csrf.init_app(app)
    app.session_interface = CookieSessions()
    settings = app.extensions["hotline"].settings
    limiter = Limiter(get_remote_address, storage_uri=settings.redis_url or "memory://",
                      strategy="moving-window", headers_enabled=True)
    _hook_for_the_web_only(app, limiter)
    app.extensions["hotline_limiter"] = limiter
    # Only the login view has limits: the staff web's other pages skip the extension's lookup of
    # the view's limits.
    limiter.request_filter(lambda: request.endpoint != "web.login")
    view = login
    for key in (get_remote_address, _login_name):
        view = limiter.limit(settings.login_rate_limit, key_func=key, methods=["POST"],
                             deduct_when=lambda response: response.status_code == 401)(view)
    app.add_url_rule("/login", "web.login", view, methods=["GET", "POST"])
    app.add_url_rule("/logout", "web.logout", logout, methods=["POST"])
    app.before_request(_end_idle_session)


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed cookie sessions. A request that sends no cookie at all (every Twilio webhook)
    gets the empty session Flask would give it, without building the cookie's signer first (about
    50 Python calls a request, bench/ivr_in_process.py --profile)."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if app.secret_key and "HTTP_COOKIE" not in request.environ:
            return self.session_class()
        return super().open_session(app, request)


def _hook_for_the_web_only(app: Flask, limiter: Limiter) -> None:
    """Initialise `limiter` for `app` with its request hooks (check the limits, add the headers,
    release its context) run for the staff web's endpoints ("web." and the login view, whose
    endpoint is "web.login") only: Twilio's webhooks and the API have no limits, and the hooks cost
    a webhook about 200 Python calls (bench/ivr_in_process.py --profile)."""
    hooks = (app.before_request_funcs, app.after_request_funcs, app.teardown_request_funcs)
    before = [list(funcs.get(None, ())) for funcs in hooks]
    limiter.init_app(app)
    for funcs, had in zip(hooks, before, strict=True):
        added = [func for func in funcs.get(None, ()) if func not in had]
        funcs[None] = had
        funcs.setdefault("web", []).extend(added)


class SignedIn(UserMixin):
    """The staff member of a session, as Flask-Login wants them; their attributes read through."""

    def __init__(self, staff: Staff) -> None:
        self.staff = staff

    def get_id(self) -> str:
        return str(self.staff.id)

    @property
    def is_active(self) -> bool:
        return self.staff.active

    def __getattr__(self, name: str):
        return getattr(self.staff, name)


def _load_staff(staff_id: str) -> SignedIn | None:
    """The session's staff member, re-read on every request: one deactivated since, or whose
    password was removed, is logged out."""
    staff = runtime.session().get(Staff, int(staff_id)) if staff_id.isdecimal() else None
    return SignedIn(staff) if staff is not None and staff.active and staff.password_hash else None


def _login_name() -> str:
    """The rate limit's key per name: the name typed, case-folded."""
    return "name:" + (request.form.get("name") or "").strip().casefold()


def _end_idle_session() -> None:
    """A session idle for longer than staff_idle_minutes is logged out (the cookie's own expiry
    is the browser's; this is the server's)."""
    # Without a cookie nobody is signed in (sessions and remember-me are cookies; no request
    # loader): Twilio's webhooks, which send none, skip loading the anonymous user.
    if "HTTP_COOKIE" not in request.environ or not request.cookies or not current_user.is_authenticated:
        return
    now = clock.timestamp()
    limit = runtime.settings().staff_idle_minutes * 60
    last = session.get("seen", now)
    if now - last > limit:
        audit(current_user.id, "logout", "idle")
        logout_user()
        session.clear()
        return
    view = current_app.view_functions.get(request.endpoint or "")
    if not getattr(view, "passive", False):  # a page polling by itself is not the person at work
        session["seen"] = now


def audit(staff_id: int | None, kind: str, detail: str | None = None, actor_id: int | None = None) -> None:
    """Append an audit entry (committed at once, whatever else the request does)."""
    db = runtime.session()
    accounts.audit(db, kind=kind, staff_id=staff_id, actor_id=actor_id, detail=detail)
    db.commit()


def _address_key() -> str:
    """The client's address as a keyed hash (personal data: never stored in clear)."""
    address = get_remote_address() or "?"
    return hmac.new(current_app.secret_key.encode(), address.encode(), hashlib.sha256).hexdigest()[:12]


def login():
    """GET: the form. POST: log in and go to one's own page; 401 and the form again otherwise."""
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("web.home"))
    form = LoginForm()
    if request.method == "POST" and form.validate_on_submit():
        staff = accounts.check_login(runtime.session(), form.name.data, form.password.data)
        if staff is not None:
            session.clear()
            session.permanent = True
            login_user(SignedIn(staff))
            session["seen"] = clock.timestamp()
            audit(staff.id, "login", f"from #{_address_key()}")
            return redirect(url_for("web.home"))
        known = runtime.session().scalar(select(Staff.id).where(Staff.name == form.name.data.strip()))
        audit(known, "login_failed", f"from #{_address_key()}")
        flash(gettext("Wrong name or password."), "error")
        return render_template("login.html", form=form), 401
    status = 400 if request.method == "POST" else 200
    return render_template("login.html", form=form), status


@allow(permissions.EVERYONE)
@login_required
def logout():
    """Log out (a POST, with the CSRF token): back to the login page."""
    audit(current_user.id, "logout")
    logout_user()
    session.clear()
    return redirect(url_for("web.login"))
