"""The consultant's desk, on the staff web's blueprint: the page, its live fragment (polled every
2 seconds), my status, the wrap-up of a record, one record, and a record of a consultation in person
or online. Thin: they parse, call dashboards.desk, and render."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext
from flask_login import current_user

import routing
from dashboards import desk
from dashboards.web.access import allow
from dashboards.web.desk_forms import OtherChannelForm, WrapUpForm
from dashboards.web.pages import blueprint
from hotline import permissions, runtime
from hotline.models import utcnow

STATUS_LABELS = {"available": lazy_gettext("Available"), "offered": lazy_gettext("Being rung"),
                 "busy": lazy_gettext("On a call"), "wrap_up": lazy_gettext("Wrap-up"),
                 "break": lazy_gettext("On a break"), "offline": lazy_gettext("Offline")}


def _live_context() -> dict:
    """What the live fragment shows: my status and since when, the wrap-up left, the call in hand,
    and the newest write-up I owe (the page reloads when it changes)."""
    session, me, now = runtime.session(), current_user.staff, utcnow()
    owed = desk.write_ups_owed(session, me, limit=1)
    return {"me": me, "status": routing.effective_status(me, now), "now": now,
            "wrap_up_left": desk.wrap_up_left(me, now), "in_hand": desk.call_in_hand(session, me, now),
            "owed_id": owed[0].id if owed else None, "show_number": permissions.desk_shows_caller_numbers(me),
            "statuses": desk.DESK_STATUSES, "status_labels": STATUS_LABELS,
            "lists": runtime.catalogue().wrap_up}


@blueprint.get("/desk", endpoint="desk")
@allow(permissions.USE_DESK)
def desk_page():
    """The consultant's desk: status, the call ringing or on, the write-up owed, my callbacks."""
    session, me = runtime.session(), current_user.staff
    context = _live_context()
    owed = desk.write_ups_owed(session, me)
    form = None
    if owed:
        form = WrapUpForm(runtime.catalogue(), formdata=None)
        form.fill_from(owed[0])
    return render_template(
        "desk.html", **context, owed=owed, form=form, callbacks=desk.my_callbacks(session, me),
        followups=desk.urgent_followups(session) if permissions.desk_shows_urgent_followups(me) else None)


@blueprint.get("/desk/live")
@allow(permissions.USE_DESK)
def desk_live():
    """The live part of the desk (status and the call in hand), an HTML fragment polled by the page."""
    return render_template("desk_live.html", **_live_context())


@blueprint.post("/desk/status")
@allow(permissions.USE_DESK)
def desk_status():
    """Set my status (available, break, offline); if it changed meanwhile (a call came), say so."""
    status = request.form.get("status", "")
    if status not in desk.DESK_STATUSES:
        abort(400)
    me = current_user.staff
    if desk.set_my_status(runtime.session(), me, status):
        flash(gettext("You are now: %(status)s.", status=STATUS_LABELS[status]), "status")
    else:
        flash(gettext("Your status changed meanwhile: you are %(status)s. Choose again if you still want "
                      "to change it.", status=STATUS_LABELS.get(me.status, me.status)), "error")
    return redirect(url_for("web.desk"))


def _record_or_abort(record_id: int, edit: bool = False):
    """The record, or 404 if missing, 403 if I may not see it (or, with `edit`, write it up)."""
    me = current_user.staff
    try:
        record = desk.record_for(runtime.session(), me, record_id)
    except PermissionError:
        abort(403)
    if record is None:
        abort(404)
    if edit and not permissions.may_write_up(me, record):
        abort(403)
    return record


@blueprint.get("/desk/records/<int:record_id>")
@allow(permissions.USE_DESK)
def desk_record(record_id: int):
    """One consultation record; with the wrap-up form if I may write it up."""
    record = _record_or_abort(record_id)
    form = None
    if permissions.may_write_up(current_user.staff, record):
        form = WrapUpForm(runtime.catalogue(), formdata=None)
        form.fill_from(record)
    return render_template("desk_record.html", record=record, form=form,
                           show_number=permissions.desk_shows_caller_numbers(current_user.staff),
                           lists=runtime.catalogue().wrap_up)


@blueprint.post("/desk/records/<int:record_id>/wrap-up")
@allow(permissions.USE_DESK)
def desk_wrap_up(record_id: int):
    """Save the wrap-up of a record I may write up; my own call's ends my wrap-up (I am available)."""
    record = _record_or_abort(record_id, edit=True)
    form = WrapUpForm(runtime.catalogue())
    if not form.validate_on_submit():
        return render_template("desk_record.html", record=record, form=form,
                               show_number=permissions.desk_shows_caller_numbers(current_user.staff),
                               lists=runtime.catalogue().wrap_up), 400
    ended = desk.save_wrap_up(runtime.session(), current_user.staff, record, form.wrap_up())
    flash(gettext("Write-up saved. Your wrap-up is over: you are available.") if ended
          else gettext("Write-up saved."), "status")
    return redirect(url_for("web.desk"))


@blueprint.route("/desk/records/new", methods=["GET", "POST"])
@allow(permissions.USE_DESK)
def desk_new_record():
    """Record a consultation given in person or online (it counts like a call)."""
    me = current_user.staff
    form = OtherChannelForm(runtime.catalogue())
    if request.method == "GET":
        form.office.data = me.office_code
        form.language.data = me.languages[0] if me.languages else None
    elif form.validate_on_submit():
        record = desk.record_other_channel(runtime.session(), me, form.channel.data, form.language.data,
                                           form.office.data, form.wrap_up(), form.minutes.data)
        flash(gettext("Consultation recorded (record %(id)s).", id=record.id), "status")
        return redirect(url_for("web.desk"))
    status = 400 if request.method == "POST" else 200
    return render_template("desk_new_record.html", form=form), status
