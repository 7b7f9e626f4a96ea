"""Callbacks for staff: the list and its counts, the backlog summary, one callback with the record
of the call that reached the caller, and supervisors reassigning, rescheduling and canceling."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from itertools import count
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from rq.job import Job
from sqlalchemy import select

from callbacks import schedule
from dashboards.days import day_start
from hotline import accounts
from hotline.models import Call, CallbackAttempt, CallEvent, ConsultationRecord, QueueEntry, Staff, utcnow
from hotline.models.callback import Callback
from tests.conftest import services_of
from tests.dashboards.api.test_api import assert_json_error, bearer
from tests.support.helpers import add_consultant, add_staff_with_token

SOFIA_TZ = ZoneInfo("Europe/Sofia")
NUMBER = "+359888777666"
_sids = count(1)


def booked(db, *, due_in: timedelta = timedelta(hours=1), due_at: datetime | None = None,
           state: str = "scheduled", language: str = "en", topic: str = "health", office: str = "sofia",
           number: str | None = NUMBER, assigned: Staff | None = None,
           closed_at: datetime | None = None) -> Callback:
    """A caller who rang ten minutes ago and asked to be called back: the call and the callback."""
    now = utcnow()
    call = Call(call_sid=f"CAcb{next(_sids):05d}", caller_number=number, office_code=office,
                language_code=language, topic_code=topic, stage="ended", outcome="no_consultant",
                started_at=now - timedelta(minutes=10), ended_at=now - timedelta(minutes=8))
    db.add(call)
    db.flush()
    callback = Callback(call_id=call.id, number=number, language_code=language, topic_code=topic,
                        office_code=office, first_rang_at=call.started_at, window_start=now,
                        window_end=now + timedelta(hours=8), due_at=due_at or now + due_in, state=state,
                        assigned_staff_id=assigned and assigned.id, closed_at=closed_at)
    db.add(callback)
    db.commit()
    return callback


def reread(db, callback: Callback) -> Callback:
    db.expire_all()
    return db.get(Callback, callback.id)


def journal(db, callback: Callback) -> list[tuple[str, int | None, str | None]]:
    db.expire_all()
    events = db.scalars(select(CallEvent).where(CallEvent.call_id == callback.call_id).order_by(CallEvent.id))
    return [(event.kind, event.consultant_id, event.detail) for event in events]


def in_queue(app, db, callback: Callback) -> QueueEntry:
    """Its time has come: the callback waits in the queue, as the wake-up job leaves it when nobody
    is free (pairing, which the job then tries, is left out here: these tests hold it still)."""
    with app.app_context(), mock.patch("routing.find_consultant", lambda *_args: None):
        entry = schedule.wake(db, callback.id, utcnow())
    assert entry is not None and entry.state == "waiting"
    assert reread(db, callback).state == "due"
    return entry


def scheduled_wake_ups(app) -> dict[str, datetime]:
    """RQ's scheduled jobs that wake a callback: job id -> when."""
    registry = services_of(app).queue().scheduled_job_registry
    jobs = {}
    for job_id in registry.get_job_ids():
        job = Job.fetch(job_id, connection=services_of(app).redis)
        if job.func_name == "callbacks.jobs.wake_job":
            jobs[job_id] = registry.get_scheduled_time(job)
    return jobs


@pytest.fixture
def supervisor(app, db) -> tuple[Staff, str]:
    return add_staff_with_token(app, db, "Desislava", role="supervisor")


@pytest.fixture
def admin(app, db) -> tuple[Staff, str]:
    return add_staff_with_token(app, db, "Admin", role="admin")


@pytest.fixture
def maria(app, db) -> tuple[Staff, str]:
    staff = add_consultant(app, db, "Maria", languages=["en", "bg"], topics=["health"], phone="+359888111222")
    return staff, accounts.issue_token(db, staff)


@pytest.fixture
def ivan(app, db) -> tuple[Staff, str]:
    staff = add_consultant(app, db, "Ivan", languages=["ru"], topics=["social"], office="burgas",
                           phone="+359888333444")
    return staff, accounts.issue_token(db, staff)


def listed(client, token: str, query: str = "") -> dict:
    response = client.get(f"/api/callbacks?{query}", headers=bearer(token))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def patch(client, token: str, callback: Callback | int, body):
    callback_id = callback if isinstance(callback, int) else callback.id
    return client.patch(f"/api/callbacks/{callback_id}", headers=bearer(token), json=body)


