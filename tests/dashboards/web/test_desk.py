"""The consultant's desk through the web client: status in one click (and the pairing it starts),
the call ringing me with the caller's earlier records, the wrap-up that completes the record and
ends wrap-up, records of consultations in person, and who may see or write up which record."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from hotline.catalogue import Catalogue, CatalogueError, load_raw
from hotline.models import Call, ConsultationRecord, Staff, utcnow
from hotline.phone_numbers import caller_key
from tests.conftest import services_of
from tests.dashboards.web.conftest import add_person, csrf_token, log_in
from tests.support.journeys import hang_up, record_of, route, status_of
from tests.support.queueing import enqueued, redirect_of, run_jobs, rung

CALLER = "+359888123456"  # tests.support.journeys' callers ring from this number
SHOWN_CALLER = "888123456"


@pytest.fixture(autouse=True)
def _callbacks_not_offered(app, languages_on_duty):
    """Calls reach the topic menu (every language staffed) and queue without a callback offer."""
    from ivr import way_out

    way_out.unregister(app, "callback")


def _page(web, path: str = "/desk") -> str:
    response = web.get(path)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def _set_status(web, status: str):
    return web.post("/desk/status", data={"status": status, "csrf_token": csrf_token(_page(web))},
                    follow_redirects=True)


def _record(db, staff_id: int | None, language: str = "en", call: Call | None = None,
            **fields) -> ConsultationRecord:
    record = ConsultationRecord(call_id=call.id if call else None, language_code=language,
                                topic_code="health", office_code="sofia", consultant_id=staff_id,
                                outcome="answered",
                                started_at=fields.pop("started_at", utcnow()), **fields)
    db.add(record)
    db.commit()
    return record


def _earlier_call(app, db, started_ago: timedelta, number: str = CALLER) -> Call:
    """A past call from `number` (with its caller key, as hotline.calls stores it)."""
    call = Call(call_sid=f"CA{started_ago.total_seconds():032.0f}", caller_number=number,
                office_code="burgas",
                caller_key=caller_key(number, services_of(app).settings.secret_key),
                started_at=utcnow() - started_ago, language_code="en", topic_code="health")
    db.add(call)
    db.commit()
    return call


def test_my_status_changes_in_one_click_and_going_available_rings_me_for_a_waiting_caller(
        app, db, web, twilio, twilio_api):
    me = add_person(app, db, "Maria", "consultant")
    log_in(web, "Maria")
    page = _set_status(web, "break").get_data(as_text=True)
    assert "You are now: On a break." in page and status_of(db, me) == ("break", None)

    caller = route(twilio, "en", "health")
    enqueued(caller)
    run_jobs(app)
    assert rung(twilio, twilio_api) == []  # on a break: not rung

    _set_status(web, "available")
    run_jobs(app)
    [leg] = rung(twilio, twilio_api)
    assert leg.staff_id == me.id and status_of(db, me) == ("offered", caller.call_sid)
    live = _page(web, "/desk/live")
    assert "Ringing you" in live and "<dt>Language</dt><dd>en</dd>" in live


def test_a_status_lost_to_a_call_meanwhile_is_said_plainly(app, db, web, monkeypatch):
    add_person(app, db, "Maria", "consultant")
    log_in(web, "Maria")
    monkeypatch.setattr("routing.set_status", lambda session, staff, status: False)
    page = _set_status(web, "available").get_data(as_text=True)
    assert "Your status changed meanwhile" in page


def test_an_unknown_status_is_refused_and_a_form_without_its_token_too(app, db, web):
    add_person(app, db, "Maria", "consultant")
    log_in(web, "Maria")
    token = csrf_token(_page(web))
    assert web.post("/desk/status", data={"status": "busy", "csrf_token": token}).status_code == 400
    assert web.post("/desk/status", data={"status": "available"}).status_code == 400


def test_the_call_ringing_me_shows_the_callers_earlier_records_newest_first_and_never_their_number(
        app, db, web, twilio, twilio_api):
    me = add_person(app, db, "Maria", "consultant")
    other = add_person(app, db, "Ivan", "consultant", languages=("en", "ar"))
    older = _record(db, other.id, call=_earlier_call(app, db, timedelta(days=30)), notes="asked about a visa",
                    started_at=utcnow() - timedelta(days=30))
    newer = _record(db, other.id, call=_earlier_call(app, db, timedelta(days=2)), notes="renewal in March",
                    started_at=utcnow() - timedelta(days=2))
    # Another caller's record, and one of this caller in a language Maria lacks: not shown.
    _record(db, other.id, call=_earlier_call(app, db, timedelta(days=1), "+359888999999"),
            notes="someone else")
    _record(db, other.id, language="ar", call=_earlier_call(app, db, timedelta(days=3)), notes="in Arabic")
    log_in(web, "Maria")
    caller = route(twilio, "en", "health")
    enqueued(caller)
    _set_status(web, "available")
    run_jobs(app)
    assert rung(twilio, twilio_api)[0].staff_id == me.id

    live = _page(web, "/desk/live")
    assert live.index("renewal in March") < live.index("asked about a visa")
    assert f"Record {newer.id}" in live and f"Record {older.id}" in live
    assert "someone else" not in live and "in Arabic" not in live
    assert SHOWN_CALLER not in live and SHOWN_CALLER not in _page(web)
    assert 'dir="auto"' in live


def test_a_supervisor_sees_the_callers_number_on_a_record_and_a_consultant_does_not(app, db, web):
    maria = add_person(app, db, "Maria", "consultant")
    add_person(app, db, "Sonia", "supervisor")
    record = _record(db, maria.id, call=_earlier_call(app, db, timedelta(hours=1)))
    log_in(web, "Maria")
    assert SHOWN_CALLER not in _page(web, f"/desk/records/{record.id}")
    web.post("/logout", data={"csrf_token": csrf_token(_page(web))})
    log_in(web, "Sonia")
    assert SHOWN_CALLER in _page(web, f"/desk/records/{record.id}")


def _talk_and_hang_up(app, db, web, twilio, twilio_api):
    """Maria goes available, takes the waiting caller, they talk and hang up: she is in wrap-up."""
    caller = route(twilio, "en", "health")
    enqueued(caller)
    _set_status(web, "available")
    run_jobs(app)
    [leg] = rung(twilio, twilio_api)
    leg.answer()
    leg.press("1")
    caller.follow(redirect_of(twilio_api, caller))
    caller.dial_ends("completed", duration=300)
    hang_up(caller, duration=400)
    return caller


def test_the_wrap_up_completes_the_record_and_ends_my_wrap_up(app, db, web, twilio, twilio_api):
    me = add_person(app, db, "Maria", "consultant")
    log_in(web, "Maria")
    caller = _talk_and_hang_up(app, db, web, twilio, twilio_api)
    assert status_of(db, me)[0] == "wrap_up"
    record = record_of(db, caller)
    page = _page(web)
    assert f'action="/desk/records/{record.id}/wrap-up"' in page
    assert 'class="countdown" data-until=' in page and '<textarea dir="auto"' in page

    response = web.post(f"/desk/records/{record.id}/wrap-up", follow_redirects=True, data={
        "csrf_token": csrf_token(page), "topic": "residence", "sub_topic": "permit_renewal",
        "disposition": "referred", "referral": "migration_directorate", "referral_other": "",
        "notes": "يحتاج إلى تجديد الإقامة", "nationality": "sy", "gender": "female", "urgent": "y"})
    assert "Your wrap-up is over: you are available." in response.get_data(as_text=True)
    db.expire_all()
    saved = db.get(ConsultationRecord, record.id)
    assert (saved.topic_code, saved.sub_topic, saved.disposition, saved.referral) == \
        ("residence", "permit_renewal", "referred", "migration_directorate")
    assert (saved.notes, saved.nationality, saved.gender, saved.urgent_followup) == \
        ("يحتاج إلى تجديد الإقامة", "SY", "female", True)
    assert saved.completed_at is not None
    assert status_of(db, me) == ("available", None)


def test_a_sub_topic_of_another_topic_is_refused(app, db, web):
    me = add_person(app, db, "Maria", "consultant")
    record = _record(db, me.id)
    log_in(web, "Maria")
    page = _page(web)
    response = web.post(f"/desk/records/{record.id}/wrap-up", data={
        "csrf_token": csrf_token(page), "topic": "health", "sub_topic": "permit_renewal",
        "disposition": "advice_given"})
    assert response.status_code == 400
    assert "Choose a sub-topic of the topic chosen." in response.get_data(as_text=True)
    db.expire_all()
    assert db.get(ConsultationRecord, record.id).completed_at is None


def test_a_consultation_in_person_is_recorded_like_a_call(app, db, web):
    me = add_person(app, db, "Maria", "consultant")
    log_in(web, "Maria")
    page = _page(web, "/desk/records/new")
    response = web.post("/desk/records/new", follow_redirects=True, data={
        "csrf_token": csrf_token(page), "channel": "in_person", "language": "en", "office": "burgas",
        "minutes": "25", "topic": "employment", "sub_topic": "work_permit", "disposition": "advice_given",
        "referral": "", "notes": "came with her employer's letter"})
    assert "Consultation recorded" in response.get_data(as_text=True)
    record = db.scalar(select(ConsultationRecord).where(ConsultationRecord.channel == "in_person"))
    assert (record.consultant_id, record.created_by_id, record.office_code, record.outcome) == \
        (me.id, me.id, "burgas", "answered")
    assert (record.duration_seconds, record.sub_topic, record.call_id) == (25 * 60, "work_permit", None)
    assert record.completed_at is not None


def test_another_consultants_record_is_refused_unless_in_my_languages_and_never_written_up(app, db, web):
    add_person(app, db, "Maria", "consultant")
    ivan = add_person(app, db, "Ivan", "consultant", languages=("ar", "en"))
    arabic = _record(db, ivan.id, language="ar", notes="private")
    english = _record(db, ivan.id, language="en", notes="shared language")
    log_in(web, "Maria")
    wrap_up = {"csrf_token": csrf_token(_page(web)), "topic": "health", "disposition": "advice_given"}
    assert web.get(f"/desk/records/{arabic.id}").status_code == 403
    assert web.post(f"/desk/records/{arabic.id}/wrap-up", data=wrap_up).status_code == 403
    seen = _page(web, f"/desk/records/{english.id}")
    assert f"Consultation record {english.id}" in seen and "/wrap-up" not in seen
    assert "shared language" not in seen  # its notes, as through the API: its consultant's and supervisors'

    assert web.post(f"/desk/records/{english.id}/wrap-up", data=wrap_up).status_code == 403
    assert web.get("/desk/records/999999").status_code == 404
    web.post("/logout", data={"csrf_token": csrf_token(_page(web))})
    add_person(app, db, "Sonia", "supervisor")
    log_in(web, "Sonia")
    assert "shared language" in _page(web, f"/desk/records/{english.id}")


def test_an_urgent_follow_up_is_listed_for_supervisors_only(app, db, web):
    maria = add_person(app, db, "Maria", "consultant")
    add_person(app, db, "Sonia", "supervisor")
    record = _record(db, maria.id, urgent_followup=True, disposition="follow_up_needed",
                     completed_at=utcnow())
    log_in(web, "Maria")
    assert "Urgent follow-ups" not in _page(web)
    web.post("/logout", data={"csrf_token": csrf_token(_page(web))})
    log_in(web, "Sonia")
    page = _page(web)
    assert "Urgent follow-ups" in page and f"/desk/records/{record.id}" in page


def test_my_callbacks_are_those_assigned_to_me_or_in_my_skills_soonest_first(app, db, web):
    from hotline.models import Callback

    me = add_person(app, db, "Maria", "consultant")
    now = utcnow()

    def callback(language: str, due_in: int, assigned: int | None = None,
                 state: str = "scheduled") -> Callback:
        call = _earlier_call(app, db, timedelta(minutes=100 + due_in + len(language)))
        row = Callback(call_id=call.id, number=CALLER, language_code=language, topic_code="health",
                       office_code="sofia", first_rang_at=now, window_start=now,
                       window_end=now + timedelta(hours=4),
                       due_at=now + timedelta(minutes=due_in), state=state, assigned_staff_id=assigned)
        db.add(row)
        db.commit()
        return row

    later, sooner = callback("en", 60), callback("ar", 30, assigned=me.id)
    callback("ar", 10)  # not my language
    callback("en", 5, state="completed")  # closed
    log_in(web, "Maria")
    page = _page(web)
    table = page[page.index("My callbacks to make"):]
    assert table.count("<tr><td>") == 2
    assert table.index(sooner.due_at.isoformat()) < table.index(later.due_at.isoformat())
    assert SHOWN_CALLER not in table


def test_the_wrap_up_lists_are_checked_when_the_configuration_loads():
    raw = load_raw()
    assert Catalogue(raw).wrap_up.label("referrals", "legal_aid") == "Free legal aid / lawyer"
    raw["wrap_up"]["sub_topics"]["astrology"] = [{"code": "stars", "label": "Stars"}]
    with pytest.raises(CatalogueError, match="unknown topics: astrology"):
        Catalogue(raw)
    raw = load_raw()
    raw["wrap_up"]["dispositions"] = [{"code": "Advice Given!", "label": "x"}]
    with pytest.raises(CatalogueError, match="wrap_up.dispositions"):
        Catalogue(raw)


def test_the_live_fragment_shows_my_wrap_up_counting_down(app, db, web):
    """The fragment the page polls shows the status stored now, with the wrap-up's end to count to."""
    me = add_person(app, db, "Maria", "consultant")
    log_in(web, "Maria")
    fresh = db.get(Staff, me.id)
    fresh.status, fresh.wrap_up_until = "wrap_up", utcnow() + timedelta(seconds=45)
    db.commit()
    live = _page(web, "/desk/live")
    assert "Wrap-up" in live and "data-until=" in live
