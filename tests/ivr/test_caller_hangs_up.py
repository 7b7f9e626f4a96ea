"""The caller hangs up before a consultant took the call: the consultant is free again at once,
the call is abandoned, and a whisper answered or accepted too late changes nothing."""
from __future__ import annotations

from hotline.dev.twilio_stand_in import ConsultantLeg
from tests.support.helpers import add_consultant, new_call
from tests.support.journeys import (
    dialled,
    hang_up,
    journal,
    offered_to,
    prompt,
    record_of,
    route,
    status_of,
    stored_call,
    texts,
    verbs,
)


def _ringing(app, db, twilio):
    consultant = add_consultant(app, db, "Nadia")
    call = route(twilio)
    assert dialled(call) == consultant.phone and status_of(db, consultant)[0] == "offered"
    return consultant, call


def _expect_abandoned(db, call, consultant) -> None:
    assert status_of(db, consultant) == ("available", None)
    stored = stored_call(db, call)
    assert (stored.outcome, stored.stage, stored.consultant_id, stored.answered_at) == \
        ("abandoned", "ended", None, None)
    record = record_of(db, call)
    assert (record.outcome, record.consultant_id) == ("abandoned", None)


def test_hanging_up_while_the_consultant_rings_frees_the_consultant(app, db, twilio):
    consultant, call = _ringing(app, db, twilio)
    hang_up(call, duration=40)
    _expect_abandoned(db, call, consultant)
    assert journal(db, call)[-1] == ("ended", "abandoned", None)


def test_a_whisper_accepted_after_the_caller_left_does_not_make_the_consultant_busy(app, db, twilio):
    consultant, call = _ringing(app, db, twilio)
    leg = ConsultantLeg.from_dial(call)
    leg.answer()  # the consultant hears the whisper...
    hang_up(call)  # ...while the caller gives up
    late = leg.press("1")
    assert verbs(late)[-1] == "Hangup"
    assert texts(late) == [prompt(app, "en", "caller_gone")]  # told why, in their language
    _expect_abandoned(db, call, consultant)
    assert "accepted" not in [kind for kind, _, _ in journal(db, call)]


def test_a_whisper_requested_after_the_caller_left_just_hangs_up(app, db, twilio):
    consultant, call = _ringing(app, db, twilio)
    hang_up(call)
    whisper = ConsultantLeg.from_dial(call).answer()
    assert verbs(whisper) == ["Hangup"]
    _expect_abandoned(db, call, consultant)


def test_the_freed_consultant_takes_the_next_call(app, db, twilio):
    consultant, call = _ringing(app, db, twilio)
    hang_up(call)
    assert dialled(route(twilio)) == consultant.phone


def test_hanging_up_in_the_menu_is_abandoned_without_a_consultant(app, db, twilio):
    call = new_call(twilio)
    call.ring()
    hang_up(call, duration=4)
    record = record_of(db, call)
    assert (record.outcome, record.language_code, record.topic_code, record.duration_seconds) == \
        ("abandoned", None, None, 4)


def test_hanging_up_after_talking_is_answered_and_the_consultant_wraps_up(app, db, twilio):
    consultant, call = _ringing(app, db, twilio)
    leg = ConsultantLeg.from_dial(call)
    leg.answer()
    leg.press("1")
    hang_up(call, duration=300)  # the caller hangs up mid-conversation: no Dial action follows
    assert status_of(db, consultant) == ("wrap_up", None)
    assert record_of(db, call).outcome == "answered"


def test_a_dial_result_arriving_after_the_caller_left_rings_nobody_else(app, db, twilio):
    consultant, call = _ringing(app, db, twilio)
    other = add_consultant(app, db, "Spare")
    hang_up(call)  # Twilio does not promise the order of the status callback and the Dial action
    late = call.dial_ends("canceled")
    assert late.find("Dial") is None and late.find("Hangup") is not None
    assert status_of(db, other) == ("available", None)
    assert offered_to(db, call) == [consultant.id]
    _expect_abandoned(db, call, consultant)