# --- access -----------------------------------------------------------------------------------

def test_callback_endpoints_need_a_token(client, db):
    for method, path in (("get", "/api/callbacks"), ("get", "/api/callbacks/summary"),
                         ("get", "/api/callbacks/1"), ("patch", "/api/callbacks/1")):
        assert_json_error(getattr(client, method)(path, json={"state": "canceled"}), 401)
        assert_json_error(getattr(client, method)(path, headers=bearer("nonsense"), json={}), 401)


def test_consultants_may_not_change_callbacks_even_their_own(client, db, maria):
    callback = booked(db, assigned=maria[0])
    for body in ({"state": "canceled"}, {"due_at": (utcnow() + timedelta(days=1)).isoformat()},
                 {"assigned_staff_id": None}):
        assert_json_error(patch(client, maria[1], callback, body), 403)
    stored = reread(db, callback)
    assert (stored.state, stored.assigned_staff_id, stored.closed_at) == ("scheduled", maria[0].id, None)
    assert journal(db, callback) == []


def test_unknown_callbacks_are_404_json(client, supervisor):
    token = supervisor[1]
    for path in ("/api/callbacks/999999", f"/api/callbacks/{10**20}"):
        assert_json_error(client.get(path, headers=bearer(token)), 404)
        assert_json_error(client.patch(path, headers=bearer(token), json={"state": "canceled"}), 404)
    assert_json_error(client.delete("/api/callbacks/1", headers=bearer(token)), 405)


# --- the list ---------------------------------------------------------------------------------

def test_list_shows_each_callback_with_its_attempts(client, db, supervisor, maria, ivan):
    callback = booked(db, assigned=maria[0])
    callback.attempts = 1
    started = utcnow() - timedelta(minutes=5)
    db.add_all([
        CallbackAttempt(callback_id=callback.id, number=1, staff_id=ivan[0].id, started_at=started,
                        ended_at=started + timedelta(seconds=20), outcome="consultant_no_answer"),
        CallbackAttempt(callback_id=callback.id, number=2, staff_id=maria[0].id,
                        started_at=started + timedelta(minutes=1), ended_at=started + timedelta(minutes=2),
                        outcome="caller_busy"),
    ])
    db.commit()
    data = listed(client, supervisor[1])
    [item] = data["callbacks"]
    call = db.get(Call, callback.call_id)
    assert item == {
        "id": callback.id, "call_id": call.id, "call_sid": call.call_sid, "language": "en", "topic": "health",
        "office": "sofia", "state": "scheduled", "attempts": 1, "due_at": callback.due_at.isoformat(),
        "window_start": callback.window_start.isoformat(), "window_end": callback.window_end.isoformat(),
        "first_rang_at": call.started_at.isoformat(), "created_at": callback.created_at.isoformat(),
        "closed_at": None, "assigned_staff_id": maria[0].id, "number": NUMBER,
        "attempt_history": [
            {"number": 1, "staff_id": ivan[0].id, "started_at": started.isoformat(),
             "ended_at": (started + timedelta(seconds=20)).isoformat(), "outcome": "consultant_no_answer"},
            {"number": 2, "staff_id": maria[0].id, "started_at": (started + timedelta(minutes=1)).isoformat(),
             "ended_at": (started + timedelta(minutes=2)).isoformat(), "outcome": "caller_busy"},
        ],
    }
    assert data["total"] == 1
    assert data["counts"] == {"draft": 0, "scheduled": 1, "due": 0, "in_progress": 0, "completed": 0,
                              "unreachable": 0, "canceled": 0}


def test_open_callbacks_soonest_first_history_latest_first(client, db, supervisor):
    now = utcnow()
    later = booked(db, due_at=now + timedelta(hours=3))
    sooner = booked(db, due_at=now + timedelta(hours=1))
    late = booked(db, due_at=now - timedelta(minutes=30), state="due")
    done = booked(db, due_at=now - timedelta(hours=2), state="completed", closed_at=now - timedelta(hours=1))
    booked(db, due_at=now, state="draft")  # the caller is still choosing: listed only by name

    def ids(query: str) -> list[int]:
        return [item["id"] for item in listed(client, supervisor[1], query)["callbacks"]]

    assert ids("state=open") == [late.id, sooner.id, later.id]
    assert ids("state=scheduled,due") == [late.id, sooner.id, later.id]
    assert ids("") == [later.id, sooner.id, late.id, done.id]
    assert ids("state=open,completed") == [later.id, sooner.id, late.id, done.id]
    assert ids("state=closed") == [done.id]
    assert len(ids("state=draft")) == 1
    assert ids("state=open&limit=2") == [late.id, sooner.id]
    assert ids("state=open&limit=2&offset=2") == [later.id]


