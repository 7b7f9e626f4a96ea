"""Who may use which page, fragment and action of the staff web: the API's rules. Consultants see
their own records and those of their languages; supervisors see everything; admins also manage
staff. Every view of the web blueprint declares its roles with `allow`; a view that declares none
is refused to everyone (deny by default), and the check runs before any view."""
from __future__ import annotations

from collections.abc import Callable

from flask import Flask, abort, redirect, request, url_for
from flask_login import current_user

CONSULTANT, SUPERVISOR, ADMIN = "consultant", "supervisor", "admin"
EVERYONE = (CONSULTANT, SUPERVISOR, ADMIN)
STAFF_LEADS = (SUPERVISOR, ADMIN)
# Each role's own page, where `/` and a fresh login send them.
HOME = {CONSULTANT: "web.desk", SUPERVISOR: "web.board", ADMIN: "web.board"}
PUBLIC = {"web.login", "web.language", "web.static", "static"}


def allow(*roles: str) -> Callable:
    """Declare the roles that may use a view of the staff web (checked by init_app's hook)."""

    def mark(view: Callable) -> Callable:
        view.allowed_roles = frozenset(roles)
        return view

    return mark


def allowed_roles(app: Flask, endpoint: str) -> frozenset[str]:
    """The roles `endpoint` allows: what its view declared with `allow`, else none."""
    view = app.view_functions.get(endpoint)
    return getattr(view, "allowed_roles", frozenset())


def init_app(app: Flask) -> None:
    """Check every request to the staff web: no session -> the login page; a role the view does
    not allow -> 403."""

    @app.before_request
    def _check_role():
        endpoint = request.endpoint or ""
        if not (endpoint.startswith("web.") or endpoint == "web") or endpoint in PUBLIC:
            return None
        if not current_user.is_authenticated:
            if endpoint == "web.logout":
                return redirect(url_for("web.login"))
            return redirect(url_for("web.login", next=request.path))
        if current_user.role not in allowed_roles(app, endpoint):
            abort(403)
        return None
