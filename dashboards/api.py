"""The JSON API for staff tools: bearer tokens, consultants and their status, calls, records, the
live queues, queue reports and callbacks.

Personal data (caller numbers, notes, staff phones) is shown only to supervisors and admins, and
to the consultant who handled the call (a callback's number: to the consultant it is assigned to).
The queue endpoints hold none. Every rule is hotline.permissions'.
"""
from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from flask import Blueprint, Flask, Response, jsonify, request
from flask_httpauth import HTTPTokenAuth
from werkzeug.exceptions import BadRequest, Conflict, Forbidden, HTTPException, NotFound, UnsupportedMediaType

import routing
from callbacks import schedule
from dashboards import callback_actions, callback_queries, days, queries, reports
from hotline import accounts, permissions, runtime
from hotline.models import (
    SETTABLE_STATUSES,
    Call,
    Callback,
    CallbackState,
    ConsultationRecord,
    QueueEntry,
    Staff,
    Status,
    utcnow,
)

log = logging.getLogger(__name__)
blueprint = Blueprint("api", __name__, url_prefix="/api")
auth = HTTPTokenAuth(scheme="Bearer")
MAX_ID = 2**31 - 1  # ids are 32-bit INTEGER columns: a larger one is simply not there
OUTCOME_LENGTH = ConsultationRecord.__table__.c.outcome.type.length
NOTES_LENGTH = 20000
# Dates the API accepts: beyond them a day's bounds fall outside what datetime can hold.
FIRST_DATE, LAST_DATE = date(1900, 1, 1), date(9998, 12, 31)
MAX_REPORT_DAYS = 366
MAX_SERVICE_SECONDS = 86400  # a service-level target longer than a day means nothing


def init_app(app: Flask) -> None:
    """Register the API, and answer every error under /api/ in JSON: unmatched URLs (404) and
    wrong methods (405) fail before any blueprint is chosen, so a blueprint handler never sees them."""
    app.register_blueprint(blueprint)
    app.register_error_handler(HTTPException, _error_for_path)


def _error_for_path(error: HTTPException) -> Response | HTTPException:
    if request.path == blueprint.url_prefix or request.path.startswith(blueprint.url_prefix + "/"):
        return _json_error(error)
    return error  # elsewhere Flask's own error page


@auth.verify_token
def _verify(token: str) -> Staff | None:
    return accounts.staff_for_token(runtime.session(), token) if token else None


@auth.error_handler
def _auth_error(status: int):
    return jsonify(error="a valid bearer token is required"), status


def _json_error(error: HTTPException) -> Response:
    response = jsonify(error=error.description)
    response.status_code = error.code or 500
    # Keep what the error adds besides its body, such as a 405's Allow header.
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


@blueprint.before_request
def _refuse_nul_characters() -> None:
    # PostgreSQL cannot take a NUL in a text parameter; refuse it here rather than fail with a 500.
    if "\x00" in request.path or any("\x00" in value for value in request.args.values()):
        raise BadRequest("the request contains a NUL character")


def _me() -> Staff:
    return auth.current_user()


def _require(roles: frozenset[str], action: str) -> None:
    """403 unless my role is among `roles` (a hotline.permissions rule, each of them leads only)."""
    if not permissions.allowed(_me(), roles):
        raise Forbidden(f"only supervisors and admins may {action}")


def _may_see_personal(consultant_id: int | None) -> bool:
    return permissions.may_see_personal_data(_me(), consultant_id)


def _consultant_json(staff: Staff) -> dict:
    data = {"id": staff.id, "name": staff.name, "office": staff.office_code, "languages": staff.languages,
            "topics": staff.topics, "status": routing.effective_status(staff),
            "status_since": staff.status_since.isoformat()}
    if _may_see_personal(staff.id):
        data["phone"] = staff.phone
    return data