def test_list_filters_and_the_counts_under_them(client, db, supervisor, maria):
    now = utcnow()
    en = booked(db, assigned=maria[0])
    ar = booked(db, language="ar", topic="residence")
    ru = booked(db, language="ru", topic="social", office="burgas", state="unreachable", closed_at=now)
    booked(db, language="ru", topic="social", office="burgas", state="canceled", closed_at=now)

    def ids(query: str) -> set[int]:
        return {item["id"] for item in listed(client, supervisor[1], query)["callbacks"]}

    assert ids("language=en") == {en.id}
    assert ids("topic=residence") == {ar.id}
    assert ids("office=burgas&state=unreachable") == {ru.id}
    assert ids(f"assigned={maria[0].id}") == {en.id}
    assert ids("assigned=none&state=open") == {ar.id}
    assert ids(f"assigned={10**30}") == set()
    assert ids("language=fa") == set()
    data = listed(client, supervisor[1], "office=burgas&state=unreachable")
    assert data["total"] == 1
    # Counted under every filter but the state: the tabs of a backlog view.
    assert data["counts"] == {"draft": 0, "scheduled": 0, "due": 0, "in_progress": 0, "completed": 0,
                              "unreachable": 1, "canceled": 1}
    assert listed(client, maria[1], "assigned=me")["callbacks"][0]["id"] == en.id


def test_dates_filter_due_at_in_whole_sofia_days(client, db, supervisor):
    first = booked(db, due_at=datetime(2026, 3, 1, 0, 30, tzinfo=SOFIA_TZ))  # 22:30 UTC on Feb 28
    last = booked(db, due_at=datetime(2026, 3, 31, 23, 59, tzinfo=SOFIA_TZ))
    booked(db, due_at=datetime(2026, 2, 28, 23, 59, tzinfo=SOFIA_TZ))
    booked(db, due_at=datetime(2026, 4, 1, 0, 0, tzinfo=SOFIA_TZ))
    found = listed(client, supervisor[1], "from=2026-03-01&to=2026-03-31")["callbacks"]
    assert [item["id"] for item in found] == [last.id, first.id]
    assert datetime.fromisoformat(found[1]["due_at"]) == datetime(2026, 2, 28, 22, 30, tzinfo=timezone.utc)


def test_bad_list_filters_are_400_json(client, supervisor):
    for query in ("state=waiting", "state=open,", "state=OPEN", "assigned=maria", "assigned=-1",
                  "from=2026-13-01", "to=yesterday", "limit=ten", "offset=-5", "language=e%00n"):
        assert_json_error(client.get(f"/api/callbacks?{query}", headers=bearer(supervisor[1])), 400)


# --- personal data ----------------------------------------------------------------------------

def test_the_number_is_for_supervisors_admins_and_the_assigned_consultant(client, db, supervisor, admin,
                                                                          maria, ivan):
    callback = booked(db, assigned=maria[0])
    for token in (supervisor[1], admin[1], maria[1]):
        assert listed(client, token)["callbacks"][0]["number"] == NUMBER
        one = client.get(f"/api/callbacks/{callback.id}", headers=bearer(token))
        assert one.get_json()["number"] == NUMBER
    for path in ("/api/callbacks", f"/api/callbacks/{callback.id}"):
        response = client.get(path, headers=bearer(ivan[1]))
        assert response.status_code == 200
        assert "777666" not in response.get_data(as_text=True)
    assert listed(client, ivan[1])["callbacks"][0]["number"] is None


def test_an_unassigned_callbacks_number_is_for_supervisors_only(client, db, supervisor, maria):
    booked(db)
    assert listed(client, supervisor[1])["callbacks"][0]["number"] == NUMBER
    assert listed(client, maria[1])["callbacks"][0]["number"] is None


# --- the summary ------------------------------------------------------------------------------

