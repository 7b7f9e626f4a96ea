"""hotline.calls.change: a call's columns set by a step, written when the session commits with the
step's journal events (one statement on PostgreSQL, an UPDATE and an INSERT on SQLite), never by
the ORM's flush; an attribute assigned the ORM's way afterwards still wins."""
from __future__ import annotations

from sqlalchemy import select

from hotline import calls
from hotline.models import Call, CallEvent, Staff


def _stored_call(db, sid: str = "CA" + "5" * 32) -> Call:
    call = Call(call_sid=sid, office_code="sofia")
    db.add(call)
    db.commit()
    return call


def _row(db, call: Call) -> tuple:
    table = Call.__table__
    return db.execute(select(table.c.stage, table.c.language_code, table.c.outcome)
                      .where(table.c.id == call.id)).one()


def _kinds(db, call: Call) -> list[str]:
    return list(db.scalars(select(CallEvent.kind).where(CallEvent.call_id == call.id).order_by(CallEvent.id)))


def test_a_change_and_its_events_are_written_at_commit(app, db):
    call = _stored_call(db)
    calls.change(db, call, stage="topic_menu", language_code="en")
    calls.journal(db, call, "language", "en")
    assert (call.stage, call.language_code) == ("topic_menu", "en")  # read at once
    assert calls.has_changes(db) and not db.dirty  # the ORM does not see the call changed
    db.commit()
    assert tuple(_row(db, call)) == ("topic_menu", "en", None)
    assert _kinds(db, call) == ["language"]


def test_a_change_without_events_is_written_too(app, db):
    call = _stored_call(db)
    calls.change(db, call, stage="routing")
    db.commit()
    assert _row(db, call).stage == "routing"


def test_an_attribute_assigned_after_a_change_wins(app, db):
    """A step that changes the stage, then hands over to code that assigns it (ivr.flow.closed)."""
    call = _stored_call(db)
    calls.change(db, call, stage="topic_menu", language_code="en")
    call.stage = "closed"
    call.outcome = "closed"
    calls.journal(db, call, "closed")
    db.commit()
    assert tuple(_row(db, call)) == ("closed", "en", "closed")


def test_a_value_equal_to_the_one_held_is_not_a_change(app, db):
    call = _stored_call(db)
    calls.change(db, call, stage=call.stage)
    assert not calls.has_changes(db)


def test_a_rolled_back_change_is_dropped_and_the_call_reads_what_is_stored(app, db):
    call = _stored_call(db)
    stored = call.stage
    calls.change(db, call, stage="routing")
    calls.journal(db, call, "topic", "health")
    db.rollback()
    assert not calls.has_changes(db)
    assert call.stage == stored
    db.commit()
    assert _row(db, call).stage == stored and _kinds(db, call) == []


def test_an_attribute_assigned_after_a_change_wins_even_if_flushed_before_the_commit(app, db):
    """A query between the assignment and the commit autoflushes the assigned value; the commit
    must not then write the changed one over it (found in review)."""
    call = _stored_call(db)
    calls.change(db, call, stage="topic_menu")
    call.stage = "closed"
    db.scalar(select(Staff.id).limit(1))  # autoflush
    calls.journal(db, call, "closed")
    db.commit()
    assert _row(db, call).stage == "closed"