def _call_json(call: Call) -> dict:
    data = {"call_sid": call.call_sid, "office": call.office_code, "language": call.language_code,
            "topic": call.topic_code, "stage": call.stage, "outcome": call.outcome,
            "consultant_id": call.consultant_id, "started_at": call.started_at.isoformat(),
            "answered_at": call.answered_at and call.answered_at.isoformat(),
            "ended_at": call.ended_at and call.ended_at.isoformat(),
            "duration_seconds": call.duration_seconds,
            "events": [{"at": e.at.isoformat(), "kind": e.kind, "detail": e.detail,
                        "consultant_id": e.consultant_id} for e in call.events]}
    if _may_see_personal(call.consultant_id):
        data["caller_number"] = call.caller_number
    return data


def _record_json(record: ConsultationRecord) -> dict:
    data = {"id": record.id, "call_sid": record.call.call_sid if record.call else None,
            "channel": record.channel,
            "language": record.language_code, "topic": record.topic_code, "office": record.office_code,
            "consultant_id": record.consultant_id, "outcome": record.outcome,
            "duration_seconds": record.duration_seconds, "started_at": record.started_at.isoformat(),
            "completed_at": record.completed_at and record.completed_at.isoformat(),
            # A callback's call: the call on which the caller asked for it.
            "original_call_id": record.call.original_call_id if record.call else None}
    if _may_see_personal(record.consultant_id):
        data["notes"] = record.notes
    return data


@blueprint.get("/consultants")
@auth.login_required
def list_consultants():
    office = request.args.get("office")
    return jsonify(consultants=[_consultant_json(s) for s in queries.consultants(runtime.session(), office)])


def _json_body() -> object:
    """The request's body parsed as JSON (RFC 8259), the one place the API reads a body from.

    415 unless it is sent as Content-Type: application/json; 400 if it is not JSON, is nested
    deeper than the parser can follow (a RecursionError otherwise), or holds text that could not be
    stored: a NUL (PostgreSQL refuses it) or a lone surrogate, which is no Unicode character
    (RFC 8259 section 8.2) and which no database encoding takes."""
    if not request.is_json:
        raise UnsupportedMediaType("send the body as JSON, with Content-Type: application/json")
    try:
        body = request.get_json()  # invalid JSON: BadRequest
    except RecursionError:
        raise BadRequest("the JSON body is nested too deeply") from None
    if not _storable_text(body):
        raise BadRequest("the JSON body holds a NUL character or a lone surrogate (not Unicode text)")
    return body


def _storable_text(body: object) -> bool:
    """True if every string in `body`, keys included, is Unicode text without NUL. Walked with a
    stack, not recursion: the body may be nested nearly as deep as the parser allows."""
    stack = [body]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, str):
            if "\x00" in value:
                return False
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return False
    return True


def _json_object() -> dict:
    """The JSON body if it is an object, else {} (each caller says which fields it needs)."""
    body = _json_body()
    return body if isinstance(body, dict) else {}


@blueprint.route(f"/consultants/<int(max={MAX_ID}):staff_id>/status", methods=["PUT", "POST"])
@auth.login_required
def set_consultant_status(staff_id: int):
    """Consultants set their own status; supervisors and admins anyone's. 409 (JSON, with the
    status that won) when the consultant's status changed between our read and our write, say a
    caller was put through to them: the client shows it, and the user chooses again."""
    session = runtime.session()
    staff = session.get(Staff, staff_id)
    if staff is None:
        raise NotFound(f"no consultant {staff_id}")
    if not permissions.may_set_status(_me(), staff):
        raise Forbidden("only supervisors may set another consultant's status")
    status = _json_object().get("status")
    if status not in SETTABLE_STATUSES:
        raise BadRequest(f"status must be one of {', '.join(SETTABLE_STATUSES)}")
    was_offered = staff.current_call_sid if staff.status == Status.offered.value else None
    if not routing.set_status(session, staff, status):
        return jsonify(error="the consultant's status changed meanwhile; it is now "
                             f"{routing.effective_status(staff)}",
                       status=routing.effective_status(staff)), 409
    # Ringing for a waiting caller: that caller goes to the next consultant; now available: the
    # longest-waiting caller this consultant can serve is put through.
    routing.consultant_status_changed(session, staff, was_offered)
    return jsonify(_consultant_json(staff))