def test_summary_of_the_backlog(client, db, supervisor, maria):
    now = utcnow()
    yesterday = day_start(now.astimezone(SOFIA_TZ).date(), SOFIA_TZ) - timedelta(minutes=1)
    booked(db, due_in=timedelta(hours=2))
    overdue = booked(db, due_in=-timedelta(minutes=45))  # its wake-up job was lost: overdue
    booked(db, due_in=-timedelta(minutes=5), state="due")
    booked(db, due_in=-timedelta(minutes=2), state="in_progress")
    booked(db, due_in=-timedelta(hours=1), state="completed", closed_at=now - timedelta(seconds=1))
    booked(db, due_in=-timedelta(hours=1), state="unreachable", closed_at=now - timedelta(seconds=1))
    booked(db, due_in=-timedelta(hours=1), state="unreachable", closed_at=now - timedelta(seconds=2))
    booked(db, due_in=-timedelta(days=2), state="unreachable", closed_at=yesterday)
    booked(db, state="draft")
    booked(db, language="ru", topic="social", office="burgas", due_in=-timedelta(minutes=1))

    for token in (supervisor[1], maria[1]):
        response = client.get("/api/callbacks/summary", headers=bearer(token))
        assert response.status_code == 200
        data = response.get_json()
        assert data["open"] == {"scheduled": 3, "due": 1, "in_progress": 1}
        assert (data["open_total"], data["overdue"]) == (5, 3)
        assert datetime.fromisoformat(data["oldest_overdue_due_at"]) == overdue.due_at
        assert (data["completed_today"], data["unreachable_today"], data["canceled_today"]) == (1, 2, 0)
        assert data["day"] == now.astimezone(SOFIA_TZ).date().isoformat()
        assert data["time_zone"] == "Europe/Sofia"
    burgas = client.get("/api/callbacks/summary?office=burgas", headers=bearer(supervisor[1])).get_json()
    assert (burgas["open_total"], burgas["overdue"], burgas["unreachable_today"]) == (1, 1, 0)


def test_summary_with_nothing_booked(client, supervisor):
    data = client.get("/api/callbacks/summary", headers=bearer(supervisor[1])).get_json()
    assert data["open"] == {"scheduled": 0, "due": 0, "in_progress": 0}
    assert (data["overdue"], data["oldest_overdue_due_at"], data["completed_today"]) == (0, None, 0)


# --- one callback -----------------------------------------------------------------------------

def test_one_callback_with_the_record_of_the_call_that_reached_the_caller(client, db, supervisor, maria,
                                                                         ivan):
    now = utcnow()
    callback = booked(db, due_in=-timedelta(minutes=20), state="completed", closed_at=now)
    original = db.get(Call, callback.call_id)
    back = Call(call_sid="CAreturn1", direction="outbound-api", caller_number=NUMBER, office_code="sofia",
                language_code="en", topic_code="health", stage="ended", outcome="answered",
                consultant_id=maria[0].id, started_at=now - timedelta(minutes=15),
                answered_at=now - timedelta(minutes=14), ended_at=now - timedelta(minutes=2),
                duration_seconds=780, original_call_id=original.id)
    db.add(back)
    db.flush()
    record = ConsultationRecord(call_id=back.id, language_code="en", topic_code="health", office_code="sofia",
                                consultant_id=maria[0].id, outcome="answered",
                                notes="needs a GP registration", started_at=back.started_at)
    db.add(record)
    callback.return_call_id = back.id
    db.commit()

    data = client.get(f"/api/callbacks/{callback.id}", headers=bearer(supervisor[1])).get_json()
    assert (data["id"], data["call_id"], data["call_sid"], data["state"]) == \
        (callback.id, original.id, original.call_sid, "completed")
    assert data["return_call"] == {
        "id": back.id, "call_sid": "CAreturn1", "original_call_id": original.id, "consultant_id": maria[0].id,
        "outcome": "answered", "started_at": back.started_at.isoformat(),
        "answered_at": back.answered_at.isoformat(), "ended_at": back.ended_at.isoformat(),
        "duration_seconds": 780}
    consultation = data["consultation"]
    assert (consultation["id"], consultation["call_sid"], consultation["consultant_id"]) == \
        (record.id, "CAreturn1", maria[0].id)
    assert consultation["notes"] == "needs a GP registration"
    # Another consultant sees the link, not the notes (nor the number).
    theirs = client.get(f"/api/callbacks/{callback.id}", headers=bearer(ivan[1]))
    assert theirs.get_json()["consultation"]["id"] == record.id
    assert "notes" not in theirs.get_json()["consultation"]
    assert "GP registration" not in theirs.get_data(as_text=True)
    assert "777666" not in theirs.get_data(as_text=True)


