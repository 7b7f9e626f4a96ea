"""GET /api/consultants and PUT /api/consultants/<id>/status."""
from __future__ import annotations

from flask import jsonify
from werkzeug.exceptions import NotFound

import routing
from dashboards import queries
from dashboards.api import access, params, schemas
from dashboards.api.core import ErrorSchema, blueprint
from dashboards.api.fields import MAX_ID
from hotline import runtime
from hotline.models import Staff, Status


@blueprint.route("/consultants", methods=["GET"])
@blueprint.arguments(params.ConsultantQuery, location="query")
@blueprint.response(200, schemas.Consultants)
def list_consultants(query: dict):
    """Consultants (active), by name: their skills and status; phones for leads and themselves."""
    found = queries.consultants(runtime.session(), query.get("office"))
    return {"consultants": found[query["offset"]:query["offset"] + query["limit"]]}


@blueprint.route(f"/consultants/<int(max={MAX_ID}):staff_id>/status", methods=["PUT", "POST"])
@blueprint.arguments(params.StatusChange)
@blueprint.response(200, schemas.Consultant)
@blueprint.alt_response(409, schema=ErrorSchema, description="the status changed meanwhile")
def set_consultant_status(change: dict, staff_id: int):
    """Consultants set their own status; supervisors and admins anyone's. 409 (JSON, with the
    status that won) when the consultant's status changed between our read and our write, say a
    caller was put through to them: the client shows it, and the user chooses again."""
    session = runtime.session()
    staff = session.get(Staff, staff_id)
    if staff is None:
        raise NotFound(f"no consultant {staff_id}")
    access.require_status_change(staff)
    was_offered = staff.current_call_sid if staff.status == Status.offered.value else None
    if not routing.set_status(session, staff, change["status"]):
        won = routing.effective_status(staff)
        return jsonify(error=f"the consultant's status changed meanwhile; it is now {won}", status=won), 409
    # Ringing for a waiting caller: that caller goes to the next consultant; now available: the
    # longest-waiting caller this consultant can serve is put through.
    routing.consultant_status_changed(session, staff, was_offered)
    return staff