@blueprint.get("/calls/<call_sid>")
@auth.login_required
def get_call(call_sid: str):
    call = queries.call_by_sid(runtime.session(), call_sid)
    if call is None:
        raise NotFound(f"no call {call_sid}")
    return jsonify(_call_json(call))


def _date_arg(name: str) -> date | None:
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise BadRequest(f"{name} must be a date like 2026-11-25") from None
    if not FIRST_DATE <= day <= LAST_DATE:
        raise BadRequest(f"{name} must be between {FIRST_DATE} and {LAST_DATE}")
    return day


def _whole_number(name: str, raw: str) -> int:
    """A whole number from the query string. isdecimal, not isdigit: int() refuses digits such as
    '²'; and int() refuses more than 4,300 digits, so a longer number is read as simply huge."""
    if not raw.isdecimal():
        raise BadRequest(f"{name} must be a whole number")
    digits = raw.lstrip("0") or "0"
    return int(digits) if len(digits) <= 18 else 10**18


def _int_arg(name: str, default: int, maximum: int) -> int:
    return min(_whole_number(name, request.args.get(name, str(default))), maximum)


def _days_arg() -> days.Period | None:
    """from/to: inclusive days, each office's in its own time zone; None if neither is given."""
    first, last = _date_arg("from"), _date_arg("to")
    return days.local_days(runtime.catalogue(), first, last) if first or last else None


@blueprint.get("/consultations")
@auth.login_required
def list_consultations():
    flt = queries.RecordFilter(
        call_sid=request.args.get("call_sid"), language=request.args.get("language"),
        topic=request.args.get("topic"), office=request.args.get("office"),
        days=_days_arg(), visible=permissions.visible_records(_me()),
        limit=_int_arg("limit", 100, 1000), offset=_int_arg("offset", 0, 10**9),
    )
    records = queries.consultation_records(runtime.session(), flt)
    return jsonify(consultations=[_record_json(r) for r in records])


def _text_field(body: dict, name: str, max_length: int) -> str:
    value = body[name]
    if not isinstance(value, str) or len(value) > max_length or "\x00" in value:
        raise BadRequest(f"{name} must be text of at most {max_length} characters, without NUL")
    return value


@blueprint.patch(f"/consultations/<int(max={MAX_ID}):record_id>")
@auth.login_required
def complete_consultation(record_id: int):
    """The consultant's write-up: notes and outcome; marks the record completed."""
    session = runtime.session()
    record = session.get(ConsultationRecord, record_id)
    if record is None:
        raise NotFound(f"no consultation {record_id}")
    if not _may_see_personal(record.consultant_id):
        raise Forbidden("only the consultant who handled it, or a supervisor, may write it up")
    body = _json_body()
    if not isinstance(body, dict) or not ({"notes", "outcome"} & body.keys()):
        raise BadRequest("send a JSON object with notes and/or outcome")
    for field, max_length in (("notes", NOTES_LENGTH), ("outcome", OUTCOME_LENGTH)):
        if field in body:
            setattr(record, field, _text_field(body, field, max_length))
    record.completed_at = utcnow()
    session.commit()
    return jsonify(_record_json(record))


# --- queues -----------------------------------------------------------------------------------

@blueprint.get("/queues")
@auth.login_required
def live_queues():
    """Callers waiting per language x topic queue, and consultants by status; for any staff."""
    return jsonify(queries.live_queues(runtime.session(), utcnow()))


def _queue_entry_json(session, entry: QueueEntry) -> dict:
    return {"id": entry.id, "call_sid": entry.call_sid, "language": entry.language_code,
            "topic": entry.topic_code, "office": entry.office_code, "state": entry.state,
            "urgent": entry.urgent, "entered_at": entry.entered_at.isoformat(),
            "position": routing.position(session, entry)}