def test_a_callback_not_yet_made_has_no_return_call(client, db, supervisor):
    callback = booked(db)
    data = client.get(f"/api/callbacks/{callback.id}", headers=bearer(supervisor[1])).get_json()
    assert (data["return_call"], data["consultation"], data["attempt_history"]) == (None, None, [])


# --- canceling --------------------------------------------------------------------------------

def test_supervisor_cancels_a_scheduled_callback(client, db, supervisor):
    callback = booked(db)
    response = patch(client, supervisor[1], callback, {"state": "canceled"})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["state"] == "canceled"
    stored = reread(db, callback)
    assert stored.state == "canceled"
    assert abs((utcnow() - stored.closed_at).total_seconds()) < 10
    assert response.get_json()["closed_at"] == stored.closed_at.isoformat()
    assert journal(db, callback) == [("callback_canceled", supervisor[0].id, None)]
    # Canceled already: nothing to cancel.
    assert_json_error(patch(client, supervisor[1], callback, {"state": "canceled"}), 409)
    assert journal(db, callback) == [("callback_canceled", supervisor[0].id, None)]


def test_canceling_a_callback_in_the_queue_takes_it_out(app, client, db, admin):
    callback = booked(db, due_in=-timedelta(minutes=1))
    entry = in_queue(app, db, callback)
    assert patch(client, admin[1], callback, {"state": "canceled"}).status_code == 200
    db.expire_all()
    assert db.get(QueueEntry, entry.id).state == "left"
    assert reread(db, callback).state == "canceled"


@pytest.mark.parametrize("state", ["in_progress", "completed", "unreachable"])
def test_a_callback_being_placed_or_closed_cannot_be_changed(client, db, supervisor, maria, state):
    closed_at = utcnow() if state != "in_progress" else None
    callback = booked(db, due_in=-timedelta(minutes=1), state=state, closed_at=closed_at)
    jobs_before = scheduled_wake_ups(client.application)
    for body in ({"state": "canceled"}, {"due_at": (utcnow() + timedelta(days=1)).isoformat()},
                 {"assigned_staff_id": maria[0].id}):
        error = assert_json_error(patch(client, supervisor[1], callback, body), 409)
        assert state.replace("in_progress", "being placed") in error["error"]
    stored = reread(db, callback)
    assert (stored.state, stored.closed_at, stored.assigned_staff_id) == (state, closed_at, None)
    assert scheduled_wake_ups(client.application) == jobs_before
    assert journal(db, callback) == []


# --- rescheduling -----------------------------------------------------------------------------

def test_supervisor_reschedules_a_callback_and_its_wake_up_is_scheduled(app, client, db, supervisor):
    callback = booked(db)
    to = (utcnow() + timedelta(days=2)).replace(microsecond=0).astimezone(SOFIA_TZ)
    response = patch(client, supervisor[1], callback, {"due_at": to.isoformat()})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert datetime.fromisoformat(response.get_json()["due_at"]) == to
    stored = reread(db, callback)
    assert (stored.due_at, stored.state) == (to, "scheduled")
    job_id = f"callback_{callback.id}_1_{int(to.timestamp())}"
    # RQ's scheduler starts the job that wakes every callback due then, and this one's own job
    # a little later, should that one be lost.
    assert scheduled_wake_ups(app) == {job_id: to + schedule.WAKE_FALLBACK}
    job = Job.fetch(job_id, connection=services_of(app).redis)
    assert job.args == (callback.id,)
    batch = Job.fetch(f"callbacks_due_{int(to.timestamp())}", connection=services_of(app).redis)
    assert batch.func_name == "callbacks.jobs.wake_due_job"
    assert services_of(app).queue().scheduled_job_registry.get_scheduled_time(batch) == to
    assert journal(db, callback) == [
        ("callback_rescheduled", supervisor[0].id, to.astimezone(timezone.utc).isoformat())]


