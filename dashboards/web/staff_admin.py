"""Staff management for admins (/staff): list, add and edit staff, deactivate and reactivate them,
set or generate a password, list and revoke API tokens. Views only parse the form and call
hotline.accounts (the same functions as `hotline staff ...`); an AccountError is shown on the form
with a 400. Every POST carries the CSRF token (checked by Flask-WTF's CSRFProtect)."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

import routing
from dashboards.web.access import allow
from dashboards.web.pages import blueprint
from dashboards.web.typed import with_typed
from hotline import accounts, permissions, runtime
from hotline.models import Role, Staff

MAX_ID = 2**31 - 1  # ids are 32-bit INTEGER columns: a larger one is simply not there
ONE = f"/staff/<int(max={MAX_ID}):staff_id>"


def _person(staff_id: int) -> Staff:
    """The staff member `staff_id`, or a 404."""
    staff = runtime.session().get(Staff, staff_id)
    if staff is None:
        abort(404)
    return staff


def _posted_profile() -> dict:
    """The profile fields of the posted form, as accounts.create_staff and update_staff take them."""
    form = request.form
    return {"name": form.get("name", ""), "role": form.get("role", ""), "phone": form.get("phone", ""),
            "office": form.get("office", ""), "languages": form.getlist("languages"),
            "topics": form.getlist("topics"), "whisper_language": form.get("whisper_language", "")}


def _form_page(staff: Staff | None, values: dict, error: accounts.AccountError | None = None,
               status: int = 200, new_password: str | None = None):
    """The add form (`staff` None) or a person's page: profile form, activation, password, tokens.
    `error` is shown with the name it names isolated, as every typed value."""
    tokens = accounts.tokens_of(runtime.session(), staff) if staff else []
    shown = None if error is None else with_typed(error.template, **(
        {} if error.name is None else {"name": error.name}))
    page = render_template("staff_form.html", staff=staff, values=values, error=shown,
                           tokens=tokens, roles=[r.value for r in Role], catalogue=runtime.catalogue(),
                           new_password=new_password, min_password=accounts.MIN_PASSWORD_LENGTH)
    return page, status, ({"Cache-Control": "no-store"} if new_password else {})


@blueprint.get("/staff")
@allow(permissions.MANAGE_STAFF)
def staff():
    """Every staff member with their role, office, phone, skills, whisper language and status."""
    people = accounts.list_staff(runtime.session())
    return render_template("staff.html", people=[(s, routing.effective_status(s)) for s in people])


@blueprint.route("/staff/new", methods=["GET", "POST"])
@allow(permissions.MANAGE_STAFF)
def staff_new():
    """GET: the empty form. POST: add the person and go to their page; 400 with the message."""
    if request.method == "GET":
        return _form_page(None, {"role": Role.consultant.value, "languages": [], "topics": []})
    values = _posted_profile()
    try:
        person = accounts.create_staff(runtime.session(), runtime.catalogue(), actor_id=current_user.id,
                                       **values)
    except accounts.AccountError as error:
        return _form_page(None, values, error, 400)
    flash(with_typed(gettext("%(name)s added. Set a password so they can log in."), name=person.name),
          "status")
    return redirect(url_for("web.staff_edit", staff_id=person.id))


@blueprint.route(ONE, methods=["GET", "POST"])
@allow(permissions.MANAGE_STAFF)
def staff_edit(staff_id: int):
    """GET: the person's page. POST: save their profile and come back; 400 with the message."""
    person = _person(staff_id)
    if request.method == "GET":
        return _form_page(person, accounts.profile_of(person))
    values = _posted_profile()
    try:
        changed = accounts.update_staff(runtime.session(), runtime.catalogue(), person,
                                        actor_id=current_user.id, **values)
    except accounts.AccountError as error:
        return _form_page(person, values, error, 400)
    # The fields changed are named as stored (name, role, phone...), in every language.
    saved = gettext("Saved (%(fields)s).", fields=", ".join(changed)) if changed \
        else gettext("Nothing changed.")
    flash(saved, "status")
    return redirect(url_for("web.staff_edit", staff_id=person.id))


@blueprint.post(ONE + "/deactivate")
@allow(permissions.MANAGE_STAFF)
def staff_deactivate(staff_id: int):
    """Deactivate the person (history kept; they are logged out and no longer rung)."""
    person = _person(staff_id)
    try:
        accounts.deactivate(runtime.session(), person, actor_id=current_user.id)
    except accounts.AccountError as error:
        return _form_page(person, accounts.profile_of(person), error, 400)
    flash(with_typed(gettext("%(name)s is deactivated."), name=person.name), "status")
    return redirect(url_for("web.staff_edit", staff_id=person.id))


@blueprint.post(ONE + "/reactivate")
@allow(permissions.MANAGE_STAFF)
def staff_reactivate(staff_id: int):
    """Let a deactivated person log in and take calls again."""
    person = _person(staff_id)
    accounts.reactivate(runtime.session(), person, actor_id=current_user.id)
    flash(with_typed(gettext("%(name)s is active again."), name=person.name), "status")
    return redirect(url_for("web.staff_edit", staff_id=person.id))


@blueprint.post(ONE + "/password")
@allow(permissions.MANAGE_STAFF)
def staff_password(staff_id: int):
    """Set the password typed twice, or (action=generate) a random one shown on this page only."""
    person = _person(staff_id)
    profile = accounts.profile_of(person)
    generated = request.form.get("action") == "generate"
    password = accounts.generate_password() if generated else request.form.get("password", "")
    if not generated and password != request.form.get("password_again", ""):
        return _form_page(person, profile, accounts.AccountError(gettext("the two passwords differ")), 400)
    try:
        accounts.set_password(runtime.session(), person, password, actor_id=current_user.id)
    except accounts.AccountError as error:
        return _form_page(person, profile, error, 400)
    if generated:
        return _form_page(person, profile, new_password=password)
    flash(with_typed(gettext("Password set for %(name)s."), name=person.name), "status")
    return redirect(url_for("web.staff_edit", staff_id=person.id))


@blueprint.post(ONE + f"/tokens/<int(max={MAX_ID}):token_id>/revoke")
@allow(permissions.MANAGE_STAFF)
def staff_revoke_token(staff_id: int, token_id: int):
    """Revoke one of the person's API tokens."""
    person = _person(staff_id)
    try:
        accounts.revoke_token(runtime.session(), person, token_id, actor_id=current_user.id)
    except accounts.AccountError as error:
        return _form_page(person, accounts.profile_of(person), error, 404)
    flash(gettext("API token #%(id)s revoked.", id=token_id), "status")
    return redirect(url_for("web.staff_edit", staff_id=person.id))
