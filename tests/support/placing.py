"""Arranging and driving callbacks being placed: a booked callback, the consultant's and the
caller's legs that the service places through Twilio's REST API, driven through the signed webhooks."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from hotline.dev.twilio_stand_in import ApiRequest, FakeTwilioApi, Twilio
from hotline.models import Call, Callback, CallbackAttempt, utcnow
from tests.support.clock import set_clock  # noqa: F401 (the placing tests' clock)

CALLER = "+359888765432"  # a Bulgarian mobile: SMS-capable
def booked(db, *, language="ru", topic="health", office="sofia", number=CALLER, rang_minutes_ago=30,
           due_in_minutes=-1, state="scheduled", now: datetime | None = None) -> Callback:
    """A callback booked on a call that rang `rang_minutes_ago`, due `due_in_minutes` from now."""
    now = now or utcnow()
    call = Call(call_sid=f"CAorig{utcnow().timestamp():.6f}".replace(".", ""), caller_number=number,
                called_number="+35924916000", office_code=office, language_code=language, topic_code=topic,
                started_at=now - timedelta(minutes=rang_minutes_ago), stage="ended", outcome="callback")
    db.add(call)
    db.commit()
    due = now + timedelta(minutes=due_in_minutes)
    callback = Callback(call_id=call.id, number=number, language_code=language, topic_code=topic,
                        office_code=office, first_rang_at=call.started_at, window_start=due,
                        window_end=due + timedelta(hours=4), due_at=due, state=state)
    db.add(callback)
    db.commit()
    return callback


def reread(db, callback: Callback) -> Callback:
    db.expire_all()
    return db.get(Callback, callback.id)


def attempts_of(db, callback: Callback) -> list[tuple[int, int | None, str | None]]:
    db.expire_all()
    rows = db.scalars(select(CallbackAttempt).where(CallbackAttempt.callback_id == callback.id)
                      .order_by(CallbackAttempt.number))
    return [(row.number, row.staff_id, row.outcome) for row in rows]


@dataclass
class Leg:
    """A call the service placed through the REST API: Twilio requests its Url when it is
    answered and its StatusCallback when it ends."""

    twilio: Twilio
    request: ApiRequest
    last: ET.Element | None = None

    @property
    def to(self) -> str:
        return self.request.data["To"]

    def params(self, **extra: str) -> dict[str, str]:
        params = {"CallSid": self.request.sid, "AccountSid": self.twilio.account_sid,
                  "From": self.request.data["From"], "To": self.to, "CallStatus": "in-progress",
                  "Direction": "outbound-api", "ApiVersion": "2010-04-01"}
        params.update(extra)
        return params

    def answer(self, **extra: str) -> ET.Element:
        self.last = self.twilio.twiml(self.request.data["Url"], self.params(**extra))
        return self.last

    def press(self, digits: str | None) -> ET.Element:
        gather = self.last.find("Gather")
        assert gather is not None, "no <Gather> to press a key in"
        self.last = self.twilio.twiml(gather.attrib["action"],
                                      self.params(**({"Digits": digits} if digits else {})))
        return self.last

    def ends(self, status: str, duration: int = 0) -> None:
        code, body = self.twilio.request(self.request.data["StatusCallback"],
                                         self.params(CallStatus=status, CallDuration=str(duration)))
        assert code == 200 and ET.fromstring(body).tag == "Response", body


def placed(twilio: Twilio, api: FakeTwilioApi, to: str | None = None) -> list[Leg]:
    """Every call the service placed, oldest first (only those to `to`, if given)."""
    return [Leg(twilio, request) for request in api.created_calls() if to is None or request.data["To"] == to]


def texts_sent(api: FakeTwilioApi) -> list[dict[str, str]]:
    return [r.data for r in api.requests if r.method == "POST" and r.path.endswith("/Messages.json")]