def test_rescheduling_a_callback_in_the_queue_takes_it_out_until_then(app, client, db, supervisor):
    callback = booked(db, due_in=-timedelta(minutes=3))
    entry = in_queue(app, db, callback)
    to = (utcnow() + timedelta(hours=5)).replace(microsecond=0)
    assert patch(client, supervisor[1], callback, {"due_at": to.isoformat()}).status_code == 200
    db.expire_all()
    assert db.get(QueueEntry, entry.id).state == "left"
    stored = reread(db, callback)
    assert (stored.state, stored.due_at) == ("scheduled", to)
    assert list(scheduled_wake_ups(app)) == [f"callback_{callback.id}_1_{int(to.timestamp())}"]


def test_a_callback_whose_consultant_is_being_rung_cannot_be_moved(app, client, db, supervisor, maria):
    from routing import queues

    callback = booked(db, due_in=-timedelta(minutes=3))
    entry = in_queue(app, db, callback)
    assert queues.claim(db, entry.id, maria[0].id, utcnow())  # Maria's phone rings for it
    before = reread(db, callback).due_at
    error = assert_json_error(patch(client, supervisor[1], callback,
                                    {"due_at": (utcnow() + timedelta(hours=1)).isoformat()}), 409)
    assert "being rung" in error["error"]
    assert_json_error(patch(client, supervisor[1], callback, {"assigned_staff_id": None}), 409)
    stored = reread(db, callback)
    assert (stored.state, stored.due_at) == ("due", before)
    db.expire_all()
    assert db.get(QueueEntry, entry.id).state == "offered"
    assert scheduled_wake_ups(app) == {}


def test_bad_due_at_is_400_json(client, db, supervisor):
    callback = booked(db)
    now = utcnow()
    for due_at in ((now - timedelta(minutes=1)).isoformat(), (now + timedelta(days=366)).isoformat(),
                   (now + timedelta(days=1)).replace(tzinfo=None).isoformat(), "2026-11-25", "tomorrow", "",
                   12345, None, True, ["2030-01-01T10:00:00+02:00"], "9999-12-31T23:59:59-23:59",
                   "0001-01-01T00:00:00+23:59", "2030-01-01T10:00:00+02:00\x00"):
        assert_json_error(patch(client, supervisor[1], callback, {"due_at": due_at}), 400)
    assert reread(db, callback).due_at == callback.due_at
    assert scheduled_wake_ups(client.application) == {}


# --- reassigning ------------------------------------------------------------------------------

def test_supervisor_gives_a_callback_to_a_consultant_and_back_to_anyone(client, db, supervisor, maria):
    callback = booked(db)
    response = patch(client, supervisor[1], callback, {"assigned_staff_id": maria[0].id})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["assigned_staff_id"] == maria[0].id
    stored = reread(db, callback)
    assert (stored.assigned_staff_id, stored.state, stored.due_at) == \
        (maria[0].id, "scheduled", callback.due_at)
    response = patch(client, supervisor[1], callback, {"assigned_staff_id": None})
    assert response.get_json()["assigned_staff_id"] is None
    assert reread(db, callback).assigned_staff_id is None
    assert journal(db, callback) == [("callback_reassigned", supervisor[0].id, str(maria[0].id)),
                                     ("callback_reassigned", supervisor[0].id, None)]


def test_a_queued_callback_is_queued_again_for_its_consultant_keeping_its_place(app, client, db, supervisor,
                                                                               maria):
    callback = booked(db, due_in=-timedelta(minutes=3))
    entry = in_queue(app, db, callback)
    assert patch(client, supervisor[1], callback, {"assigned_staff_id": maria[0].id}).status_code == 200
    db.expire_all()
    assert db.get(QueueEntry, entry.id).state == "left"
    [again] = db.scalars(select(QueueEntry).where(QueueEntry.callback_id == callback.id,
                                                  QueueEntry.state.in_(("waiting", "offered"))))
    assert again.id != entry.id
    assert (again.assigned_staff_id, again.first_rang_at) == (maria[0].id, entry.first_rang_at)
    # Maria is free: the queue puts the callback straight to her, and nobody else.
    assert (again.state, again.offered_staff_id) == ("offered", maria[0].id)
    assert reread(db, callback).state == "due"