@blueprint.get("/queue-entries")
@auth.login_required
def list_queue_entries():
    """Supervisors: every caller waiting, in serving order per queue (to find whom to mark urgent)."""
    _require(permissions.WATCH_BOARD, "list waiting callers")
    return jsonify(entries=queries.callers_in_queues(runtime.session(), utcnow()))


@blueprint.patch(f"/queue-entries/<int(max={MAX_ID}):entry_id>")
@auth.login_required
def set_queue_entry_urgent(entry_id: int):
    """A supervisor moves a waiting caller to the front of their queue ({"urgent": true}) or back."""
    _require(permissions.MARK_URGENT, "mark callers urgent")
    session = runtime.session()
    entry = session.get(QueueEntry, entry_id)
    if entry is None:
        raise NotFound(f"no queue entry {entry_id}")
    urgent = _json_object().get("urgent")
    if not isinstance(urgent, bool):
        raise BadRequest('send a JSON object with "urgent": true or false')
    if not queries.set_urgent(session, entry.id, urgent, _me().id, utcnow()):
        raise Conflict("the caller is no longer in the queue")
    session.refresh(entry)
    return jsonify(_queue_entry_json(session, entry))


# --- reports ----------------------------------------------------------------------------------

def _report_period() -> tuple[date, date, days.Period]:
    """from/to, inclusive days, each office's in its own time zone: `to` defaults to today (each
    office's), `from` to `to`. Returns the first and last day as shown (a default today: the
    default office's) and the period."""
    catalogue, now = runtime.catalogue(), utcnow()
    asked_first, asked_last = _date_arg("from"), _date_arg("to")
    last = asked_last or days.today(catalogue, now)
    first = asked_first or last
    if first > last:
        raise BadRequest("from must not be after to")
    if (last - first) >= timedelta(days=MAX_REPORT_DAYS):
        raise BadRequest(f"a report covers at most {MAX_REPORT_DAYS} days")
    if asked_last is None:
        return first, last, days.todays(catalogue, now, asked_first)
    return first, last, days.local_days(catalogue, first, last)


def _time_zones() -> dict[str, str]:
    return {office.code: office.timezone for office in runtime.catalogue().offices}


@blueprint.get("/reports/queues")
@auth.login_required
def queue_report():
    """Queue figures, the call funnel and abandonment by stage for a period; supervisors only."""
    _require(permissions.READ_REPORTS, "read reports")
    first, last, period = _report_period()
    within = _whole_number("within", request.args.get("within", "60"))
    if not 0 < within <= MAX_SERVICE_SECONDS:
        raise BadRequest(f"within must be a whole number of seconds from 1 to {MAX_SERVICE_SECONDS}")
    report = reports.queue_report(runtime.session(), period, within)
    return jsonify({"from": first.isoformat(), "to": last.isoformat(), "within_seconds": within,
                    "time_zone": days.zone_of(runtime.catalogue(), None).key, "time_zones": _time_zones(),
                    **report})


# --- callbacks --------------------------------------------------------------------------------

MAX_RESCHEDULE = timedelta(days=365)  # a callback moved further ahead than a year is a mistake
CALLBACK_CHANGES = frozenset({"assigned_staff_id", "due_at", "state"})
_UNCHANGED = object()


def _iso(at: datetime | None) -> str | None:
    return at and at.isoformat()


def _callback_json(callback: Callback, call_sid: str) -> dict:
    """A callback with its attempts. The number to call: supervisors, admins and the consultant it
    is assigned to; null for everyone else. `attempts` counts the attempts that rang the caller;
    `attempt_history` lists every attempt, a consultant who did not answer included."""
    return {
        "id": callback.id, "call_id": callback.call_id, "call_sid": call_sid,
        "language": callback.language_code, "topic": callback.topic_code, "office": callback.office_code,
        "state": callback.state, "attempts": callback.attempts, "due_at": callback.due_at.isoformat(),
        "window_start": callback.window_start.isoformat(), "window_end": callback.window_end.isoformat(),
        "first_rang_at": callback.first_rang_at.isoformat(), "created_at": callback.created_at.isoformat(),
        "closed_at": _iso(callback.closed_at), "assigned_staff_id": callback.assigned_staff_id,
        "number": callback.number if _may_see_personal(callback.assigned_staff_id) else None,
        "attempt_history": [{"number": attempt.number, "staff_id": attempt.staff_id,
                             "started_at": attempt.started_at.isoformat(), "ended_at": _iso(attempt.ended_at),
                             "outcome": attempt.outcome} for attempt in callback.attempt_rows],
    }


