"""The staff web's pages. Views are thin: they read through the dashboards' query functions and
act through the same service functions as the JSON API."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user

from dashboards.web.access import HOME, allow
from hotline import permissions

blueprint = Blueprint("web", __name__, template_folder="../templates", static_folder="../static",
                      static_url_path="/static/staff")


@blueprint.get("/")
@allow(permissions.EVERYONE)
def home():
    """Each person's own page: the desk for consultants, the board for supervisors and admins."""
    return redirect(url_for(HOME.get(current_user.role, "web.desk")))




@blueprint.get("/reports")
@allow(permissions.READ_REPORTS)
def reports():
    """The figures the centres report (a placeholder until the reporting issue fills it)."""
    return render_template("reports.html")
