"""The stack's floor for bench/ivr_throughput.py: what one webhook costs on Flask, Twilio's
RequestValidator, SQLAlchemy Core and the database driver when it does nothing but issue 11's
"one round trip's worth" of work, so the IVR's cost can be split into the stack's and its own.

Every POST is checked as Twilio's (RequestValidator over PUBLIC_BASE_URL + path, 403 if not), then,
in one transaction on DATABASE_URL (the same migrated schema as the IVR's):
  1. read the call by CallSid (one SELECT of the calls row, Core, bound parameters);
  2. write what changed: INSERT the call if it is new, else UPDATE its twilio_status;
  3. append one journal event (INSERT into call_events);
then COMMIT, and answer fixed TwiML the size of the bare app's. No ORM, no catalogue, no routing,
no Redis: the least any IVR step that keeps a call's record can do here. Served by gunicorn with
exactly the IVR's settings. Not the hotline: it routes nobody and its answers are meaningless.
"""
from __future__ import annotations

import os

from flask import Flask, Response, abort, request
from sqlalchemy import bindparam, insert, select, update
from twilio.request_validator import RequestValidator

from bench.bare_app import TWIML
from hotline.db import make_engine
from hotline.models import Call, CallEvent, utcnow

app = Flask("floor")
_engine = make_engine(os.environ["DATABASE_URL"])  # the hotline's own: pool, pre-ping, SQLite's pragmas
_validator = RequestValidator(os.environ["TWILIO_AUTH_TOKEN"])
_base = os.environ["PUBLIC_BASE_URL"]
_calls, _events = Call.__table__, CallEvent.__table__
_READ = select(_calls.c.id, _calls.c.twilio_status).where(_calls.c.call_sid == bindparam("sid"))
_INSERT = insert(_calls).returning(_calls.c.id)
_UPDATE = update(_calls).where(_calls.c.id == bindparam("cid")).values(twilio_status=bindparam("status"))
_JOURNAL = insert(_events)


@app.post("/", defaults={"path": ""})
@app.post("/<path:path>")
def webhook(path: str) -> Response:
    query = request.query_string.decode()
    url = _base + request.path + (f"?{query}" if query else "")
    if not _validator.validate(url, request.form, request.headers.get("X-Twilio-Signature", "")):
        abort(403)
    form = request.form
    with _engine.connect() as conn:
        row = conn.execute(_READ, {"sid": form["CallSid"]}).first()
        if row is None:
            call_id = conn.execute(_INSERT, {
                "call_sid": form["CallSid"], "direction": "inbound", "caller_number": form.get("From"),
                "caller_key": "floor", "called_number": form.get("To"), "office_code": "sofia",
                "twilio_status": form.get("CallStatus"), "stage": "greeting", "started_at": utcnow(),
            }).scalar_one()
        else:
            call_id = row.id
            conn.execute(_UPDATE, {"cid": call_id, "status": form.get("CallStatus")})
        conn.execute(_JOURNAL, [{"call_id": call_id, "kind": path[:40] or "step", "detail": None,
                                 "consultant_id": None, "at": utcnow()}])
        conn.commit()
    return Response(TWIML, mimetype="text/xml")