def _callback_detail_json(detail: callback_queries.CallbackDetail) -> dict:
    """The callback, the call that reached the caller (linked to the original by original_call_id)
    and that call's consultation record."""
    data = _callback_json(detail.callback, detail.call.call_sid)
    back = detail.return_call
    data["return_call"] = back and {
        "id": back.id, "call_sid": back.call_sid, "original_call_id": back.original_call_id,
        "consultant_id": back.consultant_id, "outcome": back.outcome,
        "started_at": back.started_at.isoformat(),
        "answered_at": _iso(back.answered_at), "ended_at": _iso(back.ended_at),
        "duration_seconds": back.duration_seconds}
    data["consultation"] = detail.record and _record_json(detail.record)
    return data


def _callback_states() -> tuple[str, ...] | None:
    """state=: comma-separated states, `open` (scheduled, due, in_progress) and `closed`
    (completed, unreachable, canceled) standing for theirs."""
    raw = request.args.get("state")
    if not raw:
        return None
    states: list[str] = []
    for name in raw.split(","):
        if name == "open":
            states += callback_queries.OPEN_STATES
        elif name == "closed":
            states += callback_queries.CLOSED_STATES
        elif name in callback_queries.STATES:
            states.append(name)
        else:
            raise BadRequest(f"state must be open, closed or any of {', '.join(callback_queries.STATES)}, "
                             "separated by commas")
    return tuple(dict.fromkeys(states))


def _assigned_filter() -> dict:
    """assigned=: a staff id, `me`, or `none` (callbacks for anyone suitable)."""
    raw = request.args.get("assigned")
    if not raw:
        return {}
    if raw == "none":
        return {"unassigned": True}
    if raw == "me":
        return {"assigned_staff_id": _me().id}
    if not raw.isdecimal():
        raise BadRequest('assigned must be a staff id, "me" or "none"')
    staff_id = _whole_number("assigned", raw)
    # Beyond the column's range: nobody's (ids start at 1, so 0 matches none).
    return {"assigned_staff_id": staff_id if staff_id <= MAX_ID else 0}


@blueprint.get("/callbacks")
@auth.login_required
def list_callbacks():
    """Callbacks, for any staff member: only open states asked for, soonest due first; otherwise
    latest due first. With the total matching and, under the same filters but the state, the
    count of each state. Drafts (bookings not finished) only when asked for by name."""
    flt = callback_queries.CallbackFilter(
        states=_callback_states(), language=request.args.get("language"), topic=request.args.get("topic"),
        office=request.args.get("office"), **_assigned_filter(),
        due_days=_days_arg(),
        limit=_int_arg("limit", 100, 1000), offset=_int_arg("offset", 0, 10**9),
    )
    session = runtime.session()
    rows = callback_queries.callbacks(session, flt)
    listed = [_callback_json(callback, call_sid) for callback, call_sid in rows]
    return jsonify(callbacks=listed, total=callback_queries.count(session, flt),
                   counts=callback_queries.counts_by_state(session, flt))


@blueprint.get("/callbacks/summary")
@auth.login_required
def callback_summary():
    """The backlog, for any staff member (no personal data): open by state, overdue, and closed
    today (the centres' day) by outcome; optionally for one language, topic or office."""
    summary = callback_queries.summary(runtime.session(), runtime.catalogue(), utcnow(),
                                       language=request.args.get("language"), topic=request.args.get("topic"),
                                       office=request.args.get("office"))
    return jsonify({**summary, "time_zones": _time_zones()})


