"""Whole calls through the signed webhooks: menus, routing, whisper, accept, close."""
from __future__ import annotations

from sqlalchemy import select

from hotline import accounts
from hotline.dev.twilio_stand_in import ConsultantLeg
from hotline.models import Call, ConsultationRecord, Staff
from tests.support.helpers import STATUS_URL, add_consultant, new_call, says, to_topic_menu
from tests.support.journeys import journal


def test_first_complete_call(app, db, twilio):
    consultant = add_consultant(app, db, "Maria", languages=["en", "bg"], topics=["health"])
    call = new_call(twilio, caller="0888 123 456")

    greeting = call.ring()
    gather = greeting.find("Gather")
    assert gather.attrib["input"] == "dtmf speech"
    options = [say.text for say in gather.findall("Say")]
    assert "За български език натиснете 1." in options and "For English, press 2." in options
    assert len(gather) == 7  # Farsi's option a <Play>

    topics = call.press("2")
    assert "For health, press 3." in says(topics)

    routed = call.press("3")
    assert call.dialled_number() == consultant.phone
    assert routed.find("Dial").attrib["timeout"] == "20"

    leg = ConsultantLeg.from_dial(call)
    whisper = leg.answer()
    assert "Език: английски. Тема: здраве." in says(whisper)  # consultants hear Bulgarian by default
    assert leg.press("1").find("Hangup") is None  # empty response: bridged

    db.expire_all()
    assert db.get(Staff, consultant.id).status == "busy"

    after = call.dial_ends("completed", duration=300, bridged=True)
    assert after.find("Hangup") is not None
    status, body = call.hang_up(STATUS_URL, duration=330)
    assert status == 200 and "<Response" in body

    record = db.scalar(select(ConsultationRecord))
    assert (record.language_code, record.topic_code, record.consultant_id, record.outcome) == \
        ("en", "health", consultant.id, "answered")
    stored = db.scalar(select(Call))
    assert stored.caller_number == "+359888123456"
    assert stored.duration_seconds == 330
    db.expire_all()
    assert db.get(Staff, consultant.id).status == "wrap_up"


def test_status_callback_retried_makes_one_record(app, db, twilio):
    add_consultant(app, db, "Ivan", languages=["en"], topics=["health"])
    call = to_topic_menu(twilio)
    call.press("3")
    ConsultantLeg.from_dial(call).answer()
    for _ in range(3):
        assert call.hang_up(STATUS_URL)[0] == 200
    assert len(db.scalars(select(ConsultationRecord)).all()) == 1


def test_unsigned_and_forged_requests_are_refused(client, twilio):
    assert client.post("/ivr/voice", data={"CallSid": "CA1"}).status_code == 403
    forged = client.post("/ivr/voice", data={"CallSid": "CA1"}, headers={"X-Twilio-Signature": "bm90LWl0"})
    assert forged.status_code == 403
    call = new_call(twilio)
    status, _ = twilio.request(call.voice_url, call.base_params(), signed=True)
    assert status == 200


def test_retried_topic_webhook_rings_the_same_consultant(app, db, twilio):
    first = add_consultant(app, db, "Elena", languages=["en"], topics=["health"], idle_minutes=10)
    add_consultant(app, db, "Georgi", languages=["en"], topics=["health"], idle_minutes=5)
    call = to_topic_menu(twilio)
    gather_action = call.gather().attrib["action"]
    call.press("3")
    assert call.dialled_number() == first.phone
    retried = twilio.twiml(gather_action, call.base_params(Digits="3"))  # Twilio retries the request
    assert retried.find("Dial/Number").text == first.phone
    offered = db.scalars(select(Staff).where(Staff.status == "offered")).all()
    assert [s.id for s in offered] == [first.id]


def test_a_consultant_deactivated_while_their_phone_rings_cannot_take_the_call(app, db, twilio,
                                                                                  app_context):
    """Deactivating someone means routing offers them no call: one already ringing for a caller
    when an admin deactivates them cannot be accepted either (the key is refused like a late one,
    and the caller goes on to whoever is next)."""
    maria = add_consultant(app, db, "Maria", languages=["en"], topics=["health"])
    call = new_call(twilio)
    call.ring()
    call.press("2")
    call.press("3")
    assert call.dialled_number() == maria.phone
    assert accounts.deactivate(db, db.get(Staff, maria.id))

    leg = ConsultantLeg.from_dial(call)
    leg.answer()
    assert leg.press("1").find("Hangup") is not None  # not put through

    db.expire_all()
    assert db.get(Staff, maria.id).status != "busy"
    assert ("accepted", None, maria.id) not in journal(db, call)
