"""GET /api/calls/<CallSid>, GET /api/consultations and PATCH /api/consultations/<id>."""
from __future__ import annotations

from marshmallow import Schema
from werkzeug.exceptions import NotFound

from dashboards import days, queries
from dashboards.api import access, params, schemas
from dashboards.api.core import blueprint
from dashboards.api.fields import MAX_ID, Text
from hotline import permissions, records, runtime
from hotline.clock import utcnow
from hotline.models import ConsultationRecord


class CallPath(Schema):
    call_sid = Text(required=True)


@blueprint.route("/calls/<call_sid>", methods=["GET"])
@blueprint.arguments(CallPath, location="path", as_kwargs=True)
@blueprint.response(200, schemas.Call)
def get_call(call_sid: str):
    """One call and each step of its journey; its caller's number for leads and its consultant."""
    call = queries.call_by_sid(runtime.session(), call_sid)
    if call is None:
        raise NotFound(f"no call {call_sid}")
    return call


def period_of(query: dict) -> days.Period | None:
    """from/to: inclusive days, each office's in its own time zone; None if neither is given."""
    first, last = query.get("first"), query.get("last")
    return days.local_days(runtime.catalogue(), first, last) if first or last else None


@blueprint.route("/consultations", methods=["GET"])
@blueprint.arguments(params.RecordQuery, location="query")
@blueprint.response(200, schemas.Consultations)
def list_consultations(query: dict):
    """Consultation records the one asking may see, newest first (dates inclusive, each office's
    day in its time zone); notes for leads and the consultant who handled each."""
    flt = queries.RecordFilter(
        call_sid=query.get("call_sid"), language=query.get("language"), topic=query.get("topic"),
        office=query.get("office"), days=period_of(query), visible=permissions.visible_records(access.me()),
        limit=query["limit"], offset=query["offset"],
    )
    return {"consultations": queries.consultation_records(runtime.session(), flt)}


@blueprint.route(f"/consultations/<int(max={MAX_ID}):record_id>", methods=["PATCH"])
@blueprint.arguments(params.WriteUp)
@blueprint.response(200, schemas.Consultation)
def complete_consultation(write_up: dict, record_id: int):
    """The consultant's write-up: notes and outcome; marks the record completed."""
    session = runtime.session()
    record = session.get(ConsultationRecord, record_id)
    if record is None:
        raise NotFound(f"no consultation {record_id}")
    access.require_write_up(record.consultant_id)
    records.write_up(session, record, write_up, utcnow())
    return record
