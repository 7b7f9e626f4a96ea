"""Who may use which page, fragment and action of the staff web. The rules are
hotline.permissions', the API's too: every view of the web blueprint declares one of its role sets
with `allow`; a view that declares none is refused to everyone (deny by default), and the check
runs before any view. Templates ask `may_open(endpoint)` to show only the links one may follow."""
from __future__ import annotations

from collections.abc import Callable

from flask import Flask, abort, redirect, request, url_for
from flask_login import current_user

from hotline import permissions
from hotline.models import Role

# Each role's own page, where `/` and a fresh login send them.
HOME = {Role.consultant.value: "web.desk", Role.supervisor.value: "web.board", Role.admin.value: "web.board"}
PUBLIC = {"web.login", "web.language", "web.static", "static"}


def allow(roles: frozenset[str]) -> Callable:
    """Declare the roles that may use a view of the staff web (checked by init_app's hook): one of
    hotline.permissions' role sets, such as permissions.USE_DESK."""

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
    not allow -> 403. Templates get `may_open`."""

    @app.before_request
    def _check_role():
        endpoint = request.endpoint or ""
        if not (endpoint.startswith("web.") or endpoint == "web") or endpoint in PUBLIC:
            return None
        if not current_user.is_authenticated:
            if endpoint == "web.logout":
                return redirect(url_for("web.login"))
            return redirect(url_for("web.login", next=request.path))
        if not permissions.allowed(current_user, allowed_roles(app, endpoint)):
            abort(403)
        return None

    @app.template_global()
    def may_open(endpoint: str) -> bool:
        """Whether the signed-in person may open `endpoint` (so a page links to it)."""
        return current_user.is_authenticated and permissions.allowed(current_user,
                                                                     allowed_roles(app, endpoint))
