"""bench/board_load.py seeds the day the IVR makes, and times webhooks from when they were due
(issue 17, item 6)."""
from __future__ import annotations

import random
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from bench import board_load
from hotline.models import utcnow
from tests.support.helpers import add_consultant, new_call
from tests.support.journeys import answer_and_press, hang_up, journal, route
from tests.support.queueing import enqueued, whole_queued_call


def _real_journal(app, db, twilio, twilio_api, outcome: str):
    """A call of `outcome` made through the signed webhooks: its journal as (kind, detail, consultant)."""
    if outcome == "answered":
        add_consultant(app, db, "Free", languages=["en"], topics=["health"])
        call = route(twilio, "en", "health")
        answer_and_press(call, "1")
        call.dial_ends("completed", 60, bridged=True)
        hang_up(call)
    elif outcome == "answered_from_queue":
        busy = add_consultant(app, db, "Busy", languages=["en"], topics=["health"], status="busy")
        call = whole_queued_call(app, twilio, twilio_api, busy.id).caller
    elif outcome in ("abandoned_in_language_menu", "abandoned_in_topic_menu"):
        call = new_call(twilio)
        call.ring()
        if outcome == "abandoned_in_topic_menu":
            call.press("2")
        hang_up(call)
    else:  # queued, then still waiting or gone
        call = route(twilio, "en", "health")
        enqueued(call)
        if outcome == "abandoned_in_queue":
            hang_up(call)
    return journal(db, call)


@pytest.mark.parametrize("outcome", list(board_load.OUTCOMES))
def test_each_call_of_the_day_has_the_journal_the_ivr_writes_for_it(app, db, twilio, twilio_api,
                                                                    languages_on_duty, outcome):
    """The bench seeded kinds the IVR never writes (reached_topic_menu, chose_topic), which made the
    board's funnel cheaper than on a real day."""
    real = _real_journal(app, db, twilio, twilio_api, outcome)
    consultant = next((staff for _, _, staff in real if staff is not None), None)
    started = utcnow()
    call = {**board_load._seed_call(1, started, "en", "health", random.Random(1), consultant or 1),
            "_outcome": outcome}
    call.update(consultant_id=consultant, answered_at=started + timedelta(seconds=30) if consultant else None,
                _waiting=outcome == "waiting")
    seeded = [(row["kind"], row["detail"], row["consultant_id"]) for row in board_load._seed_events(7, call)]
    # (the seconds a caller waited, the `bridged` event's detail, depend on the clock)
    assert [(kind, None if kind == "bridged" else detail, staff) for kind, detail, staff in seeded] == \
        [(kind, None if kind == "bridged" else detail, staff) for kind, detail, staff in real]


class _OneAtATime(BaseHTTPRequestHandler):
    """Answers each POST after 0.1 s, one request at a time."""

    protocol_version = "HTTP/1.1"

    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers["Content-Length"]))
        time.sleep(0.1)
        body = b"<Response/>"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_webhooks_are_timed_from_when_they_were_due_not_from_when_they_were_sent(monkeypatch):
    """One sender, requests due every 20 ms, answers taking 100 ms: the fifth request goes out
    about 320 ms late, and that wait is part of its latency (open loop: no coordinated omission)."""
    monkeypatch.setattr(board_load, "SENDERS", 1)
    server = HTTPServer(("127.0.0.1", 0), _OneAtATime)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        requests = [("/ivr/voice", b"a=1", {"Content-Type": "application/x-www-form-urlencoded"})] * 5
        result = board_load.send_paced(server.server_address[1], requests, rate=50,
                                       marker="technical problem")
    finally:
        server.shutdown()
        server.server_close()
    assert result["bad"] == 0 and len(result["latencies"]) == 5
    assert result["latencies"][-1] >= 0.45  # 5 x 100 ms of answers, less the 80 ms it was due after the first
