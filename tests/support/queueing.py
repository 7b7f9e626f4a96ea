"""Helpers for whole-call queue tests: Twilio's REST API stand-in, running the RQ jobs, callers
waiting in <Enqueue>, and consultants rung through the REST API, all driven through the signed
webhooks as Twilio would drive them."""
from __future__ import annotations

import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from hotline.dev.twilio_stand_in import ApiRequest, CallerLeg, FakeTwilioApi, Twilio
from hotline.jobs import rq_loop
from hotline.models import QueueEntry, utcnow
from tests.support.app import services_of
from tests.support.clock import set_clock
from tests.support.helpers import STATUS_URL, add_staff_with_token
from tests.support.journeys import route


def sweep_at(app, monkeypatch, minutes_on: float) -> None:
    """Run the periodic sweep (routing.jobs.sweep_job: offers, then silent calls) as if `minutes_on`
    minutes had passed; the clock is back where it was afterwards."""
    from routing import jobs

    moment = utcnow() + timedelta(minutes=minutes_on)
    with monkeypatch.context() as patched:
        set_clock(patched, moment)
        with app.app_context():
            jobs.sweep_job()


def run_jobs(app) -> None:
    """Run every queued RQ job (the pairing jobs) as a worker would, until none is left: one burst
    of the hotline's own worker loop (hotline.jobs.rq_loop), as `hotline run` runs them. RQ's plain
    SimpleWorker listens for commands on a thread that a stop waits for, up to 60 s on a real
    Redis: a test with a time limit (a maximum wait of 60 s) then failed by the hour it ran at."""
    hotline = services_of(app)
    with app.app_context():
        away = rq_loop.work_round(hotline.redis, threading.Event(), None, burst=True)
    assert away is None, away


def enqueued(call: CallerLeg) -> ET.Element:
    found = call.last.find("Enqueue") if call.last is not None else None
    if found is None:
        raise AssertionError("the caller was not queued: no <Enqueue> in the last TwiML")
    return found


def wait_turn(call: CallerLeg, enqueue: ET.Element) -> ET.Element:
    """Twilio requests the wait URL (again): what the caller hears on this turn of the wait."""
    return call.follow(enqueue.attrib["waitUrl"], QueueSid="QU" + "1" * 32, QueuePosition="1", QueueTime="30",
                       AvgQueueTime="30", CurrentQueueSize="1")


def leaves_queue(call: CallerLeg, enqueue: ET.Element, result: str) -> ET.Element:
    """Twilio requests the <Enqueue> action with its QueueResult."""
    return call.follow(enqueue.attrib["action"], QueueResult=result, QueueSid="QU" + "1" * 32, QueueTime="30")


def entry_of(db, call: CallerLeg) -> QueueEntry | None:
    db.expire_all()
    return db.scalar(select(QueueEntry).where(QueueEntry.call_sid == call.call_sid))


@dataclass
class RungConsultant:
    """A consultant's phone rung through the REST API (Calls.json): Twilio requests its Url when
    they pick up, and its StatusCallback when the leg ends."""

    twilio: Twilio
    request: ApiRequest
    last: ET.Element | None = None

    @property
    def phone(self) -> str:
        return self.request.data["To"]

    @property
    def staff_id(self) -> int:
        return int(parse_qs(urlsplit(self.request.data["Url"]).query)["staff"][0])

    def params(self, **extra: str) -> dict[str, str]:
        params = {"CallSid": self.request.sid, "AccountSid": self.twilio.account_sid,
                  "From": self.request.data["From"], "To": self.phone, "CallStatus": "in-progress",
                  "Direction": "outbound-api", "ApiVersion": "2010-04-01"}
        params.update(extra)
        return params

    def answer(self) -> ET.Element:
        self.last = self.twilio.twiml(self.request.data["Url"], self.params())
        return self.last

    def press(self, digits: str | None) -> ET.Element:
        gather = self.last.find("Gather")
        assert gather is not None, "the whisper has no <Gather>"
        self.last = self.twilio.twiml(gather.attrib["action"],
                                      self.params(**({"Digits": digits} if digits else {})))
        return self.last

    def ends(self, status: str) -> None:
        """The leg's final status callback (no-answer, busy, failed, canceled, completed)."""
        code, body = self.twilio.request(self.request.data["StatusCallback"], self.params(CallStatus=status))
        assert code == 200 and ET.fromstring(body).tag == "Response"


def rung(twilio: Twilio, api: FakeTwilioApi) -> list[RungConsultant]:
    """Every consultant's phone the service has rung through the REST API, oldest first."""
    return [RungConsultant(twilio, request) for request in api.created_calls()]


def redirect_of(api: FakeTwilioApi, call: CallerLeg) -> str | None:
    """The URL the service redirected the caller's call to through the REST API (the bridge)."""
    updates = [data for data in api.updates_of(call.call_sid) if "Url" in data]
    return updates[-1]["Url"] if updates else None


@contextmanager
def recorded_webhooks(twilio: Twilio) -> Iterator[list[tuple[str, dict[str, str]]]]:
    """Within the block, every webhook request Twilio makes is kept as (url, params), in order."""
    sent: list[tuple[str, dict[str, str]]] = []
    transport = twilio.transport

    def recording(url, params, headers):
        sent.append((url, dict(params)))
        return transport(url, params, headers)

    twilio.transport = recording
    try:
        yield sent
    finally:
        twilio.transport = transport


@dataclass
class WholeQueuedCall:
    caller: CallerLeg
    consultant: RungConsultant
    accepted: ET.Element  # what the consultant's key press was answered with
    staff_id: int


def whole_queued_call(app, twilio: Twilio, api: FakeTwilioApi, consultant_id: int) -> WholeQueuedCall:
    """A caller queues for English x health while consultant `consultant_id` is busy, waits a turn;
    the consultant becomes available (the API, as a supervisor), is rung, accepts; the caller is
    redirected into the conference, they talk, and both hang up (the final status callbacks)."""
    call = route(twilio, "en", "health")
    enqueue = enqueued(call)
    wait_turn(call, enqueue)
    with services_of(app).db.session() as db:
        _, token = add_staff_with_token(app, db, "Supervisor")
    app.test_client().put(f"/api/consultants/{consultant_id}/status", json={"status": "available"},
                          headers={"Authorization": f"Bearer {token}"})
    run_jobs(app)
    [leg] = rung(twilio, api)
    leg.answer()
    accepted = leg.press("1")
    call.follow(enqueue.attrib["action"], QueueResult="redirected")
    bridge = call.follow(redirect_of(api, call))
    call.follow(bridge.find("Dial").attrib["action"], DialCallStatus="completed", DialCallDuration="60")
    leg.ends("completed")
    status, _ = call.hang_up(STATUS_URL)
    assert status == 200
    return WholeQueuedCall(call, leg, accepted, consultant_id)
