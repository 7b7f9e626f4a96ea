"""Who is asking the API, and what they may do: the API's permission rules, each once.

A request is signed in with `Authorization: Bearer <token>` (hotline.accounts) or, without that
header, with the staff web's session (Flask-Login); an unsafe method on a session must carry the
session's CSRF token (Flask-WTF), as the staff web's own forms do. Who may do and see what is
hotline.permissions' rule, the staff web's too; this module applies it to the one asking."""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import current_app, g, request
from flask_login import current_user
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import Forbidden, Unauthorized

from hotline import accounts, permissions, runtime
from hotline.models import Staff

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def authenticate() -> None:
    """Find who is asking (a bearer token, else the staff web's session) and keep them for the
    request; 401 if nobody valid, 400 if a session's unsafe request lacks its CSRF token."""
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        staff = accounts.staff_for_token(runtime.session(), token.strip()) \
            if scheme.lower() == "bearer" and token.strip() else None
    else:
        staff = getattr(current_user, "staff", None) if current_user.is_authenticated else None
        if staff is not None and request.method not in SAFE_METHODS:
            current_app.extensions["csrf"].protect()  # CSRFError, a 400, without the session's token
    if staff is None:
        raise Unauthorized("a valid bearer token (or a staff web session) is required",
                           www_authenticate=WWWAuthenticate("bearer", {"realm": "hotline"}))
    g.api_staff = staff


def me() -> Staff:
    """The staff member asking (set by authenticate)."""
    return g.api_staff


def require(roles: frozenset[str], action: str) -> None:
    """403 unless the one asking has one of `roles` (a hotline.permissions rule; each the API
    checks is for supervisors and admins only); `action` says what they tried."""
    if not permissions.allowed(me(), roles):
        raise Forbidden(f"only supervisors and admins may {action}")


def only(roles: frozenset[str], action: str) -> Callable[[Callable], Callable]:
    """A view for `roles` only (require), checked before its parameters are read: others learn
    nothing, not even whether a row exists or a body would do."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            require(roles, action)
            return view(*args, **kwargs)

        return checked

    return decorate


def require_status_change(staff: Staff) -> None:
    """Consultants set their own status; supervisors and admins anyone's (else 403)."""
    if not permissions.may_set_status(me(), staff):
        raise Forbidden("only supervisors may set another consultant's status")


def may_see_personal(owner_id: int | None) -> bool:
    """Whether the one asking may see the personal data of a row handled by (or assigned to)
    `owner_id`: supervisors and admins always, a consultant for their own rows."""
    return permissions.may_see_personal_data(me(), owner_id)


def require_write_up(consultant_id: int | None) -> None:
    """A consultation record is written up by the consultant who handled it or by a lead (else 403)."""
    if not may_see_personal(consultant_id):
        raise Forbidden("only the consultant who handled it, or a supervisor, may write it up")