def test_only_someone_routing_can_ring_in_the_callbacks_language(app, client, db, supervisor, maria, ivan):
    callback = booked(db)
    leaver = add_consultant(app, db, "Leaver", languages=["en"], topics=["health"])
    leaver.active = False
    db.commit()
    no_phone = supervisor[0]  # speaks English, has no phone: never rung
    for value in (ivan[0].id, leaver.id, no_phone.id, 999999, 10**20, 0, -1, True, "5", str(maria[0].id),
                  float(maria[0].id), [maria[0].id], {"id": maria[0].id}):
        assert_json_error(patch(client, supervisor[1], callback, {"assigned_staff_id": value}), 400)
    assert reread(db, callback).assigned_staff_id is None
    # Another topic, the same language: routing gives it to them once its wait is widened.
    other_topic = add_consultant(app, db, "Other topic", languages=["en"], topics=["residence"])
    assert patch(client, supervisor[1], callback, {"assigned_staff_id": other_topic.id}).status_code == 200


def test_moved_and_given_at_once(app, client, db, supervisor, maria):
    callback = booked(db, due_in=-timedelta(minutes=3))
    entry = in_queue(app, db, callback)
    to = (utcnow() + timedelta(days=1)).replace(microsecond=0)
    response = patch(client, supervisor[1], callback,
                     {"due_at": to.isoformat(), "assigned_staff_id": maria[0].id})
    assert response.status_code == 200, response.get_data(as_text=True)
    stored = reread(db, callback)
    assert (stored.state, stored.due_at, stored.assigned_staff_id) == ("scheduled", to, maria[0].id)
    # Out of the queue until then, and not queued again for her now.
    assert db.scalars(select(QueueEntry.id).where(QueueEntry.callback_id == callback.id)).all() == [entry.id]
    assert db.get(QueueEntry, entry.id).state == "left"
    assert list(scheduled_wake_ups(app)) == [f"callback_{callback.id}_1_{int(to.timestamp())}"]
    assert [kind for kind, _, _ in journal(db, callback)] == ["callback_rescheduled", "callback_reassigned"]


# --- bad requests -----------------------------------------------------------------------------

def test_bad_changes_are_400_json_and_change_nothing(client, db, supervisor, maria):
    callback = booked(db)
    later = (utcnow() + timedelta(days=1)).isoformat()
    for body in ([], "canceled", {}, {"colour": "red"}, {"state": "completed"}, {"state": "scheduled"},
                 {"state": None}, {"state": ["canceled"]}, {"state": "canceled", "due_at": later},
                 {"state": "canceled", "assigned_staff_id": maria[0].id},
                 {"due_at": later, "assigned_staff_id": maria[0].id, "note": "x"},
                 {"due_at": later, "assigned_staff_id": "Maria"},  # nothing moved when one part is bad
                 {"due_at": "soon", "assigned_staff_id": maria[0].id}):
        assert_json_error(patch(client, supervisor[1], callback, body), 400)
    path = f"/api/callbacks/{callback.id}"
    assert_json_error(client.patch(path, headers=bearer(supervisor[1]), data="null",
                                   content_type="application/json"), 400)
    assert_json_error(client.patch(path, headers=bearer(supervisor[1])), 415)  # no body
    form = client.patch(f"/api/callbacks/{callback.id}", headers=bearer(supervisor[1]), data="state=canceled",
                        content_type="application/x-www-form-urlencoded")
    assert_json_error(form, 415)
    stored = reread(db, callback)
    assert (stored.state, stored.due_at, stored.assigned_staff_id) == ("scheduled", callback.due_at, None)
    assert scheduled_wake_ups(client.application) == {}
    assert journal(db, callback) == []


def test_changes_are_logged_without_the_number(client, db, supervisor, caplog):
    caplog.set_level(logging.DEBUG)
    callback = booked(db)
    patch(client, supervisor[1], callback, {"due_at": (utcnow() + timedelta(hours=2)).isoformat()})
    patch(client, supervisor[1], callback, {"state": "canceled"})
    assert f"callback {callback.id} canceled by staff {supervisor[0].id}" in caplog.text
    assert "777666" not in caplog.text


def test_a_supervisor_may_mark_a_waiting_callback_urgent(app, client, db, supervisor):
    """A callback's queue entry has no call of its own: the mark is journalled on the original call."""
    callback = booked(db, due_in=-timedelta(minutes=3))
    entry = in_queue(app, db, callback)
    response = client.patch(f"/api/queue-entries/{entry.id}", json={"urgent": True},
                            headers={"Authorization": f"Bearer {supervisor[1]}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    db.expire_all()
    assert db.get(QueueEntry, entry.id).urgent is True
    kinds = db.scalars(select(CallEvent.kind).where(CallEvent.call_id == callback.call_id))
    assert "marked_urgent" in list(kinds)
