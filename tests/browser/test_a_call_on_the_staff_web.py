"""A whole call seen on the staff web, in a real browser: a supervisor's board shows a signed call
entering the queue without a reload; a consultant goes available on the desk and is rung (the REST
stand-in sees it); the call is put through, ends, and the consultant's write-up on the desk lands
in the consultation record."""
from __future__ import annotations

import re

from sqlalchemy import select

from hotline.dev.twilio_stand_in import CallerLeg, Twilio, http_transport
from hotline.models import Call, ConsultationRecord
from tests.browser.site import add_person, log_in, path_of
from tests.conftest import AUTH_TOKEN
from tests.support.journeys import LANGUAGE_KEYS, TOPIC_KEYS
from tests.support.queueing import RungConsultant, run_jobs


def test_a_queued_call_reaches_the_board_the_desk_and_the_record(app, db, context, base_url, twilio_api):
    add_person(app, db, "Svetla", "supervisor")
    maria = add_person(app, db, "Maria", "consultant", languages=("en",))
    maria.status = "break"  # on duty, so English is offered, but not free: the caller will wait
    db.commit()
    board = context.new_page()
    log_in(board, "Svetla")
    assert path_of(board) == "/board"
    board.get_by_text("0 waiting").first.wait_for()

    # A caller rings, chooses English and health, and waits: Maria is on a break.
    twilio = Twilio(http_transport(), AUTH_TOKEN)
    caller = CallerLeg(twilio, f"{base_url}/ivr/voice")
    caller.ring()
    caller.press(LANGUAGE_KEYS["en"])
    queued = caller.press(TOPIC_KEYS["health"])
    enqueue = queued.find("Enqueue")
    assert enqueue is not None
    board.get_by_text(re.compile(r"^1 waiting")).first.wait_for(timeout=5_000)  # no reload

    # Maria logs in on her own browser and goes available: she is rung for the caller.
    desk = context.browser.new_context(base_url=base_url, locale="en-GB").new_page()
    log_in(desk, "Maria")
    assert path_of(desk) == "/desk"
    desk.get_by_role("button", name="Available").click()
    desk.wait_for_load_state()
    run_jobs(app)
    [rung] = [request for request in twilio_api.created_calls() if request.data["To"] == maria.phone]
    board.get_by_text(re.compile(r"1 being rung")).first.wait_for(timeout=5_000)

    # She accepts on the phone; the caller is redirected into the conference; they talk; both hang up.
    leg = RungConsultant(twilio, rung)
    leg.answer()
    assert leg.press("1").find("Dial/Conference") is not None
    redirect = [u["Url"] for u in twilio_api.updates_of(caller.call_sid) if "Url" in u][-1]
    caller.follow(enqueue.attrib["action"], QueueResult="redirected")
    bridge = caller.follow(redirect)
    caller.follow(bridge.find("Dial").attrib["action"], DialCallStatus="completed", DialCallDuration="300")
    leg.ends("completed")
    caller.hang_up(f"{base_url}/ivr/status", duration=320)

    # The desk asks for the write-up; Maria writes it and saves.
    desk.goto("/desk")
    desk.get_by_label("Outcome").select_option("advice_given")
    desk.get_by_label("Notes").fill("Asked about renewing a residence permit; explained the documents.")
    desk.get_by_role("button", name="Save the write-up").click()
    desk.wait_for_load_state()

    db.expire_all()
    call = db.scalar(select(Call).where(Call.call_sid == caller.call_sid))
    record = db.scalar(select(ConsultationRecord).where(ConsultationRecord.call_id == call.id))
    assert (record.outcome, record.consultant_id) == ("answered", maria.id)
    assert record.disposition == "advice_given"
    assert record.notes.startswith("Asked about renewing") and record.completed_at is not None
    board.get_by_text(re.compile(r"^0 waiting")).first.wait_for(timeout=5_000)
