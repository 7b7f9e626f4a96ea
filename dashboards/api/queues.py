"""The live queues (GET /api/queues), the waiting callers (GET /api/queue-entries), marking one
urgent (PATCH /api/queue-entries/<id>) and the queue report (GET /api/reports/queues)."""
from __future__ import annotations

from datetime import date

from marshmallow import ValidationError
from werkzeug.exceptions import BadRequest, Conflict, NotFound

from dashboards import days, queries, reports
from dashboards.api import access, params, schemas
from dashboards.api.core import blueprint
from dashboards.api.fields import MAX_ID
from hotline import permissions, runtime
from hotline.clock import utcnow
from hotline.models import QueueEntry


@blueprint.route("/queues", methods=["GET"])
@blueprint.response(200, schemas.LiveQueues)
def live_queues():
    """Callers waiting per language x topic queue, and consultants by status; for any staff."""
    return queries.live_queues(runtime.session(), utcnow())


@blueprint.route("/queue-entries", methods=["GET"])
@access.only(permissions.WATCH_BOARD, "list waiting callers")
@blueprint.arguments(params.Page, location="query")
@blueprint.response(200, schemas.WaitingCallers)
def list_queue_entries(page: dict):
    """Supervisors: every caller waiting, in serving order per queue (to find whom to mark urgent)."""
    entries = queries.callers_in_queues(runtime.session(), utcnow())
    return {"entries": entries[page["offset"]:page["offset"] + page["limit"]]}


@blueprint.route(f"/queue-entries/<int(max={MAX_ID}):entry_id>", methods=["PATCH"])
@access.only(permissions.MARK_URGENT, "mark callers urgent")
@blueprint.arguments(params.UrgentMark)
@blueprint.response(200, schemas.QueueEntry)
def set_queue_entry_urgent(mark: dict, entry_id: int):
    """A supervisor moves a waiting caller to the front of their queue ({"urgent": true}) or back;
    409 if the caller has left the queue."""
    session = runtime.session()
    entry = session.get(QueueEntry, entry_id)
    if entry is None:
        raise NotFound(f"no queue entry {entry_id}")
    if not queries.set_urgent(session, entry.id, mark["urgent"], access.me().id, utcnow()):
        raise Conflict("the caller is no longer in the queue")
    session.refresh(entry)
    return entry


def report_period(query: dict) -> tuple[date, date, days.Period]:
    """from/to, inclusive days, each office's in its own time zone: `to` defaults to today (each
    office's), `from` to `to`. Returns the first and last day as shown (a default today: the
    default office's) and the period; BadRequest if from comes after a default today."""
    catalogue, now = runtime.catalogue(), utcnow()
    asked_first, asked_last = query.get("first"), query.get("last")
    last = asked_last or days.today(catalogue, now)
    first = asked_first or last
    try:
        params.check_period(first, last)
    except ValidationError as refused:
        raise BadRequest("; ".join(refused.messages)) from None
    if asked_last is None:
        return first, last, days.todays(catalogue, now, asked_first)
    return first, last, days.local_days(catalogue, first, last)


def time_zones() -> dict[str, str]:
    """Each office's time zone, by office code."""
    return {office.code: office.timezone for office in runtime.catalogue().offices}


@blueprint.route("/reports/queues", methods=["GET"])
@access.only(permissions.READ_REPORTS, "read reports")
@blueprint.arguments(params.ReportQuery, location="query")
@blueprint.response(200, schemas.QueueReport)
def queue_report(query: dict):
    """Queue figures, the call funnel and abandonment by stage for a period; supervisors only."""
    first, last, period = report_period(query)
    report = reports.queue_report(runtime.session(), period, query["within"])
    return {"first": first.isoformat(), "last": last.isoformat(), "within_seconds": query["within"],
            "time_zone": days.zone_of(runtime.catalogue(), None).key, "time_zones": time_zones(), **report}