def _known_id(callback_id: int) -> int:
    """Beyond the column's range, no callback. Checked here, not by the route's converter: with a
    GET and a PATCH rule on one path, werkzeug answers 405 when the converter refuses the id."""
    if callback_id > MAX_ID:
        raise NotFound(f"no callback {callback_id}")
    return callback_id


@blueprint.get("/callbacks/<int:callback_id>")
@auth.login_required
def get_callback(callback_id: int):
    detail = callback_queries.callback_detail(runtime.session(), _known_id(callback_id))
    if detail is None:
        raise NotFound(f"no callback {callback_id}")
    return jsonify(_callback_detail_json(detail))


DUE_AT_FORMAT = "an ISO-8601 time with its UTC offset, like 2026-11-25T10:00:00+02:00"


def _due_at(value: object, now: datetime) -> datetime:
    if not isinstance(value, str):
        raise BadRequest(f"due_at must be {DUE_AT_FORMAT}")
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise BadRequest(f"due_at must be {DUE_AT_FORMAT}") from None
    if at.utcoffset() is None:
        raise BadRequest(f"due_at must be {DUE_AT_FORMAT}: the offset is missing")
    if not now < at <= now + MAX_RESCHEDULE:  # compared before converting: the extremes overflow
        raise BadRequest("due_at must be in the future, and within a year")
    return at.astimezone(now.tzinfo)


def _assignee(session, callback: Callback, value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest("assigned_staff_id must be a staff id, or null for anyone suitable")
    if not (0 < value <= MAX_ID and callback_queries.assignable(session, value, callback.language_code)):
        raise BadRequest(f"staff {value} is not an active consultant with a phone and the language "
                         f"{callback.language_code}")
    return value


def _callback_changed(session, callback_id: int, done: bool, action: str, now: datetime,
                      detail: str | None = None) -> None:
    """Journal a change schedule.* made (callback_actions.record_change); 409 if it refused it."""
    try:
        callback_actions.record_change(session, callback_id, done, action, _me().id, now, detail)
    except callback_actions.Refused as refused:
        raise Conflict(str(refused)) from None


@blueprint.patch("/callbacks/<int:callback_id>")
@auth.login_required
def change_callback(callback_id: int):
    """Supervisors: {"assigned_staff_id": id or null} gives it to one consultant (or to anyone
    suitable); {"due_at": "...+02:00"} moves it (to the office's next opening if closed then);
    both at once: moved, then given. {"state": "canceled"}, alone, cancels it. Everything is
    checked before anything changes; 409 if the callback is closed or being placed."""
    _require(permissions.CHANGE_CALLBACKS, "change callbacks")
    session = runtime.session()
    callback = session.get(Callback, _known_id(callback_id))
    if callback is None:
        raise NotFound(f"no callback {callback_id}")
    body = _json_body()
    if not isinstance(body, dict) or not body or not body.keys() <= CALLBACK_CHANGES:
        raise BadRequest('send a JSON object with "assigned_staff_id" and/or "due_at", '
                         'or with "state": "canceled"')
    now = utcnow()
    if "state" in body:
        if body["state"] != CallbackState.canceled.value or len(body) > 1:
            raise BadRequest('"state" can only be "canceled", and alone')
        _callback_changed(session, callback_id, schedule.cancel(session, callback_id, now), "canceled", now)
    else:
        due_at = _due_at(body["due_at"], now) if "due_at" in body else None
        assignee = _assignee(session, callback, body["assigned_staff_id"]) if "assigned_staff_id" in body \
            else _UNCHANGED
        session.expire_all()  # schedule.* read the callback afresh
        if due_at is not None:
            moved = schedule.reschedule(session, callback_id, due_at, now)
            _callback_changed(session, callback_id, moved, "rescheduled", now,
                              moved and session.get(Callback, callback_id).due_at.isoformat())
        if assignee is not _UNCHANGED:
            given = schedule.reassign(session, callback_id, assignee, now)
            _callback_changed(session, callback_id, given, "reassigned", now,
                              None if assignee is None else str(assignee))
    session.expire_all()
    return jsonify(_callback_detail_json(callback_queries.callback_detail(session, callback_id)))
