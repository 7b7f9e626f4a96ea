"""Every Twilio-facing route, requested (signed) for a call in each stage of its journey, as a
retried, late or out-of-order webhook would: Twilio always gets 200 and valid TwiML, the caller
never hears the technical-problem apology, and nothing is logged as an error. What the flow did not
expect (no language or topic yet) is asked for, or a default is taken."""
from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from hotline.models import Call, QueueEntry, QueueState
from tests.conftest import PUBLIC_BASE_URL
from tests.support.helpers import add_consultant, new_call
from tests.support.journeys import LANGUAGE_KEYS, hang_up, prompt, route, stored_call, texts

STAGES = ["new", "language_chosen", "topic_chosen", "queued", "ended"]
# What one Twilio request or another carries besides the call's own parameters.
VARIANTS = [{},
            {"Digits": "1", "QueueResult": "leave", "DialCallStatus": "no-answer", "AnsweredBy": "human"},
            {"Digits": "9", "QueueResult": "hangup", "DialCallStatus": "completed",
             "CallStatus": "completed"}]


def _twilio_routes(app) -> list[str]:
    return sorted({rule.rule for rule in app.url_map.iter_rules()
                   if rule.rule.startswith(("/ivr/", "/callbacks/")) and "<" not in rule.rule})


def _call_in(twilio, stage: str):
    """A call that has reached `stage` (topic_chosen: a consultant's phone is ringing for it)."""
    if stage == "new":
        call = new_call(twilio)
        call.ring()
        return call
    if stage == "language_chosen":
        call = new_call(twilio)
        call.ring()
        call.press(LANGUAGE_KEYS["en"])
        return call
    call = route(twilio, "en", "health" if stage != "queued" else "education")
    if stage == "ended":
        hang_up(call)
    return call


@pytest.mark.parametrize("stage", STAGES)
def test_every_webhook_answers_a_call_in_every_stage(app, db, twilio, caplog, stage):
    consultant = add_consultant(app, db, "Fuzz", languages=["en"], topics=["health"])
    apology = prompt(app, "en", "technical_problem")
    faults = []
    for path in _twilio_routes(app):
        for variant in VARIANTS:
            call = _call_in(twilio, stage)
            query = urlencode({"attempt": 0, "call": call.call_sid, "staff": consultant.id, "entry": 1})
            params = call.base_params(ParentCallSid=call.call_sid, **variant)
            status, body = twilio.request(f"{PUBLIC_BASE_URL}{path}?{query}", params)
            problem = _problem(status, body, apology)
            if problem is None and stage == "ended":
                problem = _rings_for_nobody(db, call, body)
            if problem:
                faults.append(f"{path} {variant}: {problem}")
            errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
            if errors:
                faults.append(f"{path} {variant}: logged {errors}")
            caplog.clear()
    assert not faults, "\n".join(faults)


def _rings_for_nobody(db, call, body: str) -> str | None:
    """A call that has ended is never dialled through or queued again: nobody is on the line."""
    verbs = {element.tag for element in ET.fromstring(body).iter()}
    if verbs & {"Dial", "Enqueue"}:
        return f"an ended call put through or queued: {body[:200]}"
    entry = stored_call(db, call) and db.scalar(select(QueueEntry).join(Call, QueueEntry.call_id == Call.id)
                                                .where(Call.call_sid == call.call_sid))
    if entry is not None and entry.state in (QueueState.waiting.value, QueueState.offered.value):
        return "an ended call waits in the queue"
    return None


def _problem(status: int, body: str, apology: str) -> str | None:
    if status != 200:
        return f"answered {status}"
    if not body.strip():
        return "an empty body"
    try:
        root = ET.fromstring(body)
    except ET.ParseError as error:
        return f"not XML: {error}"
    if root.tag != "Response":
        return f"no <Response>: {body[:200]}"
    if apology in texts(root):
        return "the apology"
    return None
